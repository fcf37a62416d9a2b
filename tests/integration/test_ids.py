"""Unique ids from pools (nixproc-id-assign's idea) under the real daemon: assigned at start, kept
across reloads and daemon restarts, released when an instance goes away."""

import json
import os
import unittest

from harness import DaemonTestCase


def definitions(*instances):
    body = "".join(f"""  {name}:
    constructor: server
""" for name in instances)
    return f"""idPools:
  ports: {{ min: 41000, max: 41009 }}
constructors:
  server:
    requiresUniqueIdsFor: [ports]
    process: /bin/sleep
    args: ["600"]
    environment: {{ PORT: "${{ids.ports}}" }}
instances:
{body}"""


class UniqueIds(DaemonTestCase):
    def ports(self):
        with open(os.path.join(self.state_dir, "lib", "nixpm", "ids.json")) as f:
            return json.load(f)["ports"]

    def port_in_environment(self, pid):
        with open(f"/proc/{pid}/environ", "rb") as f:
            entries = f.read().split(b"\0")
        return int(next(e for e in entries if e.startswith(b"PORT=")).split(b"=", 1)[1])

    def test_ids_stay_stable_across_reloads_and_restarts(self):
        self.write_definitions(definitions("a", "b", "c"))
        self.start_daemon()
        states = self.wait_for_states({"a": "running", "b": "running", "c": "running"})
        first = self.ports()
        self.assertEqual(sorted(first.values()), [41000, 41001, 41002])
        self.assertEqual(self.port_in_environment(states["b"]["pid"]), first["b"])

        # b goes away, d arrives: a and c keep theirs, d takes the lowest free id (b's old one).
        self.write_definitions(definitions("a", "c", "d"))
        result = self.ctl("reload")
        self.assertEqual(result.returncode, 0, result.stderr)
        second = self.ports()
        self.assertEqual(second["a"], first["a"])
        self.assertEqual(second["c"], first["c"])
        self.assertEqual(second["d"], first["b"])
        self.assertNotIn("b", second)

        # A restart of the daemon reads them back.
        self.assertEqual(self.ctl("shutdown").returncode, 0)
        self.assertEqual(self.daemon.wait(timeout=30), 0)
        self.start_daemon()
        states = self.wait_for_states({"a": "running", "c": "running", "d": "running"})
        self.assertEqual(self.ports(), second)
        self.assertEqual(self.port_in_environment(states["d"]["pid"]), second["d"])

    def test_a_full_pool_is_refused_with_a_clear_error(self):
        self.write_definitions(definitions(*[f"s{i}" for i in range(11)]))
        daemon = self.start_daemon(wait_ready=False)
        self.assertEqual(daemon.wait(timeout=30), 2)
        self.assertIn("ports", self.read_daemon_log())
        self.assertIn("41000", self.read_daemon_log())


if __name__ == "__main__":
    unittest.main()
