"""Login start (packaging/login/): the profile snippet starts one `nixpmd --user` per user however
many logins run it, detached from the login session; the systemd user unit passes
`systemd-analyze verify`; the XDG autostart entry is well-formed and runs the installed snippet.

The files are tested as `cmake --install` puts them into a temporary prefix, with the installed
binaries first on PATH, so the paths they name are the installed ones."""

import configparser
import json
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import pid_alive, wait_until

BUILD_DIR = os.environ.get("NIXPM_BUILD_DIR")

DEFINITIONS = """
instances:
  ticker:
    process: /bin/sleep
    args: ["600"]
  after-ticker:
    process: /bin/sleep
    args: ["600"]
    dependencies: [ticker]
"""


def read_proc(pid, name):
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return None


def processes_with_environment(marker):
    """pid -> (command name, parent pid, session id) of every process whose environment holds `marker`
    (a NAME=value entry only this test sets)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        environ = read_proc(entry, "environ")
        stat = read_proc(entry, "stat")
        if environ is None or stat is None or marker.encode() not in environ.split(b"\0"):
            continue
        name = stat[stat.index(b"(") + 1:stat.rindex(b")")].decode()
        fields = stat[stat.rindex(b")") + 2:].split()
        if fields[0] == b"Z":
            continue
        found[int(entry)] = (name, int(fields[1]), int(fields[3]))
    return found


@unittest.skipUnless(BUILD_DIR, "NIXPM_BUILD_DIR names the build to install (set by CTest)")
class LoginStart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nixpm-login-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        result = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        cls.login_dir = os.path.join(cls.prefix, "share", "nixpm", "login")
        cls.snippet = os.path.join(cls.login_dir, "nixpm-login.sh")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
        self.marker = f"NIXPM_LOGIN_TEST={self.home}"
        self.env = {
            "HOME": self.home,
            "PATH": os.path.join(self.prefix, "bin") + ":/usr/bin:/bin",
            "XDG_RUNTIME_DIR": os.path.join(self.home, "runtime"),
            "XDG_STATE_HOME": os.path.join(self.home, "state"),
            "XDG_CONFIG_HOME": os.path.join(self.home, "config"),
            "NIXPM_LOGIN_TEST": self.home,
        }
        os.makedirs(self.env["XDG_RUNTIME_DIR"], mode=0o700)
        self.config = os.path.join(self.env["XDG_CONFIG_HOME"], "nixpm", "processes.yaml")
        self.addCleanup(self.end_leftovers)

    def end_leftovers(self):
        # Only processes carrying this test's marker in their environment, by pid.
        for pid in processes_with_environment(self.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def write_definitions(self):
        os.makedirs(os.path.dirname(self.config))
        with open(self.config, "w") as f:
            f.write(DEFINITIONS)

    def login(self):
        """One login: a shell sources the snippet, as ~/.profile would, then ends."""
        result = subprocess.run(["sh", "-c", f". {shlex.quote(self.snippet)}"], env=self.env, capture_output=True,
                                text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        return result

    def ctl(self, *args):
        return subprocess.run(["nixpmctl", "--user", *args], env=self.env, capture_output=True, text=True, timeout=60)

    def daemons(self):
        return {pid: info for pid, info in processes_with_environment(self.marker).items() if info[0] == "nixpmd"}

    def settled(self):
        """The daemons once every login's background start has finished: each process left is a nixpmd
        or an instance of one (nothing is still on its way to becoming a second daemon)."""
        procs = processes_with_environment(self.marker)
        daemons = {pid for pid, info in procs.items() if info[0] == "nixpmd"}
        if not daemons or any(info[1] not in daemons and pid not in daemons for pid, info in procs.items()):
            return None
        return daemons

    def daemon_log(self):
        try:
            with open(os.path.join(self.env["XDG_STATE_HOME"], "nixpm", "nixpmd.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def test_two_logins_leave_one_detached_daemon(self):
        self.write_definitions()
        self.login()
        self.login()
        daemons = wait_until(self.settled, what="the logins' background starts to settle")
        self.assertEqual(len(daemons), 1, self.daemon_log())
        (daemon,) = daemons
        _, _, session = self.daemons()[daemon]
        # setsid: a session of its own, so the hangup at the end of a login session does not reach it.
        self.assertEqual(session, daemon)

        def running():
            result = self.ctl("status", "--json")
            if result.returncode != 0:
                return None
            states = {i["name"]: i["state"] for i in json.loads(result.stdout)["instances"]}
            return states if set(states.values()) == {"running"} else None
        self.assertEqual(wait_until(running, what="both instances running"),
                         {"ticker": "running", "after-ticker": "running"})

        # A third login while the daemon answers returns at once and starts nothing.
        self.login()
        self.assertEqual(set(self.daemons()), {daemon})

        result = self.ctl("shutdown")
        self.assertEqual(result.returncode, 0, result.stderr)
        wait_until(lambda: not pid_alive(daemon), what="nixpmd to exit after shutdown")
        wait_until(lambda: not processes_with_environment(self.marker), what="the instances to end")
        self.assertNotIn("another nixpmd", self.daemon_log())

    def test_login_without_definitions_starts_nothing(self):
        started = time.monotonic()
        self.login()
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(processes_with_environment(self.marker), {})
        self.assertFalse(os.path.exists(os.path.join(self.env["XDG_STATE_HOME"], "nixpm")))

    def test_snippet_is_posix_sh(self):
        self.assertEqual(subprocess.run(["sh", "-n", self.snippet]).returncode, 0)
        if shutil.which("shellcheck"):
            result = subprocess.run(["shellcheck", "-s", "sh", self.snippet], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout)


@unittest.skipUnless(BUILD_DIR, "NIXPM_BUILD_DIR names the build to install (set by CTest)")
class LoginFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nixpm-login-files-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        result = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stdout + result.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_systemd_user_unit_verifies(self):
        unit = os.path.join(self.prefix, "lib", "systemd", "user", "nixpmd.service")
        with open(unit) as f:
            text = f.read()
        self.assertIn(f"ExecStart={self.prefix}/bin/nixpmd --user\n", text)
        # The ordered stop needs SIGTERM to reach nixpmd alone.
        self.assertIn("KillMode=mixed\n", text)
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        runtime = os.path.join(self.tmp, "runtime")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        # No user manager is needed: verify loads the unit in a manager of its own. MANPATH lets it
        # find the installed man pages that Documentation= names.
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime, MANPATH=os.path.join(self.prefix, "share", "man"))
        result = subprocess.run(["systemd-analyze", "verify", "--user", unit], capture_output=True, text=True,
                                env=env)
        self.assertEqual((result.returncode, result.stderr), (0, ""), result.stdout)

    def test_autostart_entry_runs_the_installed_snippet(self):
        entry = os.path.join(self.prefix, "share", "nixpm", "login", "nixpmd-autostart.desktop")
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.optionxform = str
        with open(entry) as f:
            parser.read_file(f)
        desktop = parser["Desktop Entry"]
        self.assertEqual(desktop["Type"], "Application")
        self.assertTrue(desktop["Name"])
        program = shlex.split(desktop["Exec"])
        self.assertEqual(program, ["sh", os.path.join(self.prefix, "share", "nixpm", "login", "nixpm-login.sh")])
        self.assertTrue(os.path.isfile(program[1]))
        # Where a systemd user manager runs the autostart entries, nixpmd.service is the way instead.
        self.assertEqual(desktop["X-systemd-skip"], "true")
        if shutil.which("desktop-file-validate"):
            result = subprocess.run(["desktop-file-validate", entry], capture_output=True, text=True)
            self.assertEqual((result.returncode, result.stdout + result.stderr), (0, ""))


if __name__ == "__main__":
    unittest.main()
