"""Per-instance process settings with real processes: initialize, path, umask, nice, oneshots and
successExitCodes."""

import os
import unittest

from harness import DaemonTestCase, wait_until


class ProcessSettings(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.tools = os.path.join(self.tmp, "tools")
        os.makedirs(os.path.join(self.tools, "bin"))
        script = os.path.join(self.tools, "bin", "hello-tool")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho hello from the tool\n")
        os.chmod(script, 0o755)
        self.write_definitions(f"""
instances:
  prepare:
    type: oneshot
    process: /bin/sh
    args: ["-c", "echo prepared > ${{stateDir}}/prepared"]
  server:
    dependencies: [prepare]
    initialize: "mkdir -p ${{stateDir}}/lib/server && echo initialized > ${{stateDir}}/lib/server/marker"
    path: ["{self.tools}"]
    umask: "027"
    nice: 7
    process: /bin/sh
    args: ["-c", "hello-tool; touch ${{stateDir}}/lib/server/created; exec sleep 600"]
  badInit:
    autostart: false
    restart: never
    initialize: "echo initialize failed >&2; exit 9"
    process: /bin/sleep
    args: ["600"]
  exitsWith3:
    autostart: false
    process: /bin/sh
    args: ["-c", "exit 3"]
    successExitCodes: [0, 3]
""")

    def test_settings_reach_the_process(self):
        self.start_daemon()
        states = self.wait_for_states({"prepare": "done", "server": "running"})
        with open(os.path.join(self.state_dir, "prepared")) as f:
            self.assertEqual(f.read(), "prepared\n")
        pid = states["server"]["pid"]
        # The pid is the program itself: initialize ran in the same process before the exec.
        created = os.path.join(self.state_dir, "lib", "server", "created")
        wait_until(lambda: _comm(pid) == "sleep", what="the server's shell to exec sleep in the same pid")
        with open(os.path.join(self.state_dir, "lib", "server", "marker")) as f:
            self.assertEqual(f.read(), "initialized\n")
        self.assertIn("hello from the tool", self.log_of("server"))
        self.assertEqual(os.stat(created).st_mode & 0o777, 0o640)
        with open(f"/proc/{pid}/stat") as f:
            self.assertEqual(int(f.read().rsplit(")", 1)[1].split()[16]), 7)  # field 19: nice

    def test_a_failing_initialize_fails_the_start_with_its_output_in_the_log(self):
        self.start_daemon()
        self.ctl("start", "badInit", "--no-wait")
        failed = self.wait_for_states({"badInit": "failed"})["badInit"]
        self.assertEqual(failed["lastExit"], "exited 9")
        self.assertIn("initialize failed", self.log_of("badInit"))

    def test_success_exit_codes_are_not_failures(self):
        self.start_daemon()
        self.ctl("start", "exitsWith3", "--no-wait")
        stopped = self.wait_for_states({"exitsWith3": "stopped"})["exitsWith3"]
        self.assertEqual(stopped["lastExit"], "exited 3")
        self.assertEqual(stopped["restarts"], 0)


def _comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


if __name__ == "__main__":
    unittest.main()
