"""One daemon per socket: two nixpmd started at the same moment on a socket that a dead daemon left
behind end with exactly one daemon, and the other refuses without touching the first one's files."""

import os
import signal
import socket
import subprocess
import unittest

from harness import NIXPMD, DaemonTestCase, wait_until

DEFINITIONS = """
instances:
  one: { process: /bin/sleep, args: ["600"] }
"""


class DaemonLock(DaemonTestCase):
    definitions = DEFINITIONS

    def leave_a_stale_socket(self):
        """A socket file nobody listens on, as a daemon killed with SIGKILL leaves it."""
        os.makedirs(os.path.dirname(self.socket_path), mode=0o700, exist_ok=True)
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(self.socket_path)
        stale.close()

    def test_two_daemons_started_together_on_a_stale_socket_leave_one(self):
        self.write_definitions(DEFINITIONS)
        self.leave_a_stale_socket()
        logs = [os.path.join(self.tmp, f"nixpmd-{i}.log") for i in range(2)]
        daemons = []
        for log in logs:
            with open(log, "w") as out:
                daemons.append(subprocess.Popen([NIXPMD, "--user", "-c", self.config_file], env=self.env,
                                                stdout=out, stderr=out, stdin=subprocess.DEVNULL))
        # One of them refuses at once; the other serves (and tearDown stops it).
        refused = wait_until(lambda: next((d for d in daemons if d.poll() is not None), None),
                             what="one of the two daemons to refuse")
        self.daemon = daemons[1] if refused is daemons[0] else daemons[0]
        self.assertEqual(refused.returncode, 1)
        with open(logs[daemons.index(refused)]) as f:
            self.assertIn("another nixpmd is already running on " + self.socket_path, f.read())
        wait_until(lambda: self.ctl("list").returncode == 0, what="the other daemon to answer")
        self.assertIsNone(self.daemon.poll())
        self.wait_for_states({"one": "running"})

        # A third one, started later, refuses too and leaves the running daemon serving.
        third = subprocess.run([NIXPMD, "--user", "-c", self.config_file], env=self.env, capture_output=True,
                               text=True, timeout=30)
        self.assertEqual(third.returncode, 1)
        self.assertIn("another nixpmd is already running", third.stderr)
        self.assertEqual(self.ctl("list").returncode, 0)

    def test_the_lock_is_free_again_once_the_daemon_is_killed(self):
        self.start_daemon()
        pid = self.status()["one"]["pid"]
        self.daemon.kill()  # SIGKILL: no cleanup at all, the socket stays
        self.daemon.wait()
        os.kill(pid, signal.SIGKILL)  # the orphaned instance, ours by pid
        self.seen_pids.discard(pid)
        self.start_daemon()
        self.assertEqual(self.ctl("list").returncode, 0)

if __name__ == "__main__":
    unittest.main()
