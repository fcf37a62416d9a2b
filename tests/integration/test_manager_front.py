"""`nixpmd --manager supervisord`: the daemon deploys the webapps example onto a supervisord of its own
(from a temporary root, unprivileged) and carries out nixpmctl's verbs through supervisorctl, with the
same tables, JSON and exit statuses as the built-in supervisor. Its shutdown stops everything,
supervisord included."""

import json
import os
import re
import shutil
import subprocess
import unittest

from harness import SOURCE_DIR, DaemonTestCase, free_port, http_get, pid_alive, wait_until

WEBAPPS = os.path.join(SOURCE_DIR, "examples", "webapps", "processes.yaml")


@unittest.skipIf(not all(shutil.which(t) for t in ("supervisord", "supervisorctl", "nginx")),
                 "supervisor and nginx are not installed here (packaging/dev.sh installs them)")
class SupervisordFront(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "supervisor")
        self.ports = {"webapp1": free_port(), "webapp2": free_port(), "nginx": free_port()}
        self.write_webapps()

    def write_webapps(self, webapp2_environment=""):
        with open(WEBAPPS) as f:
            text = f.read()
        text = text.replace("5001", str(self.ports["webapp1"])).replace("5002", str(self.ports["webapp2"]))
        text = text.replace("8080", str(self.ports["nginx"]))
        if webapp2_environment:
            text = text.replace("    params: { port: %d }" % self.ports["webapp2"],
                                "    params: { port: %d }\n    environment: { %s }" % (self.ports["webapp2"],
                                                                                    webapp2_environment))
        self.write_definitions(text)

    def supervisorctl_pids(self):
        result = subprocess.run(["supervisorctl", "-c", os.path.join(self.root, "supervisord.conf"), "status"],
                                capture_output=True, text=True, env=self.env, timeout=30)
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+) +RUNNING +pid (\d+),", result.stdout, re.M)}

    def remember_supervisord(self):
        try:
            with open(os.path.join(self.state_dir, "run", "supervisord.pid")) as f:
                self.seen_pids.add(int(f.read()))
        except (OSError, ValueError):
            pass

    def page(self, instance):
        try:
            status, body = http_get(self.ports["nginx"], f"{instance}.local", timeout=2)
        except OSError:
            return False
        return status == 200 and f"Hello from {instance} on port {self.ports[instance]}." in body

    def test_verbs_through_supervisorctl(self):
        self.start_daemon("--manager", "supervisord", "--root", self.root)
        self.remember_supervisord()
        states = self.wait_for_states({"webapp1": "running", "webapp2": "running", "nginx": "running"})
        # The pids are supervisord's, i.e. the programs themselves.
        self.assertEqual({name: states[name]["pid"] for name in states}, self.supervisorctl_pids())
        wait_until(lambda: self.page("webapp1") and self.page("webapp2"), timeout=30, what="nginx to answer")

        # The same table as the built-in supervisor.
        table = self.ctl("status")
        self.assertEqual(table.returncode, 0, table.stderr)
        lines = table.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST-EXIT"])
        for line, name in zip(lines[1:], ["webapp1", "webapp2", "nginx"]):
            self.assertRegex(line, rf"^{name} +running +{states[name]['pid']} +\d+s +0 +-$")
        listed = self.ctl("list")
        self.assertEqual(listed.stdout.splitlines()[0].split(), ["NAME", "STATE", "AUTOSTART", "DESCRIPTION"])
        self.assertIn("Web application webapp1 on port", listed.stdout)

        # Unknown instances and verbs that need the built-in supervisor: usage errors (exit 2).
        unknown = self.ctl("status", "nope")
        self.assertEqual((unknown.returncode, unknown.stderr), (2, "nixpmctl: status nope: unknown instance 'nope'\n"))
        self.assertEqual(self.ctl("stop", "nope").returncode, 2)
        signal_result = self.ctl("signal", "webapp1", "HUP")
        self.assertEqual(signal_result.returncode, 2)
        self.assertIn("not available while nixpmd fronts supervisord", signal_result.stderr)

        # stop takes the dependents down first; start brings the dependencies up first.
        stopped = self.ctl("stop", "webapp1")
        self.assertEqual(stopped.returncode, 0, stopped.stderr)
        self.assertRegex(stopped.stdout, r"(?m)^webapp1 +stopped +- ")
        now = self.status()
        self.assertEqual((now["webapp1"]["state"], now["nginx"]["state"], now["webapp2"]["state"]),
                         ("stopped", "stopped", "running"))
        self.assertFalse(pid_alive(states["nginx"]["pid"]))
        started = self.ctl("start", "nginx")
        self.assertEqual(started.returncode, 0, started.stderr)
        now = self.status()
        self.assertEqual((now["webapp1"]["state"], now["nginx"]["state"]), ("running", "running"))
        self.assertNotEqual(now["nginx"]["pid"], states["nginx"]["pid"])
        self.assertEqual(now["webapp2"]["pid"], states["webapp2"]["pid"])

        restarted = self.ctl("restart", "webapp2", "--json")
        self.assertEqual(restarted.returncode, 0, restarted.stderr)
        entry = json.loads(restarted.stdout)["instances"][0]
        self.assertEqual(entry["name"], "webapp2")
        self.assertEqual(entry["state"], "running")
        self.assertNotEqual(entry["pid"], states["webapp2"]["pid"])
        self.seen_pids.add(entry["pid"])
        wait_until(lambda: self.page("webapp2"), timeout=30, what="webapp2 to answer again")

        # logs: the file supervisord writes.
        logs = self.ctl("logs", "-n", "50", "webapp1")
        self.assertEqual(logs.returncode, 0, logs.stderr)
        self.assertIn("Serving HTTP", logs.stdout)

        # reload redeploys: only the changed instance restarts.
        before = self.status()
        self.write_webapps(webapp2_environment="GREETING: changed")
        reloaded = self.ctl("reload")
        self.assertEqual(reloaded.returncode, 0, reloaded.stderr)
        self.assertEqual(reloaded.stdout.splitlines(), ["changed: webapp2", "restarted: webapp2",
                                                        "unchanged: webapp1 nginx"])
        after = self.status()
        self.assertEqual(after["webapp1"]["pid"], before["webapp1"]["pid"])
        self.assertEqual(after["nginx"]["pid"], before["nginx"]["pid"])
        self.assertNotEqual(after["webapp2"]["pid"], before["webapp2"]["pid"])
        with open(os.path.join(self.tmp, "processes.yaml"), "w") as f:
            f.write("instances:\n  a: { proces: /bin/true }\n")
        refused = self.ctl("reload")
        self.assertEqual(refused.returncode, 2)
        self.assertIn("unknown key 'proces'", refused.stderr)

        # shutdown: the deployment is taken down, supervisord with it, then nixpmd exits.
        self.remember_supervisord()
        self.assertEqual(self.ctl("shutdown").returncode, 0)
        self.assertEqual(self.daemon.wait(timeout=60), 0)
        for pid in self.seen_pids:
            self.assertFalse(pid_alive(pid), pid)
        self.assertFalse(os.path.exists(os.path.join(self.state_dir, "lib", "nixpm", "deployment.json")))
        self.assertFalse(os.path.exists(os.path.join(self.root, "conf.d")))

    def test_an_unknown_manager_is_a_usage_error(self):
        daemon = self.start_daemon("--manager", "supervisor", wait_ready=False)
        self.assertEqual(daemon.wait(timeout=30), 2)
        self.assertIn("unknown process manager 'supervisor' (did you mean 'supervisord'?)", self.read_daemon_log())


if __name__ == "__main__":
    unittest.main()
