"""`nixpmctl deploy` and `undeploy` for real with runit and s6: the deployment's root is a scan directory
whose runsvdir or s6-svscan the test starts itself (by pid). The same cycle as test_deploy.py: the webapps
example answering through nginx, a redeploy that removes one instance and changes another while the
others keep their pids, and an undeploy after which nothing runs below the supervisor."""

import os
import re
import signal
import subprocess
import unittest

from harness import wait_until
from test_deploy import DeployTestCase, default_signals, needs


class ScanDirectory(DeployTestCase):
    """runit and s6: the test runs the supervisor on the scan directory (the deployment's root)."""

    supervisor_argv = None

    def setUp(self):
        super().setUp()
        os.makedirs(self.root)
        log = open(os.path.join(self.tmp, "supervisor.log"), "w")
        self.addCleanup(log.close)
        self.supervisor = subprocess.Popen(self.supervisor_argv + [self.root], stdout=log, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True,
                                           preexec_fn=default_signals)
        self.addCleanup(self.stop_supervisor)

    def stop_supervisor(self):
        if self.supervisor.poll() is None:
            self.supervisor.send_signal(self.stop_signal)
            self.supervisor.wait(timeout=30)

    def after_undeploy(self):
        # Only the scan directory's own files are left, and nothing runs below the supervisor.
        self.assertEqual([name for name in os.listdir(self.root) if not name.startswith(".s6-svscan")], [])
        wait_until(lambda: not self.children(), timeout=20, what=f"the supervisors below {self.supervisor_argv[0]} to exit")

    def children(self):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.supervisor.pid and fields[0] != "Z":
                    found.append(int(entry))
        return found


@needs("runsvdir", "sv", "nginx", "bash")
class Runit(ScanDirectory, unittest.TestCase):
    manager = "runit"
    supervisor_argv = ["runsvdir"]
    stop_signal = signal.SIGHUP

    def pid_of(self, name):
        directory = os.path.join(self.root, name)
        if not os.path.isdir(directory):
            return None
        result = subprocess.run(["sv", "status", directory], capture_output=True, text=True, timeout=30)
        match = re.match(r"^run: [^:]+: \(pid (\d+)\)", result.stdout)
        return int(match.group(1)) if match else None


@needs("s6-svscan", "s6-svc", "s6-svstat", "nginx", "bash")
class S6(ScanDirectory, unittest.TestCase):
    manager = "s6"
    supervisor_argv = ["s6-svscan"]
    stop_signal = signal.SIGTERM

    def pid_of(self, name):
        directory = os.path.join(self.root, name)
        if not os.path.isdir(directory):
            return None
        result = subprocess.run(["s6-svstat", "-o", "up,pid", directory], capture_output=True, text=True, timeout=30)
        words = result.stdout.split()
        return int(words[1]) if result.returncode == 0 and words and words[0] == "true" else None


if __name__ == "__main__":
    unittest.main()
