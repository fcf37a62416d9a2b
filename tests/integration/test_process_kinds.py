"""Process kinds and health checks with real processes: a forking daemon tracked through its pid file,
readiness by command and by sd_notify, a liveness check that restarts a hung instance, dependents that
stop and come back when a dependency is restarted, and a grandchild that escaped its process group."""

import os
import signal
import sys
import unittest

from harness import DaemonTestCase, pid_alive, wait_until

PY = sys.executable

# A classic double-forking daemon: the launcher returns at once; the grandchild writes its pid file
# (after a short delay, so the wait for it is real) and runs until signalled.
DAEMONIZE = """
import os, sys, time
pid_file = sys.argv[1]
if os.fork() > 0:
    sys.exit(0)
os.setsid()
if os.fork() > 0:
    os._exit(0)
devnull = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(devnull, fd)
time.sleep(0.3)
with open(pid_file + ".tmp", "w") as f:
    f.write(f"{os.getpid()}\\n")
os.rename(pid_file + ".tmp", pid_file)
while True:
    time.sleep(60)
"""

NOTIFY = """
import os, socket, time
time.sleep(0.3)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"STATUS=warming up\\nREADY=1\\n", os.environ["NOTIFY_SOCKET"])
while True:
    time.sleep(60)
"""


class ProcessKinds(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.marker = os.path.join(self.tmp, "healthy")
        self.escaped_pid_file = os.path.join(self.tmp, "escaped.pid")
        with open(os.path.join(self.tmp, "daemonize.py"), "w") as f:
            f.write(DAEMONIZE)
        with open(os.path.join(self.tmp, "notify.py"), "w") as f:
            f.write(NOTIFY)
        self.write_definitions(f"""
instances:
  forking:
    daemon: {PY}
    daemonArgs: ["{self.tmp}/daemonize.py", "${{runtimeDir}}/forking.pid"]
  forkingClient:
    process: /bin/sleep
    args: ["600"]
    dependencies: [forking]
  badLauncher:
    autostart: false
    restart: never
    daemon: /bin/sh
    daemonArgs: ["-c", "exit 3"]
  noPidFile:
    autostart: false
    restart: never
    daemon: /bin/true
    startTimeout: 0.5
  commandReady:
    process: /bin/sh
    args: ["-c", "sleep 0.4; touch {self.tmp}/made; exec sleep 600"]
    readiness: {{ command: [test, -e, "{self.tmp}/made"] }}
  afterCommand:
    process: /bin/sleep
    args: ["600"]
    dependencies: [commandReady]
  notifier:
    process: {PY}
    args: ["{self.tmp}/notify.py"]
    readiness: notify
  afterNotify:
    process: /bin/sleep
    args: ["600"]
    dependencies: [notifier]
  watched:
    autostart: false
    process: /bin/sleep
    args: ["600"]
    liveness: {{ command: [test, -e, "{self.marker}"], interval: 0.2, timeout: 2 }}
  escaper:
    autostart: false
    process: /bin/sh
    args: ["-c", "setsid sleep 600 & echo $! > {self.escaped_pid_file}; exec sleep 600"]
""")

    def test_a_forking_daemon_is_found_through_its_pid_file_and_supervised(self):
        self.start_daemon()
        status = self.wait_for_states({"forking": "running", "forkingClient": "running"})
        daemon_pid = status["forking"]["pid"]
        with open(os.path.join(self.state_dir, "run", "forking.pid")) as f:
            self.assertEqual(int(f.read()), daemon_pid)
        self.assertTrue(pid_alive(daemon_pid))
        client_pid = status["forkingClient"]["pid"]
        ready, client = self.daemon_log_order(f"forking: daemon running, pid {daemon_pid}", "forkingClient: started")
        self.assertTrue(0 <= ready < client, self.read_daemon_log())

        # Its death is noticed, it is launched again, and its dependent follows it.
        os.kill(daemon_pid, signal.SIGKILL)
        status = wait_until(lambda: (s := self.status())["forking"]["state"] == "running"
                            and s["forking"]["pid"] not in (None, daemon_pid)
                            and s["forkingClient"]["state"] == "running" and s["forkingClient"]["pid"] != client_pid
                            and s, what="the daemon and its client back")
        self.assertEqual(status["forking"]["lastExit"], "killed by SIGKILL")
        new_pid = status["forking"]["pid"]

        result = self.ctl("stop", "forking")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(pid_alive(new_pid))
        self.assertEqual(self.status()["forking"]["state"], "stopped")

    def test_a_failing_launcher_and_a_missing_pid_file_are_failures(self):
        self.start_daemon()
        result = self.ctl("start", "badLauncher")
        self.assertEqual(result.returncode, 1)
        self.assertIn("launcher exited 3", result.stderr)
        result = self.ctl("start", "noPidFile")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no live pid in the pid file within 0.5s", result.stderr)

    def test_readiness_by_command_and_by_notify(self):
        self.start_daemon()
        status = self.wait_for_states({"commandReady": "running", "afterCommand": "running",
                                       "notifier": "running", "afterNotify": "running"})
        self.assertEqual((status["commandReady"]["readiness"], status["notifier"]["readiness"]), ("command", "notify"))
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "made")))
        for dependency, dependent in (("commandReady", "afterCommand"), ("notifier", "afterNotify")):
            ready, started = self.daemon_log_order(f"{dependency}: ready", f"{dependent}: started")
            self.assertTrue(0 <= ready < started, self.read_daemon_log())

    def test_a_failing_liveness_check_restarts_the_instance(self):
        open(self.marker, "w").close()
        self.start_daemon()
        self.assertEqual(self.ctl("start", "watched").returncode, 0)
        first = self.status()["watched"]["pid"]
        os.remove(self.marker)
        status = wait_until(lambda: (s := self.status()["watched"])["restarts"] >= 1 and s, what="a restart")
        self.assertIn("liveness check failed: exited 1", status["lastExit"])
        self.assertFalse(pid_alive(first))
        open(self.marker, "w").close()
        status = self.wait_for_states({"watched": "running"})
        self.assertNotEqual(status["watched"]["pid"], first)

    def escaped_pid(self):
        return int(wait_until(lambda: read_text(self.escaped_pid_file), what="the escaped pid"))

    def test_a_grandchild_that_left_the_process_group_is_stopped_too(self):
        self.start_daemon()
        self.assertEqual(self.ctl("start", "escaper").returncode, 0)
        escaped = self.escaped_pid()
        self.seen_pids.add(escaped)
        main_pid = self.status()["escaper"]["pid"]
        wait_until(lambda: os.getpgid(escaped) != main_pid, what="the grandchild to call setsid")
        result = self.ctl("stop", "escaper")
        self.assertEqual(result.returncode, 0, result.stderr)
        wait_until(lambda: not pid_alive(escaped), timeout=5, what="the escaped grandchild to be gone")

    def test_a_grandchild_left_behind_by_a_crash_is_killed_before_the_restart(self):
        self.start_daemon()
        if "found through: cgroup" not in self.read_daemon_log():
            self.skipTest("needs a writable cgroup v2 (the process-table fallback only covers stops)")
        self.assertEqual(self.ctl("start", "escaper").returncode, 0)
        escaped = self.escaped_pid()
        self.seen_pids.add(escaped)
        os.kill(self.status()["escaper"]["pid"], signal.SIGKILL)
        wait_until(lambda: not pid_alive(escaped), timeout=5, what="the leftover to be killed")


def read_text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


class ProcessKindsWithoutCgroups(ProcessKinds):
    """The same, with escaped processes found through the process table (nixpmd --no-cgroups)."""

    def start_daemon(self, *extra, wait_ready=True):
        daemon = super().start_daemon("--no-cgroups", *extra, wait_ready=wait_ready)
        wait_until(lambda: "found through: process table" in self.read_daemon_log(), what="the fallback in use")
        return daemon


if __name__ == "__main__":
    unittest.main()
