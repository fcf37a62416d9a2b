"""runit: runsvdir on a service directory, one runsv per service, driven by sv."""

import os
import re
import shutil
import signal
import subprocess

from .base import Manager, Unavailable


class Runit(Manager):
    name = "runit"
    has_helpers = True
    commands = {
        "start": "runsvdir -P service/ (each service/NAME/run is a symlink to the announcer)",
        "status": "sv status DIR... (all N in one call)",
        "stop": "sv -w 60 down DIR... (all N in one call)",
        "restart": "runsv restarts ./run when it exits",
    }

    @classmethod
    def check_available(cls, tools):
        for binary in ("runsvdir", "runsv", "sv"):
            if not shutil.which(binary):
                raise Unavailable(f"{binary} not found (apt-get install runit)")

    @classmethod
    def version(cls, tools):
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "runit"], capture_output=True, text=True)
        return f"runit {out.stdout.strip() or '?'}"

    def prepare(self, workload):
        self.workload = workload
        self.service_dir = self.path("service")
        os.makedirs(self.service_dir)
        self.dirs = []
        for name in workload.names:
            directory = os.path.join(self.service_dir, name)
            os.mkdir(directory)
            os.symlink(workload.announce, os.path.join(directory, "run"))
            self.dirs.append(directory)
        self.ctl_env = self.env(workload)

    def launch(self):
        self.process = self.popen(["runsvdir", "-P", self.service_dir], self.ctl_env, "runsvdir.out")

    def status_argv(self):
        return ["sv", "status", *self.dirs]

    def status_names(self, output):
        return set(m.rsplit("/", 1)[-1] for m in re.findall(r"^run: (\S+):", output, re.M))

    def stop_all(self):
        self.run(["sv", "-w", "60", "down", *self.dirs])

    def shutdown(self):
        # SIGHUP: runsvdir sends TERM to every runsv (each stops its service and exits), then exits.
        self.terminate_main(signal.SIGHUP)
