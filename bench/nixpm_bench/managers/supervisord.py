"""supervisord (Debian's `supervisor`) on its own configuration, socket and log directory."""

import os
import re
import shutil
import signal
import subprocess

from .base import Manager, Unavailable


class Supervisord(Manager):
    name = "supervisord"
    commands = {
        "start": "supervisord -n -c supervisord.conf (one [program:x] per service, defaults otherwise)",
        "status": "supervisorctl -c supervisord.conf status",
        "stop": "supervisorctl -c supervisord.conf stop all",
        "restart": "built in (autorestart=true)",
    }

    @classmethod
    def check_available(cls, tools):
        for binary in ("supervisord", "supervisorctl"):
            if not shutil.which(binary):
                raise Unavailable(f"{binary} not found (apt-get install supervisor)")

    @classmethod
    def version(cls, tools):
        out = subprocess.run(["supervisord", "--version"], capture_output=True, text=True).stdout.strip()
        return f"supervisord {out}"

    def prepare(self, workload):
        self.workload = workload
        self.conf = self.path("supervisord.conf")
        socket = self.path("supervisor.sock")
        # supervisord closes descriptors 3..minfds in each child and refuses to run with fewer: with
        # three descriptors per program it needs minfds raised for N=1000, as a user would have to.
        minfds = max(1024, 4 * len(workload.names) + 64)
        parts = [
            "[unix_http_server]", f"file={socket}", "chmod=0700", "",
            "[supervisord]", f"logfile={self.path('supervisord.log')}", f"pidfile={self.path('supervisord.pid')}",
            f"childlogdir={self.path('childlogs')}", "nodaemon=true", f"minfds={minfds}",
            f"minprocs={max(200, len(workload.names) + 64)}", "user=root" if os.geteuid() == 0 else "", "",
            "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]", f"serverurl=unix://{socket}", "",
        ]
        for name in workload.names:
            parts += [f"[program:{name}]", f"command={workload.announce} {name}", "autorestart=true", ""]
        os.makedirs(self.path("childlogs"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("\n".join(parts))
        self.ctl_env = self.env(workload)

    def launch(self):
        self.process = self.popen(["supervisord", "-n", "-c", self.conf], self.ctl_env, "supervisord.out")

    def status_argv(self):
        return ["supervisorctl", "-c", self.conf, "status"]

    def status_names(self, output):
        return set(re.findall(r"^(\S+)\s+RUNNING\b", output, re.M))

    def stop_all(self):
        self.run(["supervisorctl", "-c", self.conf, "stop", "all"])

    def shutdown(self):
        self.terminate_main(signal.SIGTERM)

