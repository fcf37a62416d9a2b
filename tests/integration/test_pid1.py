"""nixpmd as PID 1 of a PID namespace (a container's init) and as a child subreaper: orphans are
reaped, SIGTERM stops everything in order and nixpmd exits 0."""

import os
import shutil
import signal
import subprocess
import unittest

from harness import NIXPMD, DaemonTestCase, pid_alive, wait_until

# The shell leaves an orphan behind (a background sleep whose parent exits at once), then becomes the
# long-running process itself.
DEFINITIONS = """
instances:
  orphaner:
    process: /bin/sh
    args: ["-c", "(sleep 0.3 &); (sleep 0.3 &); exec sleep 600"]
  dependent:
    process: /bin/sleep
    args: ["600"]
    dependencies: [orphaner]
"""


def children_of(pid):
    result = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            result.append((int(entry), fields[0]))
    return result


def can_unshare():
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    return probe.returncode == 0


class Subreaper(DaemonTestCase):
    definitions = DEFINITIONS

    def test_orphans_of_instances_are_reaped(self):
        self.start_daemon()
        self.wait_for_states({"orphaner": "running", "dependent": "running"})
        # The orphans were re-parented to nixpmd (a subreaper); once they exit, none stays a zombie.
        wait_until(lambda: all(st != "Z" for _, st in children_of(self.daemon.pid))
                   and len(children_of(self.daemon.pid)) == 2,
                   what="the orphans to exit and be reaped")


@unittest.skipUnless(can_unshare(), "needs unshare --pid (root, or a kernel allowing user namespaces)")
class Pid1(DaemonTestCase):
    definitions = DEFINITIONS

    def start_in_namespace(self):
        self.write_definitions(self.definitions)
        log = open(self.daemon_log, "ab")
        command = ["unshare", "--pid", "--fork", "--mount-proc", NIXPMD, "--user", "-c", self.config_file]
        if os.geteuid() != 0:
            command[1:1] = ["--user", "--map-root-user"]
        self.unshare = subprocess.Popen(command, env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        wait_until(lambda: self.unshare.poll() is not None or children_of(self.unshare.pid), what="nixpmd to start")
        self.assertIsNone(self.unshare.poll(), self.read_daemon_log())
        self.inner = children_of(self.unshare.pid)[0][0]  # nixpmd: PID 1 inside, this pid outside
        wait_until(lambda: self.ctl("list").returncode == 0, what="nixpmd to answer")

    def tearDown(self):
        if getattr(self, "unshare", None) and self.unshare.poll() is None:
            os.kill(self.inner, signal.SIGKILL)  # ends the namespace and everything in it
            self.unshare.wait(timeout=30)
        super().tearDown()

    def test_pid1_reaps_orphans_and_stops_in_order_on_sigterm(self):
        self.start_in_namespace()
        states = self.wait_for_states({"orphaner": "running", "dependent": "running"})
        wait_until(lambda: all(st != "Z" for _, st in children_of(self.inner)) and len(children_of(self.inner)) == 2,
                   what="the orphans to be reaped by PID 1")
        # Status reports pids as seen inside the namespace; from here the instances are nixpmd's children.
        self.seen_pids.clear()
        outside = [pid for pid, _ in children_of(self.inner)]
        os.kill(self.inner, signal.SIGTERM)
        self.assertEqual(self.unshare.wait(timeout=30), 0, self.read_daemon_log())
        for pid in outside:
            self.assertFalse(pid_alive(pid))
        log = self.read_daemon_log()
        first = log.find(f"dependent: process {states['dependent']['pid']}")
        second = log.find(f"orphaner: process {states['orphaner']['pid']}")
        self.assertTrue(0 <= first < second, log)


if __name__ == "__main__":
    unittest.main()
