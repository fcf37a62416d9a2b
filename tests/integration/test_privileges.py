"""A root nixpmd in system mode: `initialize` runs as root, then privileges drop to `user` right
before the program, in the same process (the pid nixpmd reports is the program's own)."""

import os
import pwd
import unittest

from harness import SystemDaemonTestCase, wait_until


def comm_of(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class InitializeAsRoot(SystemDaemonTestCase):
    def setUp(self):
        super().setUp()
        self.nobody = pwd.getpwnam("nobody")
        self.write_definitions(f"""
instances:
  app:
    user: nobody
    initialize: |
      mkdir -p {self.tmp}/owned
      chown nobody {self.tmp}/owned
      echo "initialize uid=$(id -u)"
    process: /bin/sh
    args: ["-c", "echo \\"program uid=$(id -u)\\"; touch {self.tmp}/owned/written; exec sleep 600"]
""")

    def test_initialize_runs_as_root_and_the_program_as_the_user(self):
        self.start_daemon()
        status = self.wait_for_states({"app": "running"})
        wait_until(lambda: "program uid=" in self.log_of("app"), what="the program's report")
        log = self.log_of("app")
        self.assertIn("initialize uid=0", log)
        self.assertIn(f"program uid={self.nobody.pw_uid}", log)
        wait_until(lambda: os.path.exists(os.path.join(self.tmp, "owned", "written")), what="the program's file")
        # One process throughout: the reported pid is the program (sleep), running as nobody.
        pid = status["app"]["pid"]
        wait_until(lambda: comm_of(pid) == "sleep", what="sleep to be exec'd")
        self.assertEqual(os.stat(f"/proc/{pid}").st_uid, self.nobody.pw_uid)


if __name__ == "__main__":
    unittest.main()
