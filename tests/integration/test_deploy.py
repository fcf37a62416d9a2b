"""`nixpmctl deploy` and `undeploy` for real: the webapps example installed into supervisord (which deploy
starts from the temporary root, unprivileged), sysvinit scripts (a temporary init.d root), runit and s6
(test_deploy_scan_directories.py does runit and s6), each answering through nginx.
A redeploy with one instance removed and one changed leaves the unchanged ones running with the same pid,
stops the removed one and removes its files, and restarts the changed one; undeploy leaves nothing
running and nothing installed."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import NIXPMCTL, SOURCE_DIR, free_port, http_get, pid_alive, wait_until

WEBAPPS = os.path.join(SOURCE_DIR, "examples", "webapps", "processes.yaml")

# One more instance, so that a redeploy can remove it.
EXTRA = """
  extra:
    description: "A process the redeploy removes"
    process: /bin/sleep
    args: ["100000"]
"""


def needs(*tools):
    missing = [tool for tool in tools if not shutil.which(tool)]
    return unittest.skipIf(missing, f"not installed here: {', '.join(missing)} (packaging/dev.sh installs them)")


def default_signals():
    # Ignored signals are inherited: the supervisors and nginx must see SIGINT, SIGQUIT and SIGHUP.
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


class DeployTestCase:
    """What every manager's test shares; subclasses say how to read a service's pid."""

    manager = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=f"nixpm-deploy-{self.manager}-")
        self.state_dir = os.path.join(self.tmp, "state")
        self.root = os.path.join(self.tmp, "root")
        self.config = os.path.join(self.tmp, "processes.yaml")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NIXPROC_") and k != "NIXPM_SOCKET"}
        self.env.update(XDG_CONFIG_HOME=os.path.join(self.tmp, "config"), XDG_STATE_HOME=os.path.join(self.tmp, "xdg"))
        self.seen_pids = set()
        self.ports = {"webapp1": free_port(), "webapp2": free_port(), "nginx": free_port()}

    def tearDown(self):
        if os.path.exists(self.record_path()):
            self.nixpmctl("undeploy")  # a failed test: take down what it deployed
        self.doCleanups()
        leftovers = sorted(pid for pid in self.seen_pids if pid_alive(pid))
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        if not os.environ.get("NIXPM_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(leftovers, [], "processes left behind")

    # ---- helpers -----------------------------------------------------------------------------------

    def write_definitions(self, extra=EXTRA, webapp2_environment=""):
        with open(WEBAPPS) as f:
            text = f.read()
        text = text.replace("5001", str(self.ports["webapp1"])).replace("5002", str(self.ports["webapp2"]))
        text = text.replace("8080", str(self.ports["nginx"]))
        if webapp2_environment:
            text = text.replace("    params: { port: %d }" % self.ports["webapp2"],
                                "    params: { port: %d }\n    environment: { %s }" % (self.ports["webapp2"],
                                                                                    webapp2_environment))
        with open(self.config, "w") as f:
            f.write(text + extra)

    def nixpmctl(self, verb, *args):
        return subprocess.run([NIXPMCTL, verb, "--user", "--state-dir", self.state_dir, *args], capture_output=True,
                              text=True, env=self.env, timeout=120, preexec_fn=default_signals)

    def deploy(self, *extra):
        result = self.nixpmctl("deploy", "--manager", self.manager, "-c", self.config, "--root", self.root, *extra)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result

    def record_path(self):
        return os.path.join(self.state_dir, "lib", "nixpm", "deployment.json")

    def record(self):
        with open(self.record_path()) as f:
            return json.load(f)

    def pids(self, *names):
        """Each named instance's pid once the manager reports it running."""
        found = wait_until(lambda: (p := {n: self.pid_of(n) for n in names}) and all(p.values()) and p,
                           timeout=30, what=f"{', '.join(names)} running under {self.manager}")
        self.seen_pids.update(found.values())
        return found

    @staticmethod
    def environ_of(pid):
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")

    def wait_for_page(self, instance):
        port = self.ports[instance]

        def answered():
            try:
                status, body = http_get(self.ports["nginx"], f"{instance}.local", timeout=2)
            except OSError:
                return False
            return status == 200 and f"Hello from {instance} on port {port}." in body

        wait_until(answered, timeout=30, what=f"nginx to answer for {instance}.local")

    def installed_files(self):
        return sorted(os.path.relpath(os.path.join(top, name), self.root)
                      for top, _, names in os.walk(self.root) for name in names
                      if not os.path.relpath(top, self.root).startswith(".s6-svscan"))

    # ---- the cycle every manager goes through ------------------------------------------------------

    def test_deploy_redeploy_and_undeploy(self):
        self.write_definitions()
        result = self.deploy()
        self.assertEqual(result.stdout, "added: webapp1 webapp2 extra nginx\n")
        record = self.record()
        self.assertEqual(record["manager"], self.manager)
        self.assertEqual(record["root"], self.root)
        self.assertEqual([s["instance"] for s in record["services"]], ["webapp1", "webapp2", "extra", "nginx"])
        for entry in record["files"]:
            self.assertTrue(os.path.lexists(os.path.join(self.root, entry["path"])), entry["path"])
        before = self.pids("webapp1", "webapp2", "nginx", "extra")
        self.wait_for_page("webapp1")
        self.wait_for_page("webapp2")
        extra_files = [e["path"] for e in record["files"] if e["service"] == self.service_name("extra")]
        self.assertTrue(extra_files)

        # The same definitions again: nothing is touched.
        again = self.deploy()
        self.assertEqual(again.stdout, "unchanged: webapp1 webapp2 extra nginx\nnothing changed\n")
        self.assertEqual(self.pids("webapp1", "webapp2", "nginx", "extra"), before)

        # extra removed, webapp2 changed: webapp1 and nginx keep running with the same pid.
        self.write_definitions(extra="", webapp2_environment="GREETING: changed")
        result = self.deploy()
        self.assertEqual(result.stdout.splitlines(), ["removed: extra", "changed: webapp2", "restarted: webapp2",
                                                      "unchanged: webapp1 nginx"])
        wait_until(lambda: not pid_alive(before["extra"]), what="extra to be gone")
        self.assertIsNone(self.pid_of("extra"))
        for path in extra_files:
            self.assertFalse(os.path.lexists(os.path.join(self.root, path)), path)
        after = self.pids("webapp1", "webapp2", "nginx")
        self.assertEqual(after["webapp1"], before["webapp1"])
        self.assertEqual(after["nginx"], before["nginx"])
        self.assertNotEqual(after["webapp2"], before["webapp2"])
        self.assertFalse(pid_alive(before["webapp2"]))
        # The pid a manager reports may still be its run script, which sets the environment and then execs
        # the program: /proc/PID/environ shows the new variable only from that exec on.
        wait_until(lambda: b"GREETING=changed" in self.environ_of(after["webapp2"]),
                   what="webapp2 to run with GREETING=changed")
        self.wait_for_page("webapp2")
        self.assertNotIn("extra", [s["instance"] for s in self.record()["services"]])

        # undeploy: everything stops, the files and the record go.
        result = self.nixpmctl("undeploy", "--manager", self.manager)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout, "removed: nginx webapp2 webapp1\n")
        wait_until(lambda: not any(pid_alive(pid) for pid in self.seen_pids), timeout=20,
                   what="every deployed process to end")
        self.assertFalse(os.path.exists(self.record_path()))
        self.assertEqual(self.installed_files(), [])
        self.after_undeploy()
        again = self.nixpmctl("undeploy")
        self.assertEqual((again.returncode, again.stdout.startswith("nothing is deployed")), (0, True), again.stdout)

    def service_name(self, instance):
        return instance

    def after_undeploy(self):
        pass


@needs("supervisord", "supervisorctl", "nginx")
class Supervisord(DeployTestCase, unittest.TestCase):
    manager = "supervisord"

    def conf(self):
        return os.path.join(self.root, "supervisord.conf")

    def supervisord_pid(self):
        try:
            with open(os.path.join(self.state_dir, "run", "supervisord.pid")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def pid_of(self, name):
        result = subprocess.run(["supervisorctl", "-c", self.conf(), "status", name], capture_output=True, text=True,
                                env=self.env, timeout=30)
        match = re.match(rf"^{name} +RUNNING +pid (\d+),", result.stdout)
        if self.supervisord_pid():
            self.seen_pids.add(self.supervisord_pid())
        return int(match.group(1)) if match else None

    def after_undeploy(self):
        # deploy started this supervisord, so undeploy stopped it.
        self.assertFalse(os.path.exists(os.path.join(self.state_dir, "run", "supervisord.sock")))

    def test_usage_errors_strict_and_a_recorded_deployment_onto_another_manager(self):
        self.write_definitions()
        result = self.nixpmctl("deploy", "--manager", "supervisor", "-c", self.config, "--root", self.root)
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown process manager 'supervisor' (did you mean 'supervisord'?)", result.stderr)
        result = self.nixpmctl("deploy", "--manager", self.manager, "-c", self.config, "--root", self.root,
                               "--strict")
        self.assertEqual(result.returncode, 1)
        self.assertIn("nginx: dependencies: emulated on supervisord", result.stderr)
        self.assertIn("--strict: the definitions lose", result.stderr)
        self.assertFalse(os.path.exists(self.root))
        self.assertFalse(os.path.exists(self.record_path()))
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("instances:\n  a: { proces: /bin/true }\n")
        result = self.nixpmctl("deploy", "--manager", self.manager, "-c", bad, "--root", self.root)
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown key 'proces'", result.stderr)

        # A deployment onto sysvinit is recorded: supervisord must wait for its undeploy.
        sysv_root = os.path.join(self.tmp, "sysv")
        small = os.path.join(self.tmp, "small.yaml")
        with open(small, "w") as f:
            f.write("instances:\n  sleeper: { process: /bin/sleep, args: ['100000'] }\n")
        result = self.nixpmctl("deploy", "--manager", "sysvinit", "-c", small, "--root", sysv_root)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(self.state_dir, "run", "sleeper.pid")) as f:
            sleeper = int(f.read())
        self.seen_pids.add(sleeper)
        result = self.nixpmctl("deploy", "--manager", self.manager, "-c", self.config, "--root", self.root)
        self.assertEqual(result.returncode, 2)
        self.assertIn("a deployment onto sysvinit", result.stderr)
        self.assertIn("undeploy it first", result.stderr)
        result = self.nixpmctl("undeploy", "--manager", self.manager)
        self.assertEqual(result.returncode, 2)
        self.assertIn("the recorded deployment is onto sysvinit, not supervisord", result.stderr)
        self.assertTrue(pid_alive(sleeper))
        result = self.nixpmctl("undeploy")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertFalse(pid_alive(sleeper))


@needs("start-stop-daemon", "nginx", "bash")
class Sysvinit(DeployTestCase, unittest.TestCase):
    manager = "sysvinit"

    def pid_of(self, name):
        script = os.path.join(self.root, "init.d", name)
        if not os.path.exists(script):
            return None
        result = subprocess.run([script, "status"], capture_output=True, text=True, env=self.env, timeout=30)
        match = re.search(r"\(pid (\d+)\)", result.stdout)
        return int(match.group(1)) if result.returncode == 0 and match else None


if __name__ == "__main__":
    unittest.main()
