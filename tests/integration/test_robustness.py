"""The control socket under abuse: random and truncated bytes, many clients at once, other users."""

import os
import pwd
import random
import shutil
import socket
import struct
import subprocess
import threading
import unittest

from harness import NIXPMCTL, DaemonTestCase, frame, read_frame

DEFINITIONS = """
instances:
  one: { process: /bin/sleep, args: ["600"] }
  two: { process: /bin/sleep, args: ["600"], dependencies: [one] }
"""


class Robustness(DaemonTestCase):
    definitions = DEFINITIONS

    def test_random_and_truncated_bytes_never_take_the_daemon_down(self):
        self.start_daemon()
        self.wait_for_states({"one": "running", "two": "running"})
        rng = random.Random(20261125)
        valid = frame({"id": 1, "op": "hello", "protocol": 1}) + frame({"id": 2, "op": "status"})
        for round_number in range(300):
            with self.connect() as sock:
                kind = round_number % 4
                if kind == 0:
                    payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 512)))
                elif kind == 1:
                    payload = valid[: rng.randrange(1, len(valid))]
                elif kind == 2:
                    size = rng.randrange(1, 64)
                    payload = frame({"id": 1, "op": "hello", "protocol": 1}) + struct.pack(">I", size) + \
                        bytes(rng.randrange(256) for _ in range(size))
                else:
                    body = bytearray(valid)
                    for _ in range(rng.randrange(1, 6)):
                        body[rng.randrange(len(body))] = rng.randrange(256)
                    payload = bytes(body)
                try:
                    sock.sendall(payload)
                    sock.shutdown(socket.SHUT_WR)
                    while sock.recv(65536):
                        pass
                except OSError:
                    pass  # the daemon may close first; that is allowed
            self.assertIsNone(self.daemon.poll(), f"nixpmd died in round {round_number}")
        result = self.ctl("status", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_hundred_concurrent_clients(self):
        self.start_daemon()
        self.wait_for_states({"one": "running", "two": "running"})
        errors = []

        def client(number):
            try:
                with self.connect() as sock:
                    sock.sendall(frame({"id": 0, "op": "hello", "protocol": 1}))
                    if not read_frame(sock)["ok"]:
                        raise AssertionError("hello refused")
                    for request in range(5):
                        sock.sendall(frame({"id": request + 1, "op": "status", "names": ["two"]}))
                        reply = read_frame(sock)
                        if reply["id"] != request + 1 or reply["result"]["instances"][0]["state"] != "running":
                            raise AssertionError(f"client {number}: bad reply {reply}")
            except Exception as error:  # collected and reported by the main thread
                errors.append(error)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(errors, [])

    def test_a_client_that_never_reads_does_not_block_others(self):
        self.start_daemon()
        with self.connect() as greedy:
            greedy.sendall(frame({"id": 0, "op": "hello", "protocol": 1}))
            request = frame({"id": 1, "op": "status"})
            greedy.setblocking(False)
            try:
                for _ in range(20000):
                    greedy.send(request)
            except BlockingIOError:
                pass  # its socket buffer is full: the daemon is not reading faster than it can write
            result = self.ctl("status")
            self.assertEqual(result.returncode, 0, result.stderr)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("useradd"), "needs root and useradd to make a second user")
    def test_another_uid_is_refused(self):
        self.start_daemon()
        user = "nixpmtest%d" % os.getpid()
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user], check=True)
        self.addCleanup(subprocess.run, ["userdel", user], check=False)
        uid = pwd.getpwnam(user).pw_uid
        # Let the other user reach the socket file itself, so that only the daemon's check stands in the way.
        os.chmod(os.path.dirname(self.socket_path), 0o755)
        os.chmod(self.socket_path, 0o666)
        for d in (self.tmp, self.env["XDG_RUNTIME_DIR"]):
            os.chmod(d, 0o755)
        result = subprocess.run([NIXPMCTL, "--socket", self.socket_path, "status"], capture_output=True, text=True,
                                user=uid, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(f"refused a connection from uid {uid}", self.read_daemon_log())
        self.assertEqual(self.ctl("status").returncode, 0)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("useradd") and shutil.which("groupadd"),
                     "needs root, useradd and groupadd to make a group with a member")
class SocketGroup(DaemonTestCase):
    definitions = DEFINITIONS

    def setUp(self):
        super().setUp()
        suffix = os.getpid()
        self.group = f"nixpmg{suffix}"
        self.member = f"nixpmm{suffix}"
        self.outsider = f"nixpmo{suffix}"
        subprocess.run(["groupadd", self.group], check=True)
        self.addCleanup(subprocess.run, ["groupdel", self.group], check=False)
        for user, groups in ((self.member, ["-G", self.group]), (self.outsider, [])):
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", *groups, user], check=True)
            self.addCleanup(subprocess.run, ["userdel", user], check=False)
        for d in (self.tmp, self.env["XDG_RUNTIME_DIR"]):
            os.chmod(d, 0o755)

    def ctl_as(self, user, *args):
        entry = pwd.getpwnam(user)
        return subprocess.run([NIXPMCTL, "--socket", self.socket_path, *args], capture_output=True, text=True,
                              user=entry.pw_uid, group=entry.pw_gid,
                              extra_groups=os.getgrouplist(user, entry.pw_gid),
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})

    def test_members_may_read_but_not_change_with_read_access(self):
        self.start_daemon("--socket-group", self.group)
        self.wait_for_states({"one": "running", "two": "running"})
        self.assertEqual(self.ctl_as(self.member, "status").returncode, 0)
        denied = self.ctl_as(self.member, "stop", "two")
        self.assertEqual(denied.returncode, 1)
        self.assertIn("may only read", denied.stderr)
        self.assertEqual(self.status()["two"]["state"], "running")
        self.assertNotEqual(self.ctl_as(self.outsider, "status").returncode, 0)

    def test_members_may_change_with_full_access(self):
        self.start_daemon("--socket-group", self.group, "--socket-group-access", "full")
        self.wait_for_states({"one": "running", "two": "running"})
        result = self.ctl_as(self.member, "stop", "two")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.status()["two"]["state"], "stopped")


if __name__ == "__main__":
    unittest.main()
