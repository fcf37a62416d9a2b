"""runit and s6 for real: `nixpmctl generate` writes service directories, and the real runsvdir and
s6-svscan (started by these tests) run them. The webapps example comes up in dependency order and
answers through nginx, a killed service comes back, and after the supervisor's own shutdown nothing
is left running. A second system checks that the start order holds with readiness checks, a oneshot
and a forking daemon. Every generated script also passes sh -n and shellcheck."""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import NIXPMCTL, SOURCE_DIR, free_port, http_get, pid_alive, wait_until

EXAMPLE = os.path.join(SOURCE_DIR, "examples", "webapps", "processes.yaml")

# A system whose start order is observable: `app` records, as it starts, whether what it depends on was
# done (the oneshot), ready (the port that opens only a second after its process starts) and running
# (the forking daemon tracked by its pid file). Its initialize runs as root (it writes into the root-owned
# state dir), then the program runs as `nobody` (system scope).
ORDER_FIXTURE = """
instances:
  prepare:
    type: oneshot
    process: /bin/sh
    args: ["-c", "sleep 1 && date > \\"$1\\"", "prepare", "${{stateDir}}/prepared"]
  slow:
    process: /usr/bin/python3
    args: ["-c", "import time, http.server\\ntime.sleep(1)\\nhttp.server.HTTPServer(('127.0.0.1', {slow_port}), http.server.SimpleHTTPRequestHandler).serve_forever()"]
    readiness: {{ tcp: {slow_port} }}
    dependencies: [prepare]
  cache:
    daemon: /bin/sh
    daemonArgs: ["-c", "sleep 100000 >/dev/null 2>&1 & echo $! > \\"$1\\"", "cache", "${{runtimeDir}}/cache.pid"]
    pidFile: "${{runtimeDir}}/cache.pid"
    dependencies: [prepare]
  app:
    process: /bin/sleep
    args: ["100000"]
    dependencies: [slow, cache]
    user: nobody
    initialize: |
      {{ test -s ${{stateDir}}/prepared && echo prepared || echo not-prepared
        python3 -c 'import socket; socket.create_connection(("127.0.0.1", {slow_port}), 1)' 2>/dev/null && echo slow-ready || echo slow-not-ready
        kill -0 "$(cat ${{runtimeDir}}/cache.pid)" 2>/dev/null && echo cache-up || echo cache-down
      }} >> ${{stateDir}}/order
"""


def default_signals():
    # Whoever started the tests may have left SIGINT or SIGQUIT ignored (a background job does), and
    # ignored signals are inherited: nginx's graceful QUIT and sh traps must see them.
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


def stat_fields(pid):
    """/proc/<pid>/stat after the command name (state, ppid, ...), or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def parent_of(pid):
    fields = stat_fields(pid)
    return int(fields[1]) if fields else None


def identity(pid):
    """(pid, start time): unlike a pid alone, never taken by a later process."""
    fields = stat_fields(pid)
    return (pid, fields[19]) if fields else None


def still_running(process):
    pid, start = process
    fields = stat_fields(pid)
    return fields is not None and fields[19] == start and fields[0] != "Z"


def descendants(root):
    """Every live process below `root`, by walking parent links in /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = parent_of(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return {pid for pid in found if pid_alive(pid)}


def comm(pid):
    """The process's command name, "" once it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def read(path):
    """The file's text, or "" while it does not exist."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def run_checked(argv, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{argv} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


class SupervisionTree:
    """What the runit and s6 tests share; the subclasses say how to start, ask and stop the supervisor."""

    manager = None
    supervisor_argv = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=f"nixpm-{self.manager}-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.services = os.path.join(self.tmp, "services")
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.state)
        self.supervisor = None
        self.seen = set()  # every process (pid, start time) the tree had, to check that none outlives it

    def tearDown(self):
        if self.supervisor is not None and self.supervisor.poll() is None:
            # A failed test: stop the tree as in the test, then make sure of what this test started.
            try:
                self.shut_down()
            except Exception:  # noqa: BLE001 (the failure that matters is the test's own)
                pass
            for process in self.seen | self.tree():
                if still_running(process):
                    os.kill(process[0], signal.SIGKILL)
            self.supervisor.wait(timeout=10)

    # ---- generation --------------------------------------------------------------------------------

    def generate(self, text):
        definitions = os.path.join(self.tmp, "processes.yaml")
        with open(definitions, "w") as f:
            f.write(text)
        scope = "--system" if os.geteuid() == 0 else "--user"
        result = run_checked([NIXPMCTL, "generate", "--manager", self.manager, "-c", definitions,
                              "-o", self.services, scope, "--state-dir", self.state])
        self.check_scripts()
        return result

    def check_scripts(self):
        scripts = []
        for top, _, files in os.walk(self.services):
            for name in files:
                path = os.path.join(top, name)
                if os.access(path, os.X_OK):
                    with open(path) as f:
                        self.assertTrue(f.readline().startswith("#!/bin/sh"), path)
                    scripts.append(path)
        self.assertTrue(scripts)
        for script in scripts:
            run_checked(["sh", "-n", script])
        # SC2016: '$...' in single quotes is meant literally (arguments, environment values).
        run_checked(["shellcheck", "-s", "sh", "-e", "SC2016"] + scripts)

    def webapps(self):
        with open(EXAMPLE) as f:
            text = f.read()
        self.ports = {"webapp1": free_port(), "webapp2": free_port(), "nginx": free_port()}
        text = text.replace("5001", str(self.ports["webapp1"])).replace("5002", str(self.ports["webapp2"]))
        return text.replace("8080", str(self.ports["nginx"]))

    # ---- the supervisor ----------------------------------------------------------------------------

    def start_supervisor(self):
        log = open(os.path.join(self.tmp, "supervisor.log"), "w")
        self.addCleanup(log.close)
        self.supervisor = subprocess.Popen(self.supervisor_argv + [self.services], stdout=log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True, preexec_fn=default_signals)

    def wait_up(self, *names):
        """Waits until every named service runs (and is ready where it signals it); returns their pids."""
        pids = wait_until(lambda: (p := {name: self.running_pid(name) for name in names}) and all(p.values()) and p,
                          timeout=30, what=f"{', '.join(names)} up under {self.manager}")
        self.remember()
        return pids

    def tree(self):
        return {p for p in map(identity, descendants(self.supervisor.pid) | {self.supervisor.pid}) if p}

    def remember(self):
        self.seen |= self.tree()

    def shut_down_and_check_nothing_is_left(self, extra_pids=()):
        self.remember()
        self.seen |= {p for p in map(identity, extra_pids) if p}
        self.shut_down()
        self.assertEqual(self.supervisor.wait(timeout=30), self.expected_supervisor_status)
        wait_until(lambda: not any(still_running(process) for process in self.seen), timeout=20,
                   what="every process of the tree to be gone")

    def proxied(self, host):
        try:
            return http_get(self.ports["nginx"], host, timeout=2)
        except OSError:
            return None

    def wait_for_page(self, instance):
        port = self.ports[instance]
        wait_until(lambda: (r := self.proxied(f"{instance}.local")) and r[0] == 200
                   and f"Hello from {instance} on port {port}." in r[1],
                   timeout=30, what=f"nginx to answer for {instance}.local")

    # ---- the tests ---------------------------------------------------------------------------------

    def test_webapps_example_answers_through_nginx_and_a_killed_webapp_comes_back(self):
        self.generate(self.webapps())
        self.start_supervisor()
        pids = self.wait_up("webapp1", "webapp2", "nginx")
        # The supervised process becomes the program itself: the run scripts exec it (once nginx's has
        # waited for the webapps).
        wait_until(lambda: comm(pids["nginx"]) == "nginx", what="nginx's run script to exec nginx")
        wait_until(lambda: comm(pids["webapp1"]) == "python3", what="webapp1's run script to exec python3")
        self.wait_for_page("webapp1")
        self.wait_for_page("webapp2")
        self.assertTrue(os.path.exists(os.path.join(self.state, "etc", "nginx.conf")))

        os.kill(pids["webapp1"], signal.SIGKILL)
        wait_until(lambda: (pid := self.running_pid("webapp1")) and pid != pids["webapp1"] and comm(pid) == "python3",
                   timeout=20, what="webapp1 to come back")
        self.wait_for_page("webapp1")
        self.assertEqual(self.running_pid("nginx"), pids["nginx"])

        # The logger keeps each service's output.
        log = os.path.join(self.state, "log", "webapp1", "current")
        wait_until(lambda: "GET / HTTP" in read(log), what="webapp1's log")
        self.shut_down_and_check_nothing_is_left()

    def test_dependencies_are_done_ready_and_running_before_a_dependent_starts(self):
        slow_port = free_port()
        self.generate(ORDER_FIXTURE.format(slow_port=slow_port))
        self.start_supervisor()
        pids = self.wait_up("prepare", "slow", "cache", "app")
        order = os.path.join(self.state, "order")
        wait_until(lambda: len(read(order).split()) == 3, what="app's initialize")
        self.assertEqual(read(order).split(), ["prepared", "slow-ready", "cache-up"])
        # initialize ran in app's own process, which then became the program (as nobody, as root runs it).
        wait_until(lambda: comm(pids["app"]) == "sleep", what="app's initialize to exec the program")
        if os.geteuid() == 0:
            with open(f"/proc/{pids['app']}/status") as f:
                uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
            self.assertEqual(set(uids), {str(pwd.getpwnam("nobody").pw_uid)})

        # The forking daemon: its proxy follows the pid file; a killed daemon is started again.
        pid_file = os.path.join(self.state, "run", "cache.pid")
        daemon = int(read(pid_file))
        self.assertTrue(pid_alive(daemon))
        os.kill(daemon, signal.SIGKILL)
        new_daemon = wait_until(lambda: (text := read(pid_file).strip()) and int(text) != daemon
                                and pid_alive(int(text)) and int(text), timeout=20, what="a new cache daemon")
        wait_until(lambda: self.running_pid("cache"), timeout=20, what="cache up again")
        self.shut_down_and_check_nothing_is_left(extra_pids=[new_daemon])


class RunitTree(SupervisionTree, unittest.TestCase):
    manager = "runit"
    supervisor_argv = ["runsvdir"]
    # runsvdir exits 111 when SIGHUP made it stop its runsv processes.
    expected_supervisor_status = 111

    def running_pid(self, name):
        """The service's pid once runsv runs it and its ./check passes (as sv start waits for)."""
        text = read(os.path.join(self.services, name, "supervise", "pid")).strip()
        if not text:
            return None
        check = subprocess.run(["sv", "-w", "1", "check", os.path.join(self.services, name)], capture_output=True,
                               text=True, timeout=30)
        return int(text) if check.returncode == 0 and check.stdout.startswith("ok: run:") else None

    def shut_down(self):
        names = sorted(os.listdir(self.services))
        dirs = [os.path.join(self.services, name) for name in names]
        # sv down runs each control/t (nginx: QUIT); sv waits until they are down.
        run_checked(["sv", "-w", "30", "down"] + dirs)
        for directory in dirs:
            self.assertTrue(read(os.path.join(directory, "supervise", "stat")).startswith("down"), directory)
        # Then runsvdir's own shutdown: SIGHUP makes it stop every runsv (and its logger) and exit.
        self.supervisor.send_signal(signal.SIGHUP)

    def test_a_dependency_that_is_not_running_is_started_first(self):
        slow_port = free_port()
        self.generate(ORDER_FIXTURE.format(slow_port=slow_port))
        # `down` files: nothing starts by itself but app, whose run script starts the rest in order.
        for name in ("prepare", "slow", "cache"):
            open(os.path.join(self.services, name, "down"), "w").close()
        self.start_supervisor()
        self.wait_up("prepare", "slow", "cache", "app")
        order = os.path.join(self.state, "order")
        wait_until(lambda: len(read(order).split()) == 3, what="app's initialize")
        self.assertEqual(read(order).split(), ["prepared", "slow-ready", "cache-up"])
        self.shut_down_and_check_nothing_is_left()


class S6Tree(SupervisionTree, unittest.TestCase):
    manager = "s6"
    supervisor_argv = ["s6-svscan"]
    expected_supervisor_status = 0

    def running_pid(self, name):
        """The service's pid once it is up, and ready when it signals readiness (notification-fd)."""
        directory = os.path.join(self.services, name)
        result = subprocess.run(["s6-svstat", "-o", "up,ready,pid", directory], capture_output=True, text=True,
                                timeout=30)
        if result.returncode != 0:
            return None
        up, ready, pid = result.stdout.split()
        signals_readiness = os.path.exists(os.path.join(directory, "notification-fd"))
        if up != "true" or (signals_readiness and ready != "true"):
            return None
        return int(pid)

    def shut_down(self):
        # s6-svscan's own shutdown: every service down (down-signal, timeout-kill), loggers last, then exit.
        run_checked(["s6-svscanctl", "-t", self.services])


if __name__ == "__main__":
    unittest.main()
