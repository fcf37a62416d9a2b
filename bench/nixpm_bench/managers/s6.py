"""s6: s6-svscan on a scan directory, one s6-supervise per service, driven by s6-svc and s6-svstat."""

import os
import re
import shutil
import signal
import subprocess

from .base import Manager, Unavailable

# s6-svc and s6-svstat take one service directory each; without s6-rc, a loop is how all N are reached.
STATUS_LOOP = 'for d do printf "%s: " "${d##*/}"; s6-svstat "$d" || exit; done'
STOP_LOOP = 'for d do s6-svc -d "$d" || exit; done'


class S6(Manager):
    name = "s6"
    has_helpers = True
    commands = {
        "start": "s6-svscan -c MAX scan/ (each scan/NAME/run is a symlink to the announcer)",
        "status": "sh -c 'for d do s6-svstat $d; done' (one s6-svstat per service: it takes one directory)",
        "stop": "sh -c 'for d do s6-svc -d $d; done' (one s6-svc per service)",
        "restart": "s6-supervise restarts ./run when it exits",
    }

    @classmethod
    def check_available(cls, tools):
        for binary in ("s6-svscan", "s6-supervise", "s6-svc", "s6-svstat"):
            if not shutil.which(binary):
                raise Unavailable(f"{binary} not found (apt-get install s6)")

    @classmethod
    def version(cls, tools):
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "s6"], capture_output=True, text=True)
        return f"s6 {out.stdout.strip() or '?'}"

    def prepare(self, workload):
        self.workload = workload
        self.scan_dir = self.path("scan")
        os.makedirs(self.scan_dir)
        self.dirs = []
        for name in workload.names:
            directory = os.path.join(self.scan_dir, name)
            os.mkdir(directory)
            os.symlink(workload.announce, os.path.join(directory, "run"))
            self.dirs.append(directory)
        self.ctl_env = self.env(workload)

    def launch(self):
        # -c: s6-svscan supervises at most 500 services unless told otherwise.
        limit = str(max(500, 2 * len(self.workload.names)))
        self.process = self.popen(["s6-svscan", "-c", limit, self.scan_dir], self.ctl_env, "s6-svscan.out")

    def status_argv(self):
        return ["sh", "-c", STATUS_LOOP, "sh", *self.dirs]

    def status_names(self, output):
        return set(re.findall(r"^(\S+): up\b", output, re.M))

    def stop_all(self):
        self.run(["sh", "-c", STOP_LOOP, "sh", *self.dirs])

    def shutdown(self):
        # SIGTERM is s6-svscanctl -t: every s6-supervise brings its service down and exits, then s6-svscan.
        self.terminate_main(signal.SIGTERM)
