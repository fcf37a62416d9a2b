"""The control socket and nixpmctl: permissions, the protocol's error paths, exit codes, --json."""

import json
import os
import stat
import struct
import subprocess
import unittest

from harness import NIXPMCTL, DaemonTestCase, frame, read_frame

DEFINITIONS = """
instances:
  db:
    description: "A stand-in database"
    process: /bin/sleep
    args: ["600"]
  app:
    process: /bin/sleep
    args: ["600"]
    dependencies: [db]
  manual:
    process: /bin/sleep
    args: ["600"]
    autostart: false
"""


class Control(DaemonTestCase):
    definitions = DEFINITIONS

    def hello(self, sock):
        sock.sendall(frame({"id": 0, "op": "hello", "protocol": 1}))
        reply = read_frame(sock)
        self.assertTrue(reply["ok"], reply)
        return reply

    def test_socket_is_private(self):
        self.start_daemon()
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(self.socket_path)).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(self.socket_path).st_mode), 0o600)

    def test_status_json_has_the_documented_fields(self):
        self.start_daemon()
        states = self.wait_for_states({"db": "running", "app": "running", "manual": "stopped"})
        db = states["db"]
        for key in ("name", "state", "pid", "wanted", "since", "uptime", "restarts", "lastExit", "error",
                    "description", "dependencies", "readiness", "ready"):
            self.assertIn(key, db)
        self.assertEqual(db["description"], "A stand-in database")
        self.assertEqual(db["wanted"], "up")
        self.assertEqual(states["app"]["dependencies"], ["db"])
        self.assertIsNone(states["manual"]["pid"])
        self.assertEqual(states["manual"]["wanted"], "down")

    def test_status_fields_selects_members_and_unknown_ones_are_refused(self):
        self.start_daemon()
        self.wait_for_states({"db": "running", "app": "running"})
        with self.connect() as sock:
            self.hello(sock)
            sock.sendall(frame({"id": 1, "op": "status", "names": ["app", "db"], "fields": ["state", "name"]}))
            reply = read_frame(sock)
            self.assertEqual(reply["result"]["instances"],
                             [{"name": "app", "state": "running"}, {"name": "db", "state": "running"}])
            sock.sendall(frame({"id": 2, "op": "status", "fields": ["name", "colour"]}))
            error = read_frame(sock)["error"]
            self.assertEqual(error["code"], "bad-request")
            self.assertIn('unknown member "colour"', error["message"])
            sock.sendall(frame({"id": 3, "op": "status", "fields": "name"}))
            self.assertEqual(read_frame(sock)["error"]["code"], "bad-request")
            # Without fields, every member, as documented.
            sock.sendall(frame({"id": 4, "op": "status", "names": ["db"]}))
            self.assertIn("since", read_frame(sock)["result"]["instances"][0])

    def test_human_status_shows_pid_and_uptime(self):
        self.start_daemon()
        states = self.wait_for_states({"db": "running", "app": "running"})
        result = self.ctl("status")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertIn("NAME", lines[0])
        self.assertIn("UPTIME", lines[0])
        db_line = next(line for line in lines if line.startswith("db "))
        self.assertIn(str(states["db"]["pid"]), db_line)
        self.assertIn("running", db_line)

    def test_start_and_stop_of_a_manual_instance(self):
        self.start_daemon()
        self.wait_for_states({"db": "running"})
        result = self.ctl("start", "manual")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.status()["manual"]["state"], "running")
        result = self.ctl("stop", "manual", "--no-wait")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.wait_for_states({"manual": "stopped"})

    def test_restart_gives_new_pids_to_the_instance_and_its_dependents(self):
        self.start_daemon()
        before = self.wait_for_states({"db": "running", "app": "running"})
        result = self.ctl("restart", "db")
        self.assertEqual(result.returncode, 0, result.stderr)
        after = self.wait_for_states({"db": "running", "app": "running"})
        self.assertNotEqual(after["db"]["pid"], before["db"]["pid"])
        self.assertNotEqual(after["app"]["pid"], before["app"]["pid"])

    def test_exit_codes(self):
        self.start_daemon()
        self.assertEqual(self.ctl("status", "nosuch").returncode, 2)
        self.assertEqual(self.ctl("start", "nosuch").returncode, 2)
        self.assertEqual(self.ctl("frobnicate").returncode, 2)
        env = dict(self.env, XDG_RUNTIME_DIR=os.path.join(self.tmp, "elsewhere"))
        unreachable = subprocess.run([NIXPMCTL, "--user", "status"], env=env, capture_output=True, text=True)
        self.assertEqual(unreachable.returncode, 3)
        self.assertIn("elsewhere", unreachable.stderr)

    def test_requests_before_hello_are_refused(self):
        self.start_daemon()
        with self.connect() as sock:
            sock.sendall(frame({"id": 1, "op": "status"}))
            reply = read_frame(sock)
            self.assertEqual(reply["error"]["code"], "handshake-required")
            self.assertIsNone(read_frame(sock))  # closed

    def test_a_wrong_protocol_version_is_refused(self):
        self.start_daemon()
        with self.connect() as sock:
            sock.sendall(frame({"id": 1, "op": "hello", "protocol": 99}))
            self.assertEqual(read_frame(sock)["error"]["code"], "unsupported-version")

    def test_malformed_requests_get_errors_and_the_daemon_keeps_answering(self):
        self.start_daemon()
        with self.connect() as sock:
            self.hello(sock)
            sock.sendall(frame(b"this is not json"))
            self.assertEqual(read_frame(sock)["error"]["code"], "bad-json")
            sock.sendall(frame(b"[1, 2, 3]"))
            self.assertEqual(read_frame(sock)["error"]["code"], "bad-json")
            sock.sendall(frame({"id": 2}))
            self.assertEqual(read_frame(sock)["error"]["code"], "bad-request")
            sock.sendall(frame({"id": 3, "op": "fly"}))
            self.assertEqual(read_frame(sock)["error"]["code"], "unknown-op")
            sock.sendall(frame({"id": 4, "op": "start", "names": "db"}))
            self.assertEqual(read_frame(sock)["error"]["code"], "bad-request")
            sock.sendall(frame({"id": 5, "op": "start", "names": ["db"], "timeout": -1}))
            self.assertEqual(read_frame(sock)["error"]["code"], "bad-request")
            sock.sendall(frame({"id": 6, "op": "status", "names": ["db"]}))
            reply = read_frame(sock)
            self.assertEqual(reply["id"], 6)
            self.assertEqual(reply["result"]["instances"][0]["name"], "db")
        self.assertEqual(self.ctl("status").returncode, 0)

    def test_an_oversized_frame_is_refused_and_the_connection_closed(self):
        self.start_daemon()
        with self.connect() as sock:
            self.hello(sock)
            sock.sendall(struct.pack(">I", 64 * 1024 * 1024))
            self.assertEqual(read_frame(sock)["error"]["code"], "bad-frame")
            self.assertIsNone(read_frame(sock))
        with self.connect() as sock:
            sock.sendall(struct.pack(">I", 0))
            self.assertEqual(read_frame(sock)["error"]["code"], "bad-frame")
        self.assertEqual(self.ctl("status").returncode, 0)

    def test_a_truncated_frame_and_a_vanished_client_do_no_harm(self):
        self.start_daemon()
        with self.connect() as sock:
            self.hello(sock)
            sock.sendall(struct.pack(">I", 100) + b'{"id": 1, "op"')
        with self.connect() as sock:
            self.hello(sock)
            sock.sendall(frame({"id": 1, "op": "stop", "names": ["manual"], "wait": True}))
        self.assertEqual(self.ctl("status").returncode, 0)

    def test_list(self):
        self.start_daemon()
        result = self.ctl("list", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        listed = {i["name"]: i for i in json.loads(result.stdout)["instances"]}
        self.assertEqual(set(listed), {"db", "app", "manual"})
        self.assertFalse(listed["manual"]["autostart"])


if __name__ == "__main__":
    unittest.main()
