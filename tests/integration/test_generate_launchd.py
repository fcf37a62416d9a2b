"""launchd, generation-tested (no launchd here): the plists nixpmctl writes are valid against the DTD we
ship (xmllint --valid, resolved through an XML catalog, never the network), Python's plistlib reads them
with the expected keys, the /bin/sh wrappers inside ProgramArguments pass sh -n and shellcheck, and the
webapps example's jobs, run the way launchd runs them (environment, working directory, log file, SIGTERM
to stop), really serve through nginx."""

import os
import plistlib
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import NIXPMCTL, SOURCE_DIR, free_port, http_get, pid_alive, wait_until

DTD = os.path.join(SOURCE_DIR, "packaging", "launchd", "plist-1.0.dtd")
FULL = os.path.join(SOURCE_DIR, "tests", "fixtures", "managers", "full.yaml")
EXAMPLE = os.path.join(SOURCE_DIR, "examples", "webapps", "processes.yaml")
# launchd's own PATH for jobs.
LAUNCHD_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"


def default_signals():
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


class LaunchdPlists(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nixpm-launchd-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.catalog = os.path.join(self.tmp, "catalog.xml")
        with open(self.catalog, "w") as f:
            f.write('<?xml version="1.0"?>\n'
                    '<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">\n'
                    f'  <public publicId="-//Apple//DTD PLIST 1.0//EN" uri="file://{DTD}"/>\n'
                    '</catalog>\n')

    def generate(self, definitions, scope, state_dir="/var"):
        out = os.path.join(self.tmp, f"out-{len(os.listdir(self.tmp))}")
        result = subprocess.run([NIXPMCTL, "generate", "--manager", "launchd", "-c", definitions, "-o", out,
                                 f"--{scope}", "--state-dir", state_dir],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        folder = os.path.join(out, "LaunchDaemons" if scope == "system" else "LaunchAgents")
        self.assertEqual(os.listdir(out), [os.path.basename(folder)])
        jobs = {}
        for name in sorted(os.listdir(folder)):
            self.assertTrue(name.startswith("org.nixpm.") and name.endswith(".plist"), name)
            path = os.path.join(folder, name)
            self.validate(path)
            with open(path, "rb") as f:
                jobs[name[len("org.nixpm."):-len(".plist")]] = plistlib.load(f)
        return jobs, result.stderr

    def validate(self, path):
        result = subprocess.run(["xmllint", "--noout", "--nonet", "--valid", path], capture_output=True, text=True,
                                env=dict(os.environ, XML_CATALOG_FILES=self.catalog), timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")

    def check_common_keys(self, name, job):
        self.assertEqual(job["Label"], f"org.nixpm.{name}")
        self.assertTrue(job["ProgramArguments"] and all(isinstance(a, str) for a in job["ProgramArguments"]))
        self.assertIsInstance(job["RunAtLoad"], bool)
        self.assertTrue(os.path.isabs(job["WorkingDirectory"]))
        self.assertEqual(job["StandardOutPath"], job["StandardErrorPath"])
        self.assertIsInstance(job["ExitTimeOut"], int)

    def test_the_dtd_refuses_what_is_not_a_plist(self):
        bad = os.path.join(self.tmp, "bad.plist")
        with open(bad, "w") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
                    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
                    '<plist version="1.0"><dict><key>Label</key><key>Twice</key></dict></plist>\n')
        result = subprocess.run(["xmllint", "--noout", "--nonet", "--valid", bad], capture_output=True, text=True,
                                env=dict(os.environ, XML_CATALOG_FILES=self.catalog), timeout=60)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("does not follow the DTD", result.stderr)

    def test_daemons_carry_every_setting_launchd_has_and_report_what_it_lacks(self):
        jobs, report = self.generate(FULL, "system")
        self.assertEqual(sorted(jobs), ["cache", "monitor", "notifier", "prepare", "proxy", "webapp1", "webapp2"])
        for name, job in jobs.items():
            self.check_common_keys(name, job)
        proxy = jobs["proxy"]
        self.assertEqual(proxy["UserName"], "proxy")
        self.assertEqual(proxy["Umask"], 0o027)
        self.assertEqual(proxy["Nice"], 5)
        self.assertEqual(proxy["WorkingDirectory"], "/var/lib/proxy")
        self.assertIs(proxy["KeepAlive"], True)
        self.assertEqual(proxy["ThrottleInterval"], 2)
        self.assertEqual(proxy["ExitTimeOut"], 20)
        self.assertEqual(proxy["ProcessType"], "Interactive")  # overrides.launchd
        self.assertEqual(proxy["EnvironmentVariables"]["PATH"], "/usr/local/bin:/usr/local/sbin:" + LAUNCHD_PATH)
        self.assertEqual(proxy["EnvironmentVariables"]["GREETING"], "it's \"quoted\", $HOME stays, 100% literal")
        self.assertEqual(proxy["ProgramArguments"][-7:],
                         ["/usr/sbin/nginx", "-p", "/var/lib/proxy", "-c", "/var/etc/proxy/nginx.conf", "-g",
                          "daemon off;"])
        self.assertEqual(jobs["monitor"]["KeepAlive"], {"SuccessfulExit": False})
        self.assertNotIn("KeepAlive", jobs["prepare"])  # a oneshot with restart: never
        self.assertEqual(jobs["prepare"]["Umask"], 0o077)
        self.assertEqual((jobs["notifier"]["RunAtLoad"], jobs["notifier"]["Disabled"]), (False, True))
        self.assertEqual(jobs["webapp1"]["ProgramArguments"][:2], ["/bin/sh", "-c"])  # it writes index.html
        self.assertEqual(jobs["webapp1"]["EnvironmentVariables"], {"PORT": "5101", "PYTHONUNBUFFERED": "1"})
        for line in ("proxy: dependencies: lost on launchd: launchd has no dependency ordering",
                     "proxy: credentials: lost on launchd", "cache: daemon: emulated on launchd",
                     "proxy: stopSignal: emulated on launchd", "webapp1: readiness.tcp: lost on launchd"):
            self.assertIn(line, report)

    def test_agents_run_as_their_user(self):
        jobs, report = self.generate(FULL, "user")
        for name, job in jobs.items():
            self.check_common_keys(name, job)
            self.assertNotIn("UserName", job)
        self.assertIn("proxy: user: lost on launchd: user scope", report)

    def test_the_wrappers_in_program_arguments_are_sound_shell(self):
        scripts = []
        for definitions in (FULL, EXAMPLE):
            jobs, _ = self.generate(definitions, "system")
            for name, job in jobs.items():
                arguments = job["ProgramArguments"]
                for i, word in enumerate(arguments[:-1]):
                    if word in ("-c", "-ec") and arguments[i - 1] == "/bin/sh":
                        path = os.path.join(self.tmp, f"{name}-{i}.sh")
                        with open(path, "w") as f:
                            f.write(arguments[i + 1])
                        scripts.append(path)
        self.assertGreaterEqual(len(scripts), 6)
        for script in scripts:
            result = subprocess.run(["sh", "-n", script], capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
        result = subprocess.run(["shellcheck", "-s", "sh", "-e", "SC2016"] + scripts, capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout)

    def test_the_webapps_jobs_serve_through_nginx_when_run_as_launchd_runs_them(self):
        ports = {"webapp1": free_port(), "webapp2": free_port(), "nginx": free_port()}
        with open(EXAMPLE) as f:
            text = f.read()
        text = text.replace("5001", str(ports["webapp1"])).replace("5002", str(ports["webapp2"]))
        definitions = os.path.join(self.tmp, "processes.yaml")
        with open(definitions, "w") as f:
            f.write(text.replace("8080", str(ports["nginx"])))
        state = os.path.join(self.tmp, "state")
        for sub in ("run", "log", "tmp", "lib", "cache"):  # what a deployment prepares
            os.makedirs(os.path.join(state, sub))
        jobs, _ = self.generate(definitions, "user", state_dir=state)

        processes = {}
        for name in ("webapp1", "webapp2", "nginx"):  # launchd has no order; the test starts nginx last
            job = jobs[name]
            log = open(job["StandardOutPath"], "a")
            self.addCleanup(log.close)
            processes[name] = subprocess.Popen(
                job["ProgramArguments"], cwd=job["WorkingDirectory"], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env={"PATH": LAUNCHD_PATH, **job.get("EnvironmentVariables", {})},
                start_new_session=True, preexec_fn=default_signals)
        self.addCleanup(self.kill_all, processes)

        for name in ("webapp1", "webapp2"):
            port = ports[name]
            wait_until(lambda: (r := self.proxied(ports["nginx"], f"{name}.local")) and r[0] == 200
                       and f"Hello from {name} on port {port}." in r[1], timeout=30,
                       what=f"nginx to answer for {name}.local")
        nginx_pid_file = os.path.join(state, "run", "nginx.pid")
        with open(nginx_pid_file) as f:
            nginx = int(f.read())

        # launchd stops a job with SIGTERM: the nginx job's wrapper turns it into QUIT, nginx's graceful
        # stop, and exits 0; the webapps die of the SIGTERM itself.
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        self.assertEqual(processes["nginx"].wait(timeout=20), 0)
        self.assertEqual(processes["webapp1"].wait(timeout=20), -signal.SIGTERM)
        self.assertEqual(processes["webapp2"].wait(timeout=20), -signal.SIGTERM)
        wait_until(lambda: not pid_alive(nginx), what="nginx's master process to exit")
        with open(jobs["webapp1"]["StandardOutPath"]) as f:
            self.assertIn("GET / HTTP", f.read())

    @staticmethod
    def proxied(port, host):
        try:
            return http_get(port, host, timeout=2)
        except OSError:
            return None

    @staticmethod
    def kill_all(processes):
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
