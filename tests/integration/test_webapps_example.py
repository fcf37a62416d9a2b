"""The bundled example end to end: two webapps behind a real nginx, supervised by the real nixpmd."""

import os
import re
import signal
import unittest

from harness import SOURCE_DIR, DaemonTestCase, free_port, http_get, pid_alive, wait_until

EXAMPLE = os.path.join(SOURCE_DIR, "examples", "webapps", "processes.yaml")
ALL_RUNNING = {"webapp1": "running", "webapp2": "running", "nginx": "running"}


class WebappsExample(DaemonTestCase):
    def setUp(self):
        super().setUp()
        # The example as shipped, on ports that are free on this machine.
        with open(EXAMPLE) as f:
            text = f.read()
        self.ports = {"webapp1": free_port(), "webapp2": free_port(), "nginx": free_port()}
        text = text.replace("5001", str(self.ports["webapp1"])).replace("5002", str(self.ports["webapp2"]))
        text = text.replace("8080", str(self.ports["nginx"]))
        self.write_definitions(text)

    def proxied(self, host):
        try:
            return http_get(self.ports["nginx"], host)
        except OSError:
            return None

    def wait_for_page(self, host, instance):
        port = self.ports[instance]
        return wait_until(lambda: (r := self.proxied(host)) and r[0] == 200 and f"{instance} on port {port}" in r[1],
                          what=f"nginx to answer for {host}")

    def test_comes_up_in_order_and_proxies_to_each_webapp(self):
        self.start_daemon()
        instances = self.wait_for_states(ALL_RUNNING)
        for name in ALL_RUNNING:
            self.assertIsInstance(instances[name]["pid"], int)
        # nginx was spawned only after both webapps.
        w1, w2, ng = self.daemon_log_order("webapp1: started", "webapp2: started", "nginx: started")
        self.assertTrue(0 <= w1 < ng and 0 <= w2 < ng, self.read_daemon_log())
        self.wait_for_page("webapp1.local", "webapp1")
        self.wait_for_page("webapp2.local", "webapp2")
        # The pid reported is the managed process itself, not a wrapper.
        with open(f"/proc/{instances['nginx']['pid']}/comm") as f:
            self.assertEqual(f.read().strip(), "nginx")
        # Generated files were written under the state dir.
        self.assertTrue(os.path.exists(os.path.join(self.state_dir, "etc", "nginx.conf")))
        self.assertIn("Serving HTTP", self.log_of("webapp1"))

    def test_a_killed_webapp_comes_back_with_a_new_pid_and_nginx_follows(self):
        self.start_daemon()
        before = self.wait_for_states(ALL_RUNNING)
        old_pid = before["webapp1"]["pid"]
        os.kill(old_pid, signal.SIGKILL)
        # nginx needs webapp1: it stops, and starts again once webapp1 is back (docs/lifecycle.md).
        after = wait_until(lambda: (s := self.status())["webapp1"]["state"] == "running"
                           and s["webapp1"]["pid"] != old_pid and s["nginx"]["state"] == "running"
                           and s["nginx"]["pid"] != before["nginx"]["pid"] and s, what="webapp1 and nginx back")
        self.assertEqual(after["webapp1"]["restarts"], 1)
        self.assertEqual(after["webapp1"]["lastExit"], "killed by SIGKILL")
        self.assertEqual(after["nginx"]["restarts"], 0)
        self.assertEqual(after["webapp2"]["pid"], before["webapp2"]["pid"])  # not involved
        self.assertFalse(pid_alive(before["nginx"]["pid"]))
        self.wait_for_page("webapp1.local", "webapp1")

    def test_stopping_a_webapp_stops_nginx_first(self):
        self.start_daemon()
        before = self.wait_for_states(ALL_RUNNING)
        result = self.ctl("stop", "webapp1")
        self.assertEqual(result.returncode, 0, result.stderr)
        after = self.status()
        self.assertEqual(after["webapp1"]["state"], "stopped")
        self.assertEqual(after["nginx"]["state"], "stopped")
        self.assertEqual(after["webapp2"]["state"], "running")
        self.assertFalse(pid_alive(before["webapp1"]["pid"]))
        self.assertFalse(pid_alive(before["nginx"]["pid"]))
        log = self.read_daemon_log()
        nginx_exit = log.find(f"nginx: process {before['nginx']['pid']}")
        webapp_exit = log.find(f"webapp1: process {before['webapp1']['pid']}")
        self.assertTrue(0 <= nginx_exit < webapp_exit, log)
        # Starting nginx brings its dependency back first.
        result = self.ctl("start", "nginx")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.wait_for_states(ALL_RUNNING)
        self.wait_for_page("webapp1.local", "webapp1")

    def test_shutdown_leaves_no_process_behind(self):
        self.start_daemon()
        instances = self.wait_for_states(ALL_RUNNING)
        pids = [i["pid"] for i in instances.values()]
        result = self.ctl("shutdown")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.daemon.wait(timeout=30), 0)
        for pid in pids:
            self.assertFalse(pid_alive(pid), f"pid {pid} survived the shutdown")
        # nginx workers are children of the nginx master; none may be left either.
        self.assertFalse(any(re.match(r"nginx: worker", _cmdline(p)) for p in _all_pids()
                             if _parent_of(p) in pids))
        self.assertFalse(os.path.exists(self.socket_path))

    def test_logs_are_appended_and_kept_after_a_stop(self):
        self.start_daemon()
        self.wait_for_states(ALL_RUNNING)
        self.wait_for_page("webapp1.local", "webapp1")
        self.assertEqual(self.ctl("restart", "webapp1").returncode, 0)
        self.wait_for_states(ALL_RUNNING)
        self.wait_for_page("webapp1.local", "webapp1")
        self.assertEqual(self.ctl("stop", "webapp1").returncode, 0)
        self.assertEqual(self.log_of("webapp1").count("Serving HTTP"), 2)


def _all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


if __name__ == "__main__":
    unittest.main()
