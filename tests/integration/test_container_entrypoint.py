"""The container recipe (packaging/container/Containerfile) is well-formed, and its entrypoint behaves
under `docker stop` semantics without a container engine: the ENTRYPOINT and CMD of the final stage run
as PID 1 of a fresh PID, mount and network namespace, with empty /var, /run and /tmp bind-mounted in
(the image's own directories); SIGTERM, what `docker stop` sends, stops the dependent instance before
its dependency and nixpmd exits 0 within docker's 10 s grace period."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import NIXPMCTL, NIXPMD, SOURCE_DIR, wait_until

SOURCE_DIR = os.path.abspath(SOURCE_DIR)
CONTAINERFILE = os.path.join(SOURCE_DIR, "packaging", "container", "Containerfile")
INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
                "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER"}
DOCKER_STOP_GRACE = 10  # seconds between docker stop's SIGTERM and its SIGKILL, unless -t says otherwise


def parse_containerfile(path):
    """[(INSTRUCTION, arguments)], with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue  # a comment inside a continued instruction
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            text = (pending + line).strip()
            pending = ""
            keyword, _, arguments = text.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    if pending:
        raise ValueError(f"{path}: the last instruction ends in a line continuation")
    return instructions


def stages(instructions):
    """[(stage name or None, [instructions])], one per FROM."""
    result = []
    for keyword, arguments in instructions:
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append((name, []))
        elif not result:
            raise ValueError(f"{keyword} before the first FROM")
        else:
            result[-1][1].append((keyword, arguments))
    return result


def exec_form(arguments):
    value = json.loads(arguments)
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ValueError(f"not an exec-form JSON array of strings: {arguments}")
    return value


def dev_sh_packages():
    with open(os.path.join(SOURCE_DIR, "packaging", "dev.sh")) as f:
        block = re.search(r"^packages=\((.*?)^\)", f.read(), re.S | re.M).group(1)
    return set(re.sub(r"#.*", "", block).split())


def children_of(pid):
    result = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                result.append(int(entry))
    return result


def can_run_namespaces():
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("unshare", "mount", "ip")):
        return False
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "--net", "true"], capture_output=True)
    return probe.returncode == 0


class Recipe(unittest.TestCase):
    def setUp(self):
        self.instructions = parse_containerfile(CONTAINERFILE)
        self.stages = stages(self.instructions)

    def test_only_known_instructions(self):
        self.assertEqual([k for k, _ in self.instructions if k not in INSTRUCTIONS], [])

    def test_final_stage_runs_nixpmd_as_pid1_on_sigterm(self):
        name, final = self.stages[-1]
        keywords = dict(final)
        self.assertEqual(keywords["STOPSIGNAL"], "SIGTERM")
        # Exec form, or /bin/sh -c would be PID 1 and nixpmd would never see the SIGTERM.
        entrypoint = exec_form(keywords["ENTRYPOINT"])
        self.assertEqual(entrypoint[0], "/usr/bin/nixpmd")
        exec_form(keywords["CMD"])

    def test_copied_files_exist_and_stages_are_named(self):
        names = {name for name, _ in self.stages if name}
        for _, body in self.stages:
            for keyword, arguments in body:
                if keyword != "COPY":
                    continue
                words = arguments.split()
                if words[0].startswith("--from="):
                    self.assertIn(words[0].split("=", 1)[1], names)
                    continue
                for source in words[:-1]:
                    if source != ".":
                        self.assertTrue(os.path.exists(os.path.join(SOURCE_DIR, source)), source)

    def test_build_stage_installs_what_dev_sh_knows(self):
        # The image builds with the same Debian packages the CI builds with.
        _, build = self.stages[0]
        run = " ".join(arguments for keyword, arguments in build if keyword == "RUN")
        installed = re.search(r"apt-get install -y --no-install-recommends (.*?)&&", run).group(1).split()
        self.assertGreater(len(installed), 5)
        self.assertEqual(set(installed) - dev_sh_packages(), set())


@unittest.skipUnless(can_run_namespaces(), "needs root, unshare, mount and ip (iproute2)")
class DockerStop(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="nixpm-container-")
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        for directory in ("var", "run", "tmp"):
            os.makedirs(os.path.join(self.root, directory))
        self.output = os.path.join(self.root, "nixpmd.out")
        self.unshare = None
        self.addCleanup(self.end_namespace)

    def end_namespace(self):
        if self.unshare and self.unshare.poll() is None:
            for pid in children_of(self.unshare.pid):
                os.kill(pid, signal.SIGKILL)  # PID 1 of the namespace: the kernel ends everything in it
            self.unshare.wait(timeout=30)

    def staged(self, path):
        """A copy of `path` inside the container's own /var, so that it stays visible after the container's
        /tmp is mounted over the host's (the build or source tree may well live under /tmp)."""
        directory = os.path.join(self.root, "var", "image")
        os.makedirs(directory, exist_ok=True)
        target = os.path.join(directory, os.path.basename(path))
        shutil.copy2(path, target)
        return os.path.join("/var/image", os.path.basename(path))

    def image_command(self):
        """ENTRYPOINT + CMD of the final stage, with the files the image COPYs taken from the repository
        and the installed nixpmd replaced by the one under test."""
        final = stages(parse_containerfile(CONTAINERFILE))[-1][1]
        keywords = dict(final)
        command = exec_form(keywords["ENTRYPOINT"]) + exec_form(keywords["CMD"])
        copied = {}
        for keyword, arguments in final:
            words = arguments.split()
            if keyword == "COPY" and not words[0].startswith("--from="):
                copied[words[-1]] = self.staged(os.path.join(SOURCE_DIR, words[0]))
        self.assertEqual(command[0], "/usr/bin/nixpmd")
        return [self.staged(NIXPMD)] + [copied.get(argument, argument) for argument in command[1:]]

    def ctl(self, *args):
        return subprocess.run([NIXPMCTL, "--socket", os.path.join(self.root, "run", "nixpm", "control.sock"), *args],
                              capture_output=True, text=True, timeout=30)

    def read(self, *parts):
        try:
            with open(os.path.join(self.root, *parts)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def test_docker_stop_stops_dependents_first_and_exits_0(self):
        # The container's view: its own /var, /run and /tmp, a loopback of its own, nixpmd as PID 1.
        setup = ('set -e; ip link set lo up; for d in var run tmp; do mount --bind "$0/$d" "/$d"; done; '
                 'exec "$@"')
        with open(self.output, "wb") as output:
            self.unshare = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--net", "sh", "-c", setup,
                                             self.root, *self.image_command()],
                                            stdout=output, stderr=output, stdin=subprocess.DEVNULL)
        wait_until(lambda: self.unshare.poll() is not None or children_of(self.unshare.pid), what="PID 1 to start")
        self.assertIsNone(self.unshare.poll(), self.read("nixpmd.out"))
        (pid1,) = children_of(self.unshare.pid)

        def running():
            result = self.ctl("status", "--json")
            if result.returncode != 0:
                return None
            instances = {i["name"]: i for i in json.loads(result.stdout)["instances"]}
            return instances if instances and {i["state"] for i in instances.values()} == {"running"} else None
        try:
            instances = wait_until(running, timeout=30, what="every instance running")
            # heartbeat depends on web and reaches it inside the namespace.
            wait_until(lambda: "web answered 200" in self.read("var", "log", "heartbeat.log"), timeout=30,
                       what="heartbeat to reach web")
        except AssertionError:
            print(self.read("nixpmd.out"))
            raise
        self.assertEqual(set(instances), {"web", "heartbeat"})

        with open(f"/proc/{pid1}/status") as f:
            nspid = next(line for line in f if line.startswith("NSpid:")).split()
        self.assertEqual(nspid[-1], "1", "nixpmd is PID 1 in its namespace")
        stop_sent = time.monotonic()
        os.kill(pid1, signal.SIGTERM)  # what `docker stop` sends to the container's PID 1
        status = self.unshare.wait(timeout=30)
        elapsed = time.monotonic() - stop_sent
        log = self.read("nixpmd.out")
        self.assertEqual(status, 0, log)
        self.assertLess(elapsed, DOCKER_STOP_GRACE, log)
        # Dependents first: heartbeat's process ended before web's (pids as PID 1's namespace sees them).
        lines = log.splitlines()
        ends = {name: [i for i, line in enumerate(lines) if f"{name}: process {instances[name]['pid']} " in line]
                for name in ("heartbeat", "web")}
        self.assertTrue(ends["heartbeat"] and ends["web"], log)
        self.assertLess(ends["heartbeat"][0], ends["web"][0], log)


if __name__ == "__main__":
    unittest.main()
