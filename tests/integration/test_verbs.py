"""The verbs beyond start and stop, end to end: logs (with -n, -f and --json), signal, graph (tree,
DOT, JSON) and watch."""

import json
import os
import signal
import subprocess
import sys
import unittest

from harness import NIXPMCTL, DaemonTestCase, wait_until

PY = sys.executable
DEFINITIONS = f"""
instances:
  db:
    process: /bin/sh
    args: ["-c", "for i in 1 2 3 4 5; do echo db line $i; done; exec sleep 600"]
  app:
    process: {PY}
    args: ["-c", "import signal, sys, time\\nsignal.signal(signal.SIGUSR1, lambda *a: print('got USR1', flush=True))\\nprint('app ready', flush=True)\\nwhile True: time.sleep(1)"]
    dependencies: [db]
  web:
    process: /bin/sleep
    args: ["600"]
    dependencies: [app, db]
"""


class Verbs(DaemonTestCase):
    definitions = DEFINITIONS

    def setUp(self):
        super().setUp()
        self.start_daemon()
        self.wait_for_states({"db": "running", "app": "running", "web": "running"})
        wait_until(lambda: "db line 5" in self.log_of("db") and "app ready" in self.log_of("app"),
                   what="the instances' first output")

    def test_logs_prints_the_last_lines(self):
        result = self.ctl("logs", "-n", "2", "db")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), ["db line 4", "db line 5"])
        as_json = json.loads(self.ctl("logs", "--json", "-n", "3", "db").stdout)
        self.assertEqual(as_json["lines"], ["db line 3", "db line 4", "db line 5"])
        self.assertTrue(as_json["path"].endswith("/log/db.log"))
        self.assertEqual(self.ctl("logs", "nosuch").returncode, 2)

    def test_logs_follow_prints_new_lines(self):
        follower = subprocess.Popen([NIXPMCTL, "--user", "logs", "-f", "-n", "1", "app"], env=self.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(follower.stdout.readline().strip(), "app ready")
            self.assertEqual(self.ctl("signal", "app", "USR1").returncode, 0)
            self.assertEqual(follower.stdout.readline().strip(), "got USR1")
        finally:
            follower.send_signal(signal.SIGINT)
            follower.communicate(timeout=10)

    def test_signal_reaches_the_process_and_reports_errors(self):
        result = self.ctl("signal", "app", "SIGUSR1")
        self.assertEqual(result.returncode, 0, result.stderr)
        wait_until(lambda: "got USR1" in self.log_of("app"), what="the handler's output")
        self.assertEqual(self.ctl("signal", "app", "NOTASIGNAL").returncode, 2)
        self.assertEqual(self.ctl("signal", "app").returncode, 2)  # no signal named
        self.assertEqual(self.ctl("stop", "web").returncode, 0)
        stopped = self.ctl("signal", "web", "HUP")
        self.assertEqual(stopped.returncode, 1)
        self.assertIn("web", stopped.stderr)

    def test_graph_as_tree_dot_and_json(self):
        tree = self.ctl("graph")
        self.assertEqual(tree.returncode, 0, tree.stderr)
        lines = tree.stdout.splitlines()
        self.assertEqual(lines[0], "web")
        self.assertIn("  └─ app", lines)
        self.assertTrue(any(line.strip() == "└─ db (see above)" or line.strip() == "└─ db" for line in lines))
        dot = self.ctl("graph", "--dot").stdout
        self.assertIn('"web" -> "app";', dot)
        self.assertIn('"app" -> "db";', dot)
        self.assertTrue(dot.startswith("digraph"))
        graph = json.loads(self.ctl("graph", "--json").stdout)
        self.assertEqual({i["name"]: i["dependencies"] for i in graph["instances"]},
                         {"db": [], "app": ["db"], "web": ["app", "db"]})

    def test_watch_prints_state_changes(self):
        watcher = subprocess.Popen([NIXPMCTL, "--user", "watch", "--json"], env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            # Watch starts with the current state of every instance: once those arrived, it is subscribed.
            first = [json.loads(watcher.stdout.readline()) for _ in range(3)]
            self.assertEqual({e["name"]: e["state"] for e in first}, {"db": "running", "app": "running",
                                                                      "web": "running"})
            self.assertEqual(self.ctl("restart", "web").returncode, 0)
            seen = []
            while not any(e.get("name") == "web" and e.get("state") == "running" and len(seen) > 1 for e in seen):
                line = watcher.stdout.readline()
                self.assertTrue(line, "watch ended early")
                seen.append(json.loads(line))
            states = [e["state"] for e in seen if e.get("name") == "web"]
            self.assertIn("stopping", states)
            self.assertEqual(states[-1], "running")
        finally:
            watcher.send_signal(signal.SIGINT)
            watcher.communicate(timeout=10)

    def test_bash_completion_offers_the_running_instances(self):
        script = os.path.join(os.environ.get("NIXPM_SOURCE_DIR", "../.."), "packaging", "completions", "nixpmctl.bash")
        env = dict(self.env, PATH=os.path.dirname(NIXPMCTL) + os.pathsep + self.env.get("PATH", ""))
        program = f"""
source {script}
COMP_WORDS=(nixpmctl --user stop ""); COMP_CWORD=3; _nixpmctl; echo "${{COMPREPLY[*]}}"
"""
        result = subprocess.run(["bash", "-c", program], env=env, capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(result.stdout.split()), ["--no-wait", "app", "db", "web"])

    def test_watch_ends_when_the_daemon_shuts_down(self):
        watcher = subprocess.Popen([NIXPMCTL, "--user", "watch"], env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        self.assertIn("web running", watcher.stdout.readline() + watcher.stdout.readline() +
                      watcher.stdout.readline())
        self.assertEqual(self.ctl("shutdown").returncode, 0)
        output, _ = watcher.communicate(timeout=30)
        self.assertEqual(watcher.returncode, 0)
        self.assertIn("web stopping", output)


if __name__ == "__main__":
    unittest.main()
