"""Restart policies with real processes: `always` restarts even a clean exit, `on-failure` restarts
only failures, `never` restarts nothing; a failure under `never` is `failed` with its reason."""

import os
import unittest

from harness import DaemonTestCase, wait_until


class RestartPolicies(DaemonTestCase):
    def setUp(self):
        super().setUp()
        # Each run appends a line, then exits with the code in its file (0 unless the test says).
        self.runs = {}
        instances = []
        for name, policy in (("always", "always"), ("onFailure", "on-failure"), ("never", "never")):
            self.runs[name] = os.path.join(self.tmp, f"{name}.runs")
            code_file = os.path.join(self.tmp, f"{name}.code")
            with open(code_file, "w") as f:
                f.write("0\n")
            instances.append(f"""
  {name}:
    restart: {policy}
    restartDelay: 0.1
    stableAfter: 0
    autostart: false
    process: /bin/sh
    args: ["-c", "echo run >> {self.runs[name]}; while [ ! -e {self.tmp}/{name}.go ]; do sleep 0.05; done; rm -f {self.tmp}/{name}.go; exit $(cat {code_file})"]""")
        self.write_definitions("instances:" + "".join(instances) + "\n")

    def runs_of(self, name):
        try:
            with open(self.runs[name]) as f:
                return len(f.read().splitlines())
        except FileNotFoundError:
            return 0

    def finish_run(self, name, code):
        with open(os.path.join(self.tmp, f"{name}.code"), "w") as f:
            f.write(f"{code}\n")
        open(os.path.join(self.tmp, f"{name}.go"), "w").close()

    def start(self, name):
        result = self.ctl("start", name)
        self.assertEqual(result.returncode, 0, result.stderr)
        wait_until(lambda: self.runs_of(name) == 1, what=f"{name}'s first run")

    def test_always_restarts_a_clean_exit(self):
        self.start_daemon()
        self.start("always")
        self.finish_run("always", 0)
        wait_until(lambda: self.runs_of("always") == 2, what="a second run")
        status = self.wait_for_states({"always": "running"})["always"]
        self.assertEqual((status["restarts"], status["lastExit"]), (1, "exited 0"))

    def test_on_failure_restarts_a_failure_but_not_a_clean_exit(self):
        self.start_daemon()
        self.start("onFailure")
        self.finish_run("onFailure", 3)
        wait_until(lambda: self.runs_of("onFailure") == 2, what="a run after the failure")
        self.finish_run("onFailure", 0)
        status = self.wait_for_states({"onFailure": "stopped"})["onFailure"]
        self.assertEqual((status["lastExit"], status["wanted"]), ("exited 0", "down"))
        self.assertEqual(self.runs_of("onFailure"), 2)

    def test_never_restarts_nothing_and_keeps_the_reason(self):
        self.start_daemon()
        self.start("never")
        self.finish_run("never", 4)
        status = self.wait_for_states({"never": "failed"})["never"]
        self.assertEqual((status["error"], status["restarts"]), ("exited 4", 0))
        self.assertEqual(self.runs_of("never"), 1)
        self.assertIn("never failed: exited 4", self.ctl("status").stdout)


if __name__ == "__main__":
    unittest.main()
