"""`nixpmctl generate`: the command line, and the generated files checked with the managers' own tools.

systemd units go through `systemd-analyze verify` (this machine does not run systemd as PID 1, so units
are verified, not started), sysvinit scripts run for real with start-stop-daemon, supervisord runs its
generated configuration for real from a temporary directory, and every generated shell script passes
`sh -n` and `shellcheck`. The capability tables in docs/managers.md must match `generate --capabilities`
(NIXPM_UPDATE_GOLDEN=1 rewrites them instead)."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest
import xmlrpc.client

from harness import NIXPMCTL, SOURCE_DIR, free_port, http_get, pid_alive, wait_until

FULL = os.path.join(SOURCE_DIR, "tests", "fixtures", "managers", "full.yaml")
WEBAPPS = os.path.join(SOURCE_DIR, "examples", "webapps", "processes.yaml")
DOCS = os.path.join(SOURCE_DIR, "docs", "managers.md")
MY_MANAGERS = ["systemd", "supervisord", "sysvinit", "bsdrc"]


def needs(*tools):
    missing = [tool for tool in tools if not shutil.which(tool)]
    return unittest.skipIf(missing, f"not installed here: {', '.join(missing)} (packaging/dev.sh installs them)")


class GenerateTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nixpm-generate-")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NIXPROC_") and k != "NIXPM_SOCKET"}
        self.state_dir = os.path.join(self.tmp, "state")
        self.started_pids = set()

    def tearDown(self):
        self.doCleanups()  # e.g. stop supervisord first, which stops its programs
        # Whatever a test started and left behind is a failure, and is ended here by its pid.
        leftovers = sorted(pid for pid in self.started_pids if pid_alive(pid))
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        if not os.environ.get("NIXPM_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(leftovers, [], "processes left behind")

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def generate(self, *args, env=None):
        return subprocess.run([NIXPMCTL, "generate", *args], capture_output=True, text=True, env=env or self.env,
                              timeout=60)

    def generate_ok(self, manager, config, out, *extra):
        result = self.generate("--manager", manager, "-c", config, "-o", out, *extra)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def webapps_on_free_ports(self):
        """The webapps example as shipped, on ports free on this machine."""
        with open(WEBAPPS) as f:
            text = f.read()
        self.ports = {"webapp1": free_port(), "webapp2": free_port(), "nginx": free_port()}
        text = text.replace("5001", str(self.ports["webapp1"])).replace("5002", str(self.ports["webapp2"]))
        text = text.replace("8080", str(self.ports["nginx"]))
        return self.write("webapps.yaml", text)

    def wait_for_page(self, host, instance):
        port = self.ports[instance]

        def answered():
            try:
                status, body = http_get(self.ports["nginx"], host)
            except OSError:
                return None
            return status == 200 and f"{instance} on port {port}" in body

        wait_until(answered, what=f"nginx to answer for {host}")

    def read_pid(self, file):
        """The pid in `file` once it holds one (it may be written just after a start returns)."""

        def pid_in():
            try:
                with open(file) as f:
                    return int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                return None

        pid = wait_until(pid_in, what=f"a pid in {file}")
        self.started_pids.add(pid)
        return pid


class CommandLine(GenerateTestCase):
    def test_list_names_every_manager_with_a_description(self):
        result = self.generate("--list")
        self.assertEqual(result.returncode, 0, result.stderr)
        names = [line.split()[0] for line in result.stdout.splitlines()]
        self.assertEqual(names[:4], MY_MANAGERS)
        self.assertEqual(set(names), {"systemd", "supervisord", "sysvinit", "bsdrc", "launchd", "cygrunsrv", "s6-rc",
                                      "runit", "s6"})
        for line in result.stdout.splitlines():
            self.assertGreater(len(line.split()), 2, line)

    def test_an_unknown_manager_is_a_usage_error_naming_the_known_ones(self):
        result = self.generate("--manager", "systemdd", "-c", WEBAPPS, "-o", self.path("out"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown process manager 'systemdd' (did you mean 'systemd'?)", result.stderr)
        self.assertIn("known managers: systemd, supervisord, sysvinit, bsdrc", result.stderr)
        self.assertFalse(os.path.exists(self.path("out")))

    def test_the_output_directory_and_the_manager_are_required(self):
        result = self.generate("--manager", "systemd", "-c", WEBAPPS)
        self.assertEqual(result.returncode, 2)
        self.assertIn("-o DIR is required", result.stderr)
        result = self.generate("-c", WEBAPPS, "-o", self.path("out"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("--manager is required", result.stderr)
        self.assertFalse(os.path.exists(self.path("out")))

    def test_invalid_definitions_are_a_definition_error(self):
        config = self.write("bad.yaml", "instances:\n  a: { proces: /bin/true }\n")
        result = self.generate("--manager", "systemd", "-c", config, "-o", self.path("out"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown key 'proces'", result.stderr)
        self.assertFalse(os.path.exists(self.path("out")))

    def test_bad_overrides_are_a_definition_error(self):
        config = self.write("bad.yaml", "instances:\n  a: { process: /bin/true, overrides: { sysvinit: { runlevel: 3 } } }\n")
        result = self.generate("--manager", "sysvinit", "-c", config, "-o", self.path("out"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown setting overrides.sysvinit.runlevel", result.stderr)

    def test_losses_are_reported_and_strict_makes_them_an_error_that_writes_nothing(self):
        result = self.generate("--manager", "sysvinit", "-c", WEBAPPS, "-o", self.path("out"), "--strict")
        self.assertEqual(result.returncode, 1)
        self.assertIn("webapp1: restart: lost on sysvinit: init scripts do not supervise", result.stderr)
        self.assertIn("--strict: the definitions lose 9 properties on sysvinit; nothing written", result.stderr)
        self.assertFalse(os.path.exists(self.path("out")))
        # Without --strict the same losses are reported and the files written.
        result = self.generate_ok("sysvinit", WEBAPPS, self.path("out"))
        losses = result.stderr.splitlines()
        self.assertEqual(len(losses), 9, result.stderr)
        self.assertTrue(all(re.match(r"^(webapp1|webapp2|nginx): \w+: (lost|emulated) on sysvinit: ", line)
                            for line in losses), result.stderr)
        self.assertTrue(os.access(self.path("out", "init.d", "nginx"), os.X_OK))

    def test_strict_passes_when_nothing_is_lost(self):
        config = self.write("plain.yaml", "instances:\n  a: { process: /bin/sleep, args: ['1000'] }\n")
        result = self.generate("--manager", "systemd", "-c", config, "-o", self.path("out"), "--strict")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        self.assertEqual(result.stdout.split(), [self.path("out", "a.service"), self.path("out", "nixpm.target")])

    def test_json_names_files_start_order_and_losses(self):
        result = self.generate("--manager", "supervisord", "-c", WEBAPPS, "-o", self.path("out"), "--json",
                               "--user", "--state-dir", self.state_dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report["manager"], "supervisord")
        self.assertEqual(report["startOrder"], ["webapp1", "webapp2", "nginx"])
        self.assertIn({"path": "conf.d/nixpm/nginx.sh", "mode": "0755"}, report["files"])
        self.assertIn({"instance": "nginx", "property": "dependencies", "support": "emulated",
                       "note": "priority= from the dependency depth orders the start; nothing waits for readiness"},
                      report["losses"])
        mode = os.stat(self.path("out", "conf.d", "nixpm", "nginx.sh")).st_mode & 0o777
        self.assertEqual(mode, 0o755)

    def test_the_capability_tables_in_the_docs_are_current(self):
        with open(DOCS) as f:
            docs = f.read()
        blocks = re.findall(r"<!-- capabilities(?::([\w-]+))?:begin -->\n(.*?)<!-- capabilities(?::[\w-]+)?:end -->",
                            docs, flags=re.S)
        self.assertIn("", [name for name, _ in blocks], "the property x manager table is missing")
        updated = docs
        for name, table in blocks:
            args = ["--capabilities"] + (["--manager", name] if name else [])
            result = self.generate(*args)
            self.assertEqual(result.returncode, 0, result.stderr)
            if os.environ.get("NIXPM_UPDATE_GOLDEN") == "1":
                updated = updated.replace(table, result.stdout, 1)
            else:
                self.assertEqual(table, result.stdout,
                                 f"docs/managers.md: the {name or 'property x manager'} table is stale; refresh it "
                                 "with NIXPM_UPDATE_GOLDEN=1")
        if updated != docs:
            with open(DOCS, "w") as f:
                f.write(updated)

    @needs("bash")
    def test_bash_completion_offers_the_managers(self):
        script = os.path.join(SOURCE_DIR, "packaging", "completions", "nixpmctl.bash")
        program = f"""
source {script}
COMP_WORDS=(nixpmctl generate --manager s); COMP_CWORD=3; _nixpmctl; echo "${{COMPREPLY[*]}}"
COMP_WORDS=(nixpmctl generate --st); COMP_CWORD=2; _nixpmctl; echo "${{COMPREPLY[*]}}"
"""
        env = dict(self.env, PATH=os.path.dirname(os.path.abspath(NIXPMCTL)) + os.pathsep + self.env.get("PATH", ""))
        result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        managers, options = result.stdout.splitlines()
        self.assertEqual(sorted(managers.split()), ["s6", "s6-rc", "supervisord", "systemd", "sysvinit"])
        self.assertEqual(options.split(), ["--strict"])


@needs("systemd-analyze")
class Systemd(GenerateTestCase):
    def verify(self, directory, *scope, env=None):
        units = sorted(os.path.join(directory, name) for name in os.listdir(directory)
                       if name.endswith((".service", ".target")))
        self.assertTrue(units)
        result = subprocess.run(["systemd-analyze", *scope, "verify", "--man=no", *units], capture_output=True,
                                text=True, env=env or self.env, timeout=60)
        # verify only warns about unknown keys and the like: any output at all is a failure.
        self.assertEqual(result.stderr, "", "\n".join(units))
        self.assertEqual(result.returncode, 0)
        return units

    def test_system_units_verify_with_the_default_system_paths(self):
        # The commands of both fixtures exist on this machine (python3, sh, nginx), so verify checks them.
        for config in (FULL, WEBAPPS):
            out = self.path(os.path.basename(config) + "-units")
            self.generate_ok("systemd", config, out, "--system")
            units = self.verify(out)
            self.assertIn(os.path.join(out, "nixpm.target"), units)

    def test_user_units_verify(self):
        runtime = self.path("runtime")
        os.makedirs(runtime, mode=0o700)
        env = dict(self.env, XDG_RUNTIME_DIR=runtime, XDG_STATE_HOME=self.path("xdg-state"))
        out = self.path("units")
        result = self.generate("--manager", "systemd", "--user", "-c", FULL, "-o", out, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("proxy: user: lost on systemd", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "sysusers.d")))
        self.verify(out, "--user", env=env)
        with open(os.path.join(out, "webapp1.service")) as f:
            self.assertIn(f"WorkingDirectory={self.path('xdg-state', 'nixpm')}\n", f.read())

    @needs("systemd-sysusers", "systemd-tmpfiles")
    def test_credentials_apply_with_sysusers_and_tmpfiles(self):
        out = self.path("units")
        self.generate_ok("systemd", FULL, out, "--system")
        root = self.path("root")
        os.makedirs(os.path.join(root, "etc"))
        sysusers = subprocess.run(["systemd-sysusers", f"--root={root}", os.path.join(out, "sysusers.d", "proxy.conf")],
                                  capture_output=True, text=True)
        self.assertEqual(sysusers.returncode, 0, sysusers.stderr)
        with open(os.path.join(root, "etc", "passwd")) as f:
            self.assertIn("proxy:x:2001:2001:Reverse proxy:/var/lib/proxy:/usr/sbin/nologin\n", f.read())
        with open(os.path.join(root, "etc", "group")) as f:
            self.assertIn("proxy:x:2001:", f.read())
        tmpfiles = subprocess.run(["systemd-tmpfiles", f"--root={root}", "--create",
                                   os.path.join(out, "tmpfiles.d", "proxy.conf")], capture_output=True, text=True)
        self.assertEqual(tmpfiles.returncode, 0, tmpfiles.stderr)
        self.assertEqual(os.stat(os.path.join(root, "var", "lib", "proxy")).st_uid, 2001)


@needs("shellcheck")
class Scripts(GenerateTestCase):
    def scripts(self, manager, config):
        out = self.path(f"{manager}-{os.path.basename(config)}")
        self.generate_ok(manager, config, out, "--system")
        found = []
        for directory, _, names in os.walk(out):
            for name in names:
                path = os.path.join(directory, name)
                if not os.path.islink(path) and os.access(path, os.X_OK):
                    found.append(path)
        self.assertTrue(found)
        return sorted(found)

    def test_every_generated_script_passes_sh_n_and_shellcheck(self):
        for manager in ("sysvinit", "bsdrc", "supervisord"):
            for config in (FULL, WEBAPPS):
                for script in self.scripts(manager, config):
                    with open(script) as f:
                        self.assertTrue(f.readline().startswith("#!/bin/sh"), script)
                    syntax = subprocess.run(["sh", "-n", script], capture_output=True, text=True)
                    self.assertEqual(syntax.returncode, 0, f"{script}: {syntax.stderr}")
                    lint = subprocess.run(["shellcheck", "--shell=sh", script], capture_output=True, text=True)
                    self.assertEqual(lint.returncode, 0, f"{script}:\n{lint.stdout}{lint.stderr}")


@needs("start-stop-daemon", "nginx", "bash")
class SysvinitScriptsRun(GenerateTestCase):
    def run_script(self, link, action):
        return subprocess.run([link, action], capture_output=True, text=True, env=self.env, timeout=60)

    def test_webapps_start_in_s_order_answer_and_stop_in_k_order(self):
        config = self.webapps_on_free_ports()
        out = self.path("out")
        self.generate_ok("sysvinit", config, out, "--user", "--state-dir", self.state_dir)
        starts = sorted(os.listdir(os.path.join(out, "rc3.d")))
        self.assertEqual(starts, ["S01webapp1", "S01webapp2", "S02nginx"])
        for link in starts:
            result = self.run_script(os.path.join(out, "rc3.d", link), "start")
            self.assertEqual(result.returncode, 0, f"{link} start: {result.stdout}{result.stderr}")
        pids = {name: self.read_pid(os.path.join(self.state_dir, "run", f"{name}.pid"))
                for name in ("webapp1", "webapp2", "nginx")}
        for name, pid in pids.items():
            status = self.run_script(os.path.join(out, "init.d", name), "status")
            self.assertEqual(status.returncode, 0, status.stdout)
            self.assertEqual(status.stdout, f"{name} is running (pid {pid})\n")
        # The pid files name the processes themselves: start-stop-daemon execs them.
        with open(f"/proc/{pids['nginx']}/comm") as f:
            self.assertEqual(f.read().strip(), "nginx")
        self.wait_for_page("webapp1.local", "webapp1")
        self.wait_for_page("webapp2.local", "webapp2")
        self.assertTrue(os.path.exists(os.path.join(self.state_dir, "etc", "nginx.conf")))

        # Starting again changes nothing.
        again = self.run_script(os.path.join(out, "init.d", "webapp1"), "start")
        self.assertEqual((again.returncode, again.stdout), (0, "webapp1 is already running\n"))

        stops = sorted(os.listdir(os.path.join(out, "rc0.d")))
        self.assertEqual(stops, ["K01nginx", "K02webapp1", "K02webapp2"])
        for link in stops:
            name = link[3:]
            result = self.run_script(os.path.join(out, "rc0.d", link), "stop")
            self.assertEqual(result.returncode, 0, f"{link} stop: {result.stdout}{result.stderr}")
            # --retry waits until the process is gone.
            self.assertFalse(pid_alive(pids[name]), link)
            if name == "nginx":
                self.assertTrue(pid_alive(pids["webapp1"]) and pid_alive(pids["webapp2"]))
        for name in pids:
            status = self.run_script(os.path.join(out, "init.d", name), "status")
            self.assertEqual((status.returncode, status.stdout), (3, f"{name} is not running\n"))
        with open(os.path.join(self.state_dir, "log", "webapp1.log")) as f:
            self.assertIn("Serving HTTP", f.read())

    def test_rlimits_reach_the_process(self):
        config = self.write("limits.yaml", """
instances:
  limited:
    process: /bin/sleep
    args: [100000]
    rlimits: { nofile: { soft: 100, hard: 200 }, core: 0, stack: { soft: 4M } }
""")
        out = self.path("out")
        self.generate_ok("sysvinit", config, out, "--user", "--state-dir", self.state_dir)
        script = os.path.join(out, "init.d", "limited")
        result = self.run_script(script, "start")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        pid = self.read_pid(os.path.join(self.state_dir, "run", "limited.pid"))
        with open(f"/proc/{pid}/limits") as f:
            limits = {line[:26].strip(): line[26:].split()[:2] for line in f.read().splitlines()[1:]}
        self.assertEqual(limits["Max open files"], ["100", "200"])
        self.assertEqual(limits["Max core file size"], ["0", "0"])
        self.assertEqual(limits["Max stack size"][0], str(4 * 1024 * 1024))
        result = self.run_script(script, "stop")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertFalse(pid_alive(pid))

    def test_oneshot_forking_daemon_and_readiness_checks(self):
        port = free_port()
        config = self.write("kinds.yaml", f"""
instances:
  prepare:
    type: oneshot
    process: /bin/sh
    args: ["-c", "echo prepared > \\"$1\\"; exit 3", "prepare", "${{stateDir}}/prepared"]
    successExitCodes: [0, 3]
    restart: never
  cache:
    daemon: /bin/sh
    daemonArgs: ["-c", "sleep 1000 & echo $! > \\"$1\\"", "cache", "${{runtimeDir}}/cache.pid"]
    dependencies: [prepare]
  monitor:
    process: /bin/sh
    args: ["-c", "sleep 0.5; echo $$ > \\"$1\\"; exec sleep 1000", "monitor", "${{runtimeDir}}/monitor.pid"]
    pidFile: "${{runtimeDir}}/monitor.pid"
    readiness: pidFile
    dependencies: [cache]
  web:
    process: /usr/bin/python3
    args: ["-m", "http.server", "{port}", "--bind", "127.0.0.1"]
    readiness: {{ tcp: {port} }}
    dependencies: [monitor]
""")
        out = self.path("out")
        self.generate_ok("sysvinit", config, out, "--user", "--state-dir", self.state_dir)
        starts = sorted(os.listdir(os.path.join(out, "rc2.d")))
        self.assertEqual(starts, ["S01prepare", "S02cache", "S03monitor", "S04web"])
        for link in starts:
            result = self.run_script(os.path.join(out, "rc2.d", link), "start")
            self.assertEqual(result.returncode, 0, f"{link}: {result.stdout}{result.stderr}")
            name = link[3:]
            if name == "monitor":
                # start waited for the process's own pid file (written after half a second).
                self.assertTrue(os.path.exists(os.path.join(self.state_dir, "run", "monitor.pid")))
                self.read_pid(os.path.join(self.state_dir, "run", "monitor.sysvinit.pid"))
            if name == "web":
                # start returned once the port answered: no waiting needed here.
                self.read_pid(os.path.join(self.state_dir, "run", "web.pid"))
                status, _ = http_get(port, "localhost")
                self.assertEqual(status, 200)
        # The oneshot ran once, exited with an accepted code, and says so.
        with open(os.path.join(self.state_dir, "prepared")) as f:
            self.assertEqual(f.read(), "prepared\n")
        status = self.run_script(os.path.join(out, "init.d", "prepare"), "status")
        self.assertEqual((status.returncode, status.stdout), (0, "prepare has run\n"))
        # The daemon forked; the script tracks the process its pid file names.
        daemon_pid = self.read_pid(os.path.join(self.state_dir, "run", "cache.pid"))
        with open(f"/proc/{daemon_pid}/comm") as f:
            self.assertEqual(f.read().strip(), "sleep")
        self.assertEqual(self.run_script(os.path.join(out, "init.d", "cache"), "status").returncode, 0)

        for link in sorted(os.listdir(os.path.join(out, "rc6.d"))):
            result = self.run_script(os.path.join(out, "rc6.d", link), "stop")
            self.assertEqual(result.returncode, 0, f"{link}: {result.stdout}{result.stderr}")
        for pid in self.started_pids:
            self.assertFalse(pid_alive(pid), pid)
        self.assertEqual(self.run_script(os.path.join(out, "init.d", "prepare"), "status").returncode, 3)
        self.assertEqual(self.run_script(os.path.join(out, "init.d", "cache"), "status").returncode, 3)


class UnixSocketTransport(xmlrpc.client.Transport):
    """XML-RPC over supervisord's Unix socket: polling without starting a supervisorctl each time."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        path = self.path

        class Connection(http.client.HTTPConnection):
            def connect(self):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(10)
                    sock.connect(path)
                except OSError:
                    sock.close()
                    raise
                self.sock = sock

        # Kept where Transport.close() looks for it, so that every connection is closed.
        self._connection = host, Connection("localhost")
        return self._connection[1]


@needs("supervisord", "supervisorctl", "nginx")
class SupervisordRuns(GenerateTestCase):
    def start_supervisord(self, out):
        # supervisord opens its own log and socket before anything runs: their directories come first.
        for directory in ("log", "run"):
            os.makedirs(os.path.join(self.state_dir, directory), exist_ok=True)
        self.conf = os.path.join(out, "supervisord.conf")
        self.supervisord = subprocess.Popen(["supervisord", "-n", "-c", self.conf], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, env=self.env)
        self.started_pids.add(self.supervisord.pid)
        self.addCleanup(self.stop_supervisord)

    def stop_supervisord(self):
        if self.supervisord.poll() is None:
            self.supervisord.send_signal(signal.SIGTERM)
            self.supervisord.wait(timeout=30)

    def ctl(self, *args):
        return subprocess.run(["supervisorctl", "-c", self.conf, *args], capture_output=True, text=True, env=self.env,
                              timeout=30)

    def statuses(self):
        """{program: (state, pid)}, or {} while supervisord is not answering yet."""
        transport = UnixSocketTransport(os.path.join(self.state_dir, "run", "supervisord.sock"))
        try:
            with xmlrpc.client.ServerProxy("http://localhost", transport=transport) as server:
                return {info["name"]: (info["statename"], info["pid"] or None)
                        for info in server.supervisor.getAllProcessInfo()}
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            return {}

    def wait_running(self, names):
        return wait_until(lambda: (s := self.statuses()) and all(s.get(n, ("",))[0] == "RUNNING" for n in names) and s,
                          what=f"{', '.join(names)} RUNNING under supervisord")

    def shutdown(self):
        result = self.ctl("shutdown")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(self.supervisord.wait(timeout=30), 0)

    def test_webapps_run_and_answer_through_nginx(self):
        config = self.webapps_on_free_ports()
        out = self.path("out")
        self.generate_ok("supervisord", config, out, "--user", "--state-dir", self.state_dir)
        self.start_supervisord(out)
        statuses = self.wait_running(["webapp1", "webapp2", "nginx"])
        pids = {name: statuses[name][1] for name in ("webapp1", "webapp2", "nginx")}
        self.started_pids.update(pids.values())
        # What an operator sees.
        shown = self.ctl("status")
        self.assertEqual(shown.returncode, 0, shown.stdout)
        for name, pid in pids.items():
            self.assertRegex(shown.stdout, rf"(?m)^{name} +RUNNING +pid {pid}, uptime ")
        # The wrapper execs the program: supervisord's pid is nginx's own.
        with open(f"/proc/{pids['nginx']}/comm") as f:
            self.assertEqual(f.read().strip(), "nginx")
        self.wait_for_page("webapp1.local", "webapp1")
        self.wait_for_page("webapp2.local", "webapp2")
        with open(os.path.join(self.state_dir, "log", "webapp2.log")) as f:
            self.assertIn("Serving HTTP", f.read())
        self.shutdown()
        for name, pid in pids.items():
            self.assertFalse(pid_alive(pid), name)

    def test_a_forking_daemon_is_followed_through_its_pid_file(self):
        config = self.write("daemon.yaml", """
instances:
  cache:
    daemon: /bin/sh
    daemonArgs: ["-c", "setsid sleep 1000 & echo $! > \\"$1\\"", "cache", "${runtimeDir}/cache.pid"]
    stopSignal: HUP
""")
        out = self.path("out")
        self.generate_ok("supervisord", config, out, "--user", "--state-dir", self.state_dir)
        self.start_supervisord(out)
        self.wait_running(["cache"])
        daemon = self.read_pid(os.path.join(self.state_dir, "run", "cache.pid"))
        self.assertTrue(pid_alive(daemon))
        # The daemon left the wrapper's process group (setsid), like real daemons: only the wrapper passing the
        # stop signal (HUP, which a background sleep does not ignore, unlike INT) on can end it.
        self.assertNotEqual(os.getpgid(daemon), os.getpgid(self.statuses()["cache"][1]))
        self.started_pids.add(self.statuses()["cache"][1])
        result = self.ctl("stop", "cache")
        self.assertIn("cache: stopped", result.stdout)
        wait_until(lambda: not pid_alive(daemon), what="the daemon to end")
        # A daemon that ends by itself makes the program exit, and supervisord starts it again.
        self.assertIn("cache: started", self.ctl("start", "cache").stdout)
        first = self.read_pid(os.path.join(self.state_dir, "run", "cache.pid"))
        os.kill(first, signal.SIGKILL)
        pid_file = os.path.join(self.state_dir, "run", "cache.pid")
        wait_until(lambda: self.statuses().get("cache", ("",))[0] == "RUNNING" and self.read_pid(pid_file) != first,
                   what="a restarted daemon")
        self.started_pids.add(self.statuses()["cache"][1])
        self.shutdown()
        for pid in self.started_pids:
            self.assertFalse(pid_alive(pid), pid)


if __name__ == "__main__":
    unittest.main()
