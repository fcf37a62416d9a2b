"""Supervision with real processes: grace period and SIGKILL, crash loops, exec failures, signals to
nixpmd, definition errors at start-up."""

import os
import signal
import sys
import unittest

from harness import DaemonTestCase, pid_alive, wait_until

PY = sys.executable


class GraceAndKill(DaemonTestCase):
    definitions = f"""
instances:
  stubborn:
    process: {PY}
    args: ["-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"]
    stopTimeout: 0.5
"""

    def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(self):
        self.start_daemon()
        pid = self.wait_for_states({"stubborn": "running"})["stubborn"]["pid"]
        wait_until(lambda: "ready" in self.log_of("stubborn"), what="the signal handler to be installed")
        result = self.ctl("stop", "stubborn")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(pid_alive(pid))
        self.assertEqual(self.status()["stubborn"]["lastExit"], "killed by SIGKILL")
        self.assertIn("sending SIGKILL", self.read_daemon_log())


class CrashLoop(DaemonTestCase):
    definitions = """
instances:
  crasher:
    process: /bin/false
    restartDelay: 0.05
    maxRestartDelay: 0.1
    restartLimit: 3
"""

    def test_a_crash_loop_ends_in_failed_with_the_reason(self):
        self.start_daemon()
        crasher = self.wait_for_states({"crasher": "failed"})["crasher"]
        self.assertEqual(crasher["restarts"], 3)
        self.assertEqual(crasher["lastExit"], "exited 1")
        self.assertIn("gave up after 3 restarts", crasher["error"])
        # An explicit start clears the failure and begins a fresh series of restarts.
        self.assertEqual(self.ctl("start", "crasher", "--no-wait").returncode, 0)
        again = wait_until(lambda: (s := self.status()["crasher"])["restarts"] > 3 and s["state"] == "failed" and s,
                           what="a second crash loop to end")
        self.assertEqual(again["restarts"], 6)


class FailureIsExplained(DaemonTestCase):
    definitions = """
instances:
  broken:
    process: /bin/sh
    args: ["-c", "echo cannot open /etc/broken.conf >&2; exit 3"]
    restart: never
    autostart: false
"""

    def test_a_process_that_fails_shows_its_exit_status_and_keeps_its_output(self):
        self.start_daemon()
        # With readiness "started" the start itself succeeds; the exit right after makes it failed.
        self.assertEqual(self.ctl("start", "broken").returncode, 0)
        self.wait_for_states({"broken": "failed"})
        status = self.ctl("status", "broken")
        self.assertIn("exited 3", status.stdout)
        self.assertIn("cannot open /etc/broken.conf", self.log_of("broken"))


class ExecFailure(DaemonTestCase):
    definitions = """
instances:
  missing:
    process: /nonexistent/program
  badDirectory:
    process: /bin/sleep
    args: ["600"]
    directory: /nonexistent/directory
"""

    def test_exec_and_chdir_failures_are_told_apart(self):
        self.start_daemon()
        states = self.wait_for_states({"missing": "failed", "badDirectory": "failed"})
        self.assertEqual(states["missing"]["error"], "exec /nonexistent/program: No such file or directory")
        self.assertEqual(states["badDirectory"]["error"], "chdir /nonexistent/directory: No such file or directory")
        with open(os.path.join(self.state_dir, "log", "missing.log"), "a") as log:
            log.write("an earlier line of missing's log\n")
        result = self.ctl("start", "missing")
        self.assertEqual(result.returncode, 1)
        self.assertIn("No such file or directory", result.stderr)
        self.assertIn("last lines of missing's log", result.stderr)
        self.assertIn("an earlier line of missing's log", result.stderr)


class StopOnSignal(DaemonTestCase):
    definitions = """
instances:
  base:
    process: /bin/sleep
    args: ["600"]
  middle:
    process: /bin/sleep
    args: ["600"]
    dependencies: [base]
  top:
    process: /bin/sleep
    args: ["600"]
    dependencies: [middle]
"""

    def _check_orderly_stop(self, signum):
        self.start_daemon()
        states = self.wait_for_states({"base": "running", "middle": "running", "top": "running"})
        pids = {name: states[name]["pid"] for name in states}
        self.daemon.send_signal(signum)
        self.assertEqual(self.daemon.wait(timeout=30), 0)
        for pid in pids.values():
            self.assertFalse(pid_alive(pid))
        top, middle, base = self.daemon_log_order(f"top: process {pids['top']}", f"middle: process {pids['middle']}",
                                                  f"base: process {pids['base']}")
        self.assertTrue(0 <= top < middle < base, self.read_daemon_log())

    def test_sigterm_stops_everything_in_reverse_order_and_exits_0(self):
        self._check_orderly_stop(signal.SIGTERM)

    def test_sigint_does_the_same(self):
        self._check_orderly_stop(signal.SIGINT)


class DefinitionErrors(DaemonTestCase):
    def test_a_cycle_is_refused_at_start_naming_it(self):
        self.write_definitions("""instances:
  a: { process: /bin/true, dependencies: [b] }
  b: { process: /bin/true, dependencies: [a] }
""")
        daemon = self.start_daemon(wait_ready=False)
        self.assertEqual(daemon.wait(timeout=30), 2)
        log = self.read_daemon_log()
        self.assertIn("a -> b -> a", log)
        self.assertIn(self.config_file + ":2:", log)
        self.assertFalse(os.path.exists(self.socket_path))

    def test_an_unknown_dependency_is_refused_with_its_position(self):
        self.write_definitions("""instances:
  web:
    process: /bin/true
    dependencies: [dbb]
  db: { process: /bin/true }
""")
        daemon = self.start_daemon(wait_ready=False)
        self.assertEqual(daemon.wait(timeout=30), 2)
        self.assertIn(self.config_file + ":4:20: error: unknown dependency 'dbb'", self.read_daemon_log())


class SecondDaemon(DaemonTestCase):
    definitions = "instances: {}\n"

    def test_a_second_daemon_on_the_same_socket_refuses_to_start(self):
        self.start_daemon()
        first = self.daemon
        second = self.start_daemon(wait_ready=False)
        self.assertEqual(second.wait(timeout=30), 1)
        self.assertIn("already running", self.read_daemon_log())
        self.daemon = first
        self.assertEqual(self.ctl("status").returncode, 0)

    def test_a_stale_socket_is_replaced(self):
        os.makedirs(os.path.dirname(self.socket_path), mode=0o700)
        import socket as socket_module
        stale = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_STREAM)
        stale.bind(self.socket_path)
        stale.close()  # the file stays, nobody listens
        self.start_daemon()
        self.assertEqual(self.ctl("status").returncode, 0)


if __name__ == "__main__":
    unittest.main()
