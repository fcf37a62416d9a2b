"""s6-rc and cygrunsrv, generation-tested: neither runs on this machine (s6-rc is not in Debian 12,
cygrunsrv needs Windows). The s6-rc source definitions have the layout s6-rc-compile expects (and are
compiled for real where s6-rc-compile exists), and every script in them passes sh -n and shellcheck,
the oneshots' execline-quoted `up` included. cygrunsrv.sh runs against a stand-in cygrunsrv that
records its calls: services are installed and started dependencies first, stopped and removed dependents
first, and each --args, split the way cygrunsrv splits it, gives back the instance's exact argv; a
generated wrapper really serves a webapp."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from harness import NIXPMCTL, SOURCE_DIR, free_port, http_get, wait_until

FULL = os.path.join(SOURCE_DIR, "tests", "fixtures", "managers", "full.yaml")
EXAMPLE = os.path.join(SOURCE_DIR, "examples", "webapps", "processes.yaml")
SIGNAL_NAMES = {f"SIG{s.name[3:]}" for s in signal.Signals}
INTEGER_FILES = ("notification-fd", "timeout-up", "timeout-down", "timeout-kill", "timeout-finish",
                 "max-death-tally")


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kwargs)


def read(path):
    with open(path) as f:
        return f.read()


def execline_sh_script(line):
    """The script of an s6-rc up/down line `/bin/sh -c "..."`, undoing execline's backslash escapes."""
    match = re.fullmatch(r'/bin/sh -c "((?:[^"\\]|\\.)*)"\n', line, re.DOTALL)
    if match is None:
        return None
    return re.sub(r"\\(.)", r"\1", match.group(1), flags=re.DOTALL)


def cygrunsrv_split(args):
    """cygrunsrv's own --args splitting: at spaces, with one level of '...' or "..." and no escapes."""
    words, i = [], 0
    while i < len(args):
        if args[i] == " ":
            i += 1
            continue
        stop = args[i] if args[i] in "'\"" else " "
        if stop != " ":
            i += 1
        end = args.find(stop, i)
        end = len(args) if end < 0 else end
        words.append(args[i:end])
        i = end + 1
    return words


class Generated(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nixpm-generate-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def generate(self, manager, definitions, state_dir="/var"):
        out = os.path.join(self.tmp, f"{manager}-{len(os.listdir(self.tmp))}")
        result = run([NIXPMCTL, "generate", "--manager", manager, "-c", definitions, "-o", out, "--system",
                      "--state-dir", state_dir])
        self.assertEqual(result.returncode, 0, result.stderr)
        return out

    def check_shell(self, scripts):
        self.assertTrue(scripts)
        for script in scripts:
            result = run(["sh", "-n", script])
            self.assertEqual(result.returncode, 0, f"{script}: {result.stderr}")
        # SC2016: '$...' in single quotes is meant literally (arguments, environment values).
        result = run(["shellcheck", "-s", "sh", "-e", "SC2016"] + scripts)
        self.assertEqual(result.returncode, 0, result.stdout)

    def instances(self, definitions):
        result = run([NIXPMCTL, "check", "-c", definitions, "--json"])
        self.assertEqual(result.returncode, 0, result.stderr)
        return {i["name"]: i for i in json.loads(result.stdout)["instances"]}


class S6RcSourceDefinitions(Generated):
    def check_layout(self, source):
        services = {name: read(os.path.join(source, name, "type")).strip() for name in os.listdir(source)}
        self.assertTrue(set(services.values()) <= {"longrun", "oneshot", "bundle"}, services)
        known = set(services)
        scripts = []
        for name, kind in services.items():
            directory = os.path.join(source, name)
            files = {os.path.relpath(os.path.join(top, f), directory) for top, _, fs in os.walk(directory) for f in fs}
            self.assertFalse(name.startswith(("s6rc-", "s6-rc-")), name)
            if kind == "bundle":
                self.assertEqual(files, {"type", "contents"})
                continue
            for number in INTEGER_FILES:
                if number in files:
                    self.assertRegex(read(os.path.join(directory, number)), r"^[0-9]+\n$", f"{name}/{number}")
            if "dependencies" in files:
                known_later = read(os.path.join(directory, "dependencies")).split()
                self.assertTrue(known_later, name)
                self.pending_names.extend(known_later)
            if kind == "oneshot":
                self.assertIn("up", files)
                for action in ("up", "down"):
                    if action in files:
                        text = read(os.path.join(directory, action))
                        script = execline_sh_script(text)
                        if script is None:  # an override may name a command directly
                            continue
                        path = os.path.join(self.tmp, f"{name}-{action}.sh")
                        with open(path, "w") as f:
                            f.write(script)
                        scripts.append(path)
                continue
            # A longrun: what s6-rc-compile turns into an s6 service directory (no down file, no log/).
            self.assertIn("run", files)
            self.assertNotIn("down", files)
            self.assertFalse(any(f.startswith("log/") for f in files), name)
            for script in ("run", "finish", "data/check"):
                if script in files:
                    path = os.path.join(directory, script)
                    self.assertTrue(os.access(path, os.X_OK), path)
                    self.assertTrue(read(path).startswith("#!/bin/sh\n"), path)
                    scripts.append(path)
            if "down-signal" in files:
                self.assertIn(read(os.path.join(directory, "down-signal")).strip(), SIGNAL_NAMES)
            # Pipelines: producer-for and consumer-for name each other; the last consumer names the bundle.
            if "producer-for" in files:
                consumer = read(os.path.join(directory, "producer-for")).strip()
                self.assertEqual(read(os.path.join(source, consumer, "consumer-for")).split(), [name])
                self.assertNotIn("pipeline-name", files)
            if "consumer-for" in files and "producer-for" not in files:
                known.add(read(os.path.join(directory, "pipeline-name")).strip())
        for name in self.pending_names:
            self.assertIn(name, known)
        for bundle in (n for n, k in services.items() if k == "bundle"):
            for name in read(os.path.join(source, bundle, "contents")).split():
                self.assertIn(name, known)
        self.check_shell(scripts)
        return services

    def test_the_full_fixture_and_the_webapps_example(self):
        for definitions in (FULL, EXAMPLE):
            self.pending_names = []
            source = self.generate("s6-rc", definitions)
            services = self.check_layout(source)
            self.assertEqual(services["nixpm"], "bundle")
        self.assertEqual(services["nginx-srv"], "longrun")
        self.assertEqual(read(os.path.join(source, "nginx-srv", "dependencies")).split(), ["webapp1", "webapp2"])
        self.assertEqual(read(os.path.join(source, "nixpm", "contents")).split(), ["webapp1", "webapp2", "nginx"])
        if shutil.which("s6-rc-compile"):  # not packaged in Debian 12; compiled wherever it exists
            result = run(["s6-rc-compile", os.path.join(self.tmp, "compiled"), source])
            self.assertEqual(result.returncode, 0, result.stderr)

    def test_the_oneshot_up_script_runs(self):
        self.pending_names = []
        state = os.path.join(self.tmp, "state")
        definitions = os.path.join(self.tmp, "oneshot.yaml")
        with open(definitions, "w") as f:
            f.write('instances:\n  setup:\n    type: oneshot\n    process: /bin/sh\n'
                    '    args: ["-c", "echo \\"made by $0\\" > \\"$1\\"; exit 3", "setup", "${stateDir}/made"]\n'
                    '    successExitCodes: [0, 3]\n')
        source = self.generate("s6-rc", definitions, state_dir=state)
        self.check_layout(source)
        # As s6-rc would: lex the up line (here: undo its quoting) and run it.
        script = execline_sh_script(read(os.path.join(source, "setup", "up")))
        result = run(["/bin/sh", "-c", script])
        self.assertEqual(result.returncode, 0, result.stderr)  # 3 is a success code
        self.assertEqual(read(os.path.join(state, "made")), "made by setup\n")
        self.assertTrue(os.path.exists(os.path.join(state, "log", "setup.log")))


class CygrunsrvScript(Generated):
    def setUp(self):
        super().setUp()
        # A stand-in cygrunsrv on PATH that records each call.
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        self.calls_file = os.path.join(self.tmp, "calls.jsonl")
        with open(os.path.join(self.bin, "cygrunsrv"), "w") as f:
            f.write(f"#!{sys.executable}\nimport json, sys\n"
                    f"open({self.calls_file!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n")
        os.chmod(os.path.join(self.bin, "cygrunsrv"), 0o755)

    def calls(self, script, verb):
        if os.path.exists(self.calls_file):
            os.remove(self.calls_file)
        result = run(["sh", script, verb], env=dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"]))
        self.assertEqual(result.returncode, 0, result.stderr)
        return [json.loads(line) for line in read(self.calls_file).splitlines()] if os.path.exists(self.calls_file) else []

    @staticmethod
    def options(call):
        """--install NAME --opt value ... as (name, {option: [values]}, flags)."""
        name, options, flags, i = call[1], {}, [], 2
        while i < len(call):
            if call[i] in ("--shutdown", "--neverexits"):
                flags.append(call[i])
                i += 1
            else:
                options.setdefault(call[i], []).append(call[i + 1])
                i += 2
        return name, options, flags

    def test_install_start_stop_remove_in_dependency_order_with_exact_arguments(self):
        out = self.generate("cygrunsrv", FULL)
        script = os.path.join(out, "cygrunsrv.sh")
        self.check_shell([os.path.join(out, f) for f in os.listdir(out)])
        instances = self.instances(FULL)

        installs = self.calls(script, "install")
        self.assertTrue(all(call[0] == "--install" for call in installs))
        installed = []
        for call in installs:
            name, options, flags = self.options(call)
            instance = instances[name[len("nixpm-"):]]
            for dependency in options.get("--dep", []):
                if dependency.startswith("nixpm-"):
                    self.assertIn(dependency, installed, f"{name} installed before its dependency")
            installed.append(name)
            self.assertEqual(flags, ["--shutdown"])  # stopped cleanly when Windows shuts down
            self.assertEqual(options["--chdir"], [instance["directory"] or "/var"])
            argv = [options["--path"][0]] + cygrunsrv_split(options.get("--args", [""])[0])
            if argv[0] == "/bin/sh" and argv[1].endswith(f"/{instance['name']}.sh"):
                self.assertTrue(os.access(argv[1], os.X_OK), argv[1])  # the wrapper runs the program
            else:
                self.assertEqual(argv, [instance["executable"]] + instance["arguments"], name)
            env = dict(entry.split("=", 1) for entry in options.get("--env", []))
            self.assertEqual(env, {k: str(v) for k, v in instance["environment"].items()})
        self.assertEqual(sorted(installed), sorted("nixpm-" + n for n in instances))
        proxy = self.options(next(c for c in installs if c[1] == "nixpm-proxy"))[1]
        self.assertEqual(proxy["--dep"], ["nixpm-webapp1", "nixpm-webapp2", "Tcpip"])  # + overrides.cygrunsrv
        self.assertEqual(proxy["--user"], ["proxy"])
        self.assertEqual(proxy["--termsig"], ["QUIT"])
        cache = self.options(next(c for c in installs if c[1] == "nixpm-cache"))[1]
        self.assertEqual(cache["--pidfile"], ["/var/run/cache.pid"])

        starts = self.calls(script, "start")
        self.assertEqual([c[0] for c in starts], ["--start"] * len(starts))
        # The Windows service manager starts dependencies itself; the script keeps the order anyway and
        # leaves out what does not start by default (notifier).
        self.assertEqual([c[1] for c in starts], [n for n in installed if n != "nixpm-notifier"])
        stops = self.calls(script, "stop")
        self.assertEqual([c[1] for c in stops], installed[::-1])
        removes = self.calls(script, "remove")
        self.assertEqual([c for c in removes if c[0] == "--remove"], [["--remove", n] for n in installed[::-1]])
        self.assertEqual(run(["sh", script, "frobnicate"]).returncode, 2)

    def test_a_wrapper_serves_a_webapp(self):
        port = free_port()
        definitions = os.path.join(self.tmp, "processes.yaml")
        with open(EXAMPLE) as f:
            with open(definitions, "w") as out:
                out.write(f.read().replace("5001", str(port)))
        state = os.path.join(self.tmp, "state")
        out = self.generate("cygrunsrv", definitions, state_dir=state)
        call = self.options(next(c for c in self.calls(os.path.join(out, "cygrunsrv.sh"), "install")
                                 if c[1] == "nixpm-webapp1"))[1]
        argv = [call["--path"][0]] + cygrunsrv_split(call["--args"][0])
        env = dict(os.environ, **dict(entry.split("=", 1) for entry in call.get("--env", [])))
        os.makedirs(call["--chdir"][0], exist_ok=True)
        server = subprocess.Popen(argv, cwd=call["--chdir"][0], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(lambda: server.poll() is None and (server.kill(), server.wait(timeout=10)))
        wait_until(lambda: self.page(port), timeout=30, what="the wrapped webapp1 to answer")
        self.assertIn(f"Hello from webapp1 on port {port}.", self.page(port))

    @staticmethod
    def page(port):
        try:
            status, body = http_get(port, "localhost", timeout=2)
            return body if status == 200 else None
        except OSError:
            return None


if __name__ == "__main__":
    unittest.main()
