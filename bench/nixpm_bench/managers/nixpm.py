"""nixpmd in user mode on its own XDG directories, driven by nixpmctl."""

import json
import os
import re
import signal
import subprocess

from .base import Manager, Unavailable


def definitions_yaml(workload):
    """Generated definitions: one constructor, N invocations (a chain when asked). Names are plain
    words, so the YAML needs no quoting."""
    lines = [
        "constructors:",
        "  announcer:",
        f"    process: {json.dumps(workload.announce)}",
        '    args: ["${instanceName}"]',
        "instances:",
    ]
    previous = None
    for name in workload.names:
        if workload.chain and previous:
            lines.append(f"  {name}: {{ constructor: announcer, dependencies: [{previous}] }}")
        else:
            lines.append(f"  {name}: {{ constructor: announcer }}")
        previous = name
    return "\n".join(lines) + "\n"


class Nixpm(Manager):
    name = "nixpm"
    build_dir = None  # a variant's build directory; None: the harness's --build-dir
    daemon_args = ()  # a variant's extra nixpmd arguments
    supports_chain = True
    commands = {
        "start": "nixpmd --user -c processes.yaml (generated: one constructor, N instances)",
        "status": "nixpmctl --user status",
        "stop": "nixpmctl --user stop NAME... (all N)",
        "chain": "each instance lists the previous one in `dependencies`",
        "restart": "built in (restart policy on-failure)",
    }

    @classmethod
    def binaries(cls, tools):
        if cls.build_dir is None:
            return tools.nixpmd, tools.nixpmctl
        return (os.path.join(cls.build_dir, "daemon", "nixpmd"), os.path.join(cls.build_dir, "client", "nixpmctl"))

    @classmethod
    def variant(cls, label, build_dir, daemon_args=()):
        """Another build of nixpm (or other nixpmd arguments) under its own name, to compare in one run."""
        commands = dict(cls.commands, start=" ".join(["nixpmd --user -c processes.yaml", *daemon_args]) +
                        f" (build {build_dir})")
        return type(f"Nixpm_{label}", (cls,), {"name": label, "build_dir": os.path.abspath(build_dir),
                                                "daemon_args": tuple(daemon_args), "commands": commands})

    @classmethod
    def check_available(cls, tools):
        for binary in cls.binaries(tools):
            if not os.access(binary, os.X_OK):
                raise Unavailable(f"{binary} is not built")

    @classmethod
    def version(cls, tools):
        out = subprocess.run([cls.binaries(tools)[0], "--version"], capture_output=True, text=True).stdout.strip()
        return out or "?"

    def prepare(self, workload):
        self.workload = workload
        self.nixpmd, self.nixpmctl = self.binaries(self.tools)
        self.config = self.path("processes.yaml")
        with open(self.config, "w") as f:
            f.write(definitions_yaml(workload))
        os.makedirs(self.path("run"), mode=0o700, exist_ok=True)
        extra = {
            "XDG_RUNTIME_DIR": self.path("run"),
            "XDG_STATE_HOME": self.path("state"),
            "XDG_CONFIG_HOME": self.path("config"),
        }
        self.daemon_env = self.env(workload, **extra)
        for key in ("NIXPM_SOCKET", "NIXPROC_STATE_DIR", "NIXPROC_RUNTIME_DIR", "NIXPROC_LOG_DIR",
                    "NIXPROC_TMP_DIR", "NIXPROC_CACHE_DIR"):
            self.daemon_env.pop(key, None)
        self.ctl_env = dict(self.daemon_env)

    def launch(self):
        self.process = self.popen([self.nixpmd, "--user", "-c", self.config, *self.daemon_args], self.daemon_env, "nixpmd.log")

    def status_argv(self):
        return [self.nixpmctl, "--user", "status"]

    def status_names(self, output):
        return set(re.findall(r"^\s*(\S+)\s+running\b", output, re.M))

    def stop_all(self):
        self.run([self.nixpmctl, "--user", "stop", *self.workload.names])

    def shutdown(self):
        self.terminate_main(signal.SIGTERM)

    def check_argv(self):
        return [self.nixpmctl, "--user", "check", "-c", self.config]
