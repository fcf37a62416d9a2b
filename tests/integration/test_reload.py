"""The live switch: `nixpmctl reload` and SIGHUP. A matrix of added, removed, changed, unchanged and
invalid definitions; untouched instances keep their pid."""

import json
import os
import signal
import unittest

from harness import DaemonTestCase, pid_alive, wait_until


def sleeper(name, seconds=600, dependencies=(), extra=""):
    deps = f"\n    dependencies: [{', '.join(dependencies)}]" if dependencies else ""
    return f"""  {name}:
    process: /bin/sleep
    args: ["{seconds}"]{deps}{extra}
"""


BEFORE = "instances:\n" + sleeper("db") + sleeper("app", dependencies=["db"]) + sleeper("cache") + \
    sleeper("old") + sleeper("web", dependencies=["app"])
AFTER = "instances:\n" + sleeper("db", seconds=601) + sleeper("app", dependencies=["db"]) + sleeper("cache") + \
    sleeper("web", dependencies=["app"]) + sleeper("fresh")


class Reload(DaemonTestCase):
    definitions = BEFORE

    def start_all(self):
        self.start_daemon()
        return self.wait_for_states({n: "running" for n in ("db", "app", "cache", "old", "web")})

    def reload(self):
        result = self.ctl("reload", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_matrix_added_removed_changed_unchanged(self):
        before = self.start_all()
        self.write_definitions(AFTER)
        changes = self.reload()
        self.assertEqual(changes["added"], ["fresh"])
        self.assertEqual(changes["removed"], ["old"])
        self.assertEqual(changes["changed"], ["db"])
        self.assertEqual(sorted(changes["restarted"]), ["app", "web"])
        self.assertEqual(changes["unchanged"], ["cache"])
        after = self.wait_for_states({n: "running" for n in ("db", "app", "cache", "web", "fresh")})
        self.assertNotIn("old", after)
        self.assertFalse(pid_alive(before["old"]["pid"]))
        self.assertEqual(after["cache"]["pid"], before["cache"]["pid"])
        for name in ("db", "app", "web"):
            self.assertNotEqual(after[name]["pid"], before[name]["pid"], name)
            self.assertFalse(pid_alive(before[name]["pid"]), name)
        with open(f"/proc/{after['db']['pid']}/cmdline", "rb") as f:
            self.assertEqual(f.read().split(b"\0")[1], b"601")

    def test_unchanged_definitions_touch_nothing(self):
        before = self.start_all()
        changes = self.reload()
        self.assertEqual(changes["added"] + changes["removed"] + changes["changed"] + changes["restarted"], [])
        after = self.status()
        for name in before:
            self.assertEqual(after[name]["pid"], before[name]["pid"])

    def test_invalid_definitions_are_refused_and_nothing_changes(self):
        before = self.start_all()
        self.write_definitions("instances:\n  db: { process: /bin/sleep, args: [\"1\"], dependencies: [nosuch] }\n")
        result = self.ctl("reload")
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn(self.config_file + ":2:", result.stderr)
        self.assertIn("nosuch", result.stderr)
        after = self.status()
        self.assertEqual(set(after), set(before))
        for name in before:
            self.assertEqual(after[name]["pid"], before[name]["pid"])

    def test_sighup_reloads(self):
        before = self.start_all()
        self.write_definitions(AFTER)
        self.daemon.send_signal(signal.SIGHUP)
        after = wait_until(lambda: "fresh" in (s := self.status()) and s["fresh"]["state"] == "running" and s,
                           what="the switch after SIGHUP")
        self.assertNotIn("old", after)
        self.assertEqual(after["cache"]["pid"], before["cache"]["pid"])

    def test_sighup_with_invalid_definitions_keeps_running(self):
        before = self.start_all()
        self.write_definitions("instances: [this is not a map\n")
        self.daemon.send_signal(signal.SIGHUP)
        wait_until(lambda: "reload refused" in self.read_daemon_log(), what="the refusal in the log")
        after = self.status()
        self.assertEqual({n: i["pid"] for n, i in after.items()}, {n: i["pid"] for n, i in before.items()})


if __name__ == "__main__":
    unittest.main()
