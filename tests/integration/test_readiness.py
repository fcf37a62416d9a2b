"""Readiness with real processes: dependents wait for a TCP port or a pid file; a start that never
becomes ready fails after startTimeout."""

import sys
import unittest

from harness import DaemonTestCase, free_port

PY = sys.executable


class Readiness(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.write_definitions(f"""
instances:
  slowServer:
    process: {PY}
    args: ["-c", "import time, http.server, socketserver\\ntime.sleep(0.7)\\nsocketserver.TCPServer(('127.0.0.1', {self.port}), http.server.SimpleHTTPRequestHandler).serve_forever()"]
    readiness: {{ tcp: {{ host: 127.0.0.1, port: {self.port} }} }}
  client:
    process: /bin/sleep
    args: ["600"]
    dependencies: [slowServer]
  writesPidFile:
    process: /bin/sh
    args: ["-c", "sleep 0.3; echo $$ > ${{runtimeDir}}/writes.pid; exec sleep 600"]
    pidFile: "${{runtimeDir}}/writes.pid"
    readiness: pidFile
  neverReady:
    autostart: false
    restart: never
    process: /bin/sleep
    args: ["600"]
    readiness: {{ tcp: {{ host: 127.0.0.1, port: {free_port()} }} }}
    startTimeout: 0.5
""")

    def test_dependents_start_only_once_the_port_accepts(self):
        self.start_daemon()
        self.wait_for_states({"slowServer": "running", "client": "running", "writesPidFile": "running"})
        status = self.status()
        self.assertEqual((status["slowServer"]["readiness"], status["slowServer"]["ready"]), ("tcp", True))
        self.assertEqual(status["writesPidFile"]["readiness"], "pidFile")
        ready, started = self.daemon_log_order("slowServer: ready", "client: started")
        self.assertTrue(0 <= ready < started, self.read_daemon_log())
        self.assertIn("writesPidFile: ready", self.read_daemon_log())

    def test_a_start_that_never_becomes_ready_fails(self):
        self.start_daemon()
        result = self.ctl("start", "neverReady")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not ready within 0.5s", result.stderr)
        self.assertEqual(self.status()["neverReady"]["state"], "failed")


if __name__ == "__main__":
    unittest.main()
