"""pm2 from npm, never installed by the harness on its own: it is looked for in $NIXPM_BENCH_PM2 (the
pm2 executable), then in ~/.cache/nixpm-bench/pm2 (where `bench/run --install-pm2` puts it), then on
PATH. PM2_HOME points into the work directory, so the pm2 daemon ("God") and its files are ours alone."""

import json
import os
import shutil
import subprocess

from .base import Manager, Unavailable

CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "nixpm-bench", "pm2")


def pm2_executable():
    explicit = os.environ.get("NIXPM_BENCH_PM2")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    cached = os.path.join(CACHE_DIR, "node_modules", ".bin", "pm2")
    if os.access(cached, os.X_OK):
        return cached
    return shutil.which("pm2")


def install_pm2():
    """npm install pm2 into the cache directory (only when asked: --install-pm2)."""
    if not shutil.which("npm"):
        raise Unavailable("npm not found (apt-get install npm) to install pm2")
    os.makedirs(CACHE_DIR, exist_ok=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", CACHE_DIR, "pm2"], check=True)


class Pm2(Manager):
    name = "pm2"
    commands = {
        "start": "pm2 start ecosystem.json (interpreter none, fork mode, autorestart)",
        "status": "pm2 jlist",
        "stop": "pm2 stop all",
        "restart": "built in (autorestart)",
    }

    @classmethod
    def check_available(cls, tools):
        if not pm2_executable():
            raise Unavailable("pm2 not installed (bench/run --install-pm2 puts it in ~/.cache/nixpm-bench)")
        if not shutil.which("node"):
            raise Unavailable("node not found")

    @classmethod
    def version(cls, tools):
        # Never `pm2 --version`: it starts a daemon in ~/.pm2.
        exe = os.path.realpath(pm2_executable())
        package = os.path.join(os.path.dirname(os.path.dirname(exe)), "package.json")
        try:
            with open(package) as f:
                version = json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            version = "?"
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        return f"pm2 {version} (node {node})"

    def prepare(self, workload):
        self.workload = workload
        self.pm2 = pm2_executable()
        self.home = self.path("pm2home")
        os.makedirs(self.home)
        apps = [{"name": name, "script": workload.announce, "args": [name], "interpreter": "none",
                 "exec_mode": "fork", "autorestart": True, "env": {"BENCH_FIFO": workload.fifo}}
                for name in workload.names]
        self.ecosystem = self.path("ecosystem.json")
        with open(self.ecosystem, "w") as f:
            json.dump({"apps": apps}, f)
        self.ctl_env = self.env(workload, PM2_HOME=self.home)
        self._god = None

    def launch(self):
        # The CLI starts the daemon and hands it the apps; the daemon is what we measure afterwards.
        self.cli = self.popen([self.pm2, "start", self.ecosystem], self.ctl_env, "pm2-start.out")

    def supervisor_pid(self):
        if self._god is None:
            try:
                with open(os.path.join(self.home, "pm2.pid")) as f:
                    self._god = int(f.read().strip())
            except (OSError, ValueError):
                return None
        return self._god

    def settle(self, timeout):
        """Waits for the `pm2 start` CLI to finish (it may outlive the start of the apps)."""
        try:
            self.cli.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass

    def status_argv(self):
        return [self.pm2, "jlist"]

    def status_names(self, output):
        try:
            apps = json.loads(output[output.index("["):])
        except ValueError:
            return set()
        return {a.get("name") for a in apps if a.get("pm2_env", {}).get("status") == "online"}

    def stop_all(self):
        self.run([self.pm2, "stop", "all"])

    def shutdown(self):
        self.run([self.pm2, "kill"], check=False, timeout=120)
        if self.cli.poll() is None:
            self.cli.kill()
            self.cli.wait()
