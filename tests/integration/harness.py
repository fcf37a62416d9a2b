"""Shared helpers for the integration tests: a real nixpmd on temporary directories, the real
nixpmctl, and waiting for conditions with deadlines (never fixed sleeps)."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request

NIXPMD = os.environ.get("NIXPMD", "nixpmd")
NIXPMCTL = os.environ.get("NIXPMCTL", "nixpmctl")
SOURCE_DIR = os.environ.get("NIXPM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def wait_until(condition, timeout=20.0, what="condition"):
    """Polls `condition` until it returns a true value, which is returned; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def http_get(port, host, timeout=5.0):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read().decode()


def frame(message):
    payload = message if isinstance(message, bytes) else json.dumps(message).encode()
    return struct.pack(">I", len(payload)) + payload


def read_frame(sock):
    header = b""
    while len(header) < 4:
        chunk = sock.recv(4 - len(header))
        if not chunk:
            return None
        header += chunk
    (size,) = struct.unpack(">I", header)
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            return None
        body += chunk
    return json.loads(body)


class DaemonTestCase(unittest.TestCase):
    """Runs one nixpmd per test in its own XDG directories, and stops it (and only it) afterwards."""

    definitions = None  # YAML text; subclasses set it or write self.config_file before start_daemon()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nixpm-it-")
        self.env = dict(os.environ)
        for key in ("NIXPM_SOCKET", "NIXPROC_STATE_DIR", "NIXPROC_RUNTIME_DIR", "NIXPROC_LOG_DIR",
                    "NIXPROC_TMP_DIR", "NIXPROC_CACHE_DIR"):
            self.env.pop(key, None)
        self.env.update({
            "XDG_RUNTIME_DIR": os.path.join(self.tmp, "runtime"),
            "XDG_STATE_HOME": os.path.join(self.tmp, "state"),
            "XDG_CONFIG_HOME": os.path.join(self.tmp, "config"),
        })
        os.makedirs(self.env["XDG_RUNTIME_DIR"], mode=0o700)
        self.state_dir = os.path.join(self.tmp, "state", "nixpm")
        self.socket_path = os.path.join(self.env["XDG_RUNTIME_DIR"], "nixpm", "control.sock")
        self.config_file = os.path.join(self.tmp, "processes.yaml")
        self.daemon = None
        self.daemon_log = os.path.join(self.tmp, "nixpmd.log")
        self.seen_pids = set()

    def tearDown(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        # Anything the daemon started and left behind is a failure, and is ended here by its pid.
        leftovers = [pid for pid in self.seen_pids if pid_alive(pid)]
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        self.assertEqual(leftovers, [], "processes left behind")

    def run(self, result=None):
        result = result or self.defaultTestResult()
        failures_before = len(result.failures) + len(result.errors)
        super().run(result)
        if len(result.failures) + len(result.errors) > failures_before:
            print(f"\n--- nixpmd log of {self.id()} ---\n{self.read_daemon_log()}", flush=True)
        if hasattr(self, "tmp") and not os.environ.get("NIXPM_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        return result

    def write_definitions(self, text):
        with open(self.config_file, "w") as f:
            f.write(text)

    def start_daemon(self, *extra, wait_ready=True):
        if self.definitions is not None and not os.path.exists(self.config_file):
            self.write_definitions(self.definitions)
        log = open(self.daemon_log, "ab")
        self.daemon = subprocess.Popen([NIXPMD, "--user", "-c", self.config_file, "--log-level", "debug", *extra],
                                       env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        if wait_ready:
            wait_until(lambda: self.daemon.poll() is not None or self.ctl("list").returncode == 0,
                       what="nixpmd to answer")
            self.assertIsNone(self.daemon.poll(), "nixpmd exited:\n" + self.read_daemon_log())
        return self.daemon

    def read_daemon_log(self):
        try:
            with open(self.daemon_log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def ctl(self, *args, timeout=60):
        return subprocess.run([NIXPMCTL, "--user", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def status(self, *names):
        result = self.ctl("status", "--json", *names)
        self.assertEqual(result.returncode, 0, result.stderr)
        instances = {i["name"]: i for i in json.loads(result.stdout)["instances"]}
        for instance in instances.values():
            if instance["pid"]:
                self.seen_pids.add(instance["pid"])
        return instances

    def wait_for_states(self, expected, timeout=20.0):
        """Waits until every instance named in `expected` is in the given state."""
        def reached():
            current = self.status()
            return current if all(current[n]["state"] == s for n, s in expected.items()) else None
        return wait_until(reached, timeout, what=f"states {expected}")

    def log_of(self, instance):
        try:
            with open(os.path.join(self.state_dir, "log", f"{instance}.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(self.socket_path)
        return sock

    def daemon_log_order(self, *needles):
        """Positions of the first occurrence of each needle in nixpmd's own log."""
        text = self.read_daemon_log()
        return [text.find(n) for n in needles]


class SystemDaemonTestCase(DaemonTestCase):
    """A root nixpmd in system mode (--system) on its own socket and state dir under the test's
    temporary directory, which is made reachable (0755) for the users its instances run as."""

    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)
        self.user_socket = self.socket_path
        self.socket_path = os.path.join(self.tmp, "system.sock")
        self.system_state = os.path.join(self.tmp, "system-state")
        self.state_dir = self.system_state

    def start_daemon(self, *extra, wait_ready=True):
        log = open(self.daemon_log, "ab")
        self.daemon = subprocess.Popen([NIXPMD, "--system", "-c", self.config_file, "--socket", self.socket_path,
                                        "--state-dir", self.system_state, "--log-level", "debug", *extra],
                                       env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        if wait_ready:
            wait_until(lambda: self.daemon.poll() is not None or self.ctl("list").returncode == 0,
                       what="nixpmd to answer")
            self.assertIsNone(self.daemon.poll(), "nixpmd exited:\n" + self.read_daemon_log())
        return self.daemon

    def ctl(self, *args, timeout=60):
        return subprocess.run([NIXPMCTL, "--socket", self.socket_path, *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)
