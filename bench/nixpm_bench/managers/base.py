"""What the harness needs from a manager, and the shared plumbing (processes, logs, waiting).

A manager object lives for one measurement: prepare() writes its configuration for the workload,
launch() starts it without waiting, then the harness drives it through status/stop/shutdown. Every
process it starts is ended by shutdown(), and by pid only."""

import os
import signal
import subprocess

from .. import procfs


class Unavailable(Exception):
    """The manager cannot run on this machine; the message says why (e.g. what to install)."""


class Workload:
    """N services: each runs `announce` with its name, which writes to `fifo` and execs sleep."""

    def __init__(self, names, announce, fifo, chain=False):
        self.names = names
        self.announce = announce
        self.fifo = fifo
        self.chain = chain  # each service depends on the previous one


class Manager:
    name = "?"
    # What each measured operation runs, for the report ("how each manager was driven").
    commands = {}
    supports_chain = False
    # The supervisor's children that are not managed processes are its helpers (runsv, s6-supervise).
    has_helpers = False

    def __init__(self, tools, workdir, base_env):
        self.tools = tools
        self.workdir = workdir
        self.base_env = base_env
        self.process = None  # the Popen of the main process we started
        self._log = None

    # --- to be provided by each manager ---------------------------------------------------------
    @classmethod
    def check_available(cls, tools):
        """Raises Unavailable when the manager cannot run here."""

    @classmethod
    def version(cls, tools):
        return "?"

    def prepare(self, workload):
        raise NotImplementedError

    def launch(self):
        """Starts the manager (and with it the workload); returns at once."""
        raise NotImplementedError

    def supervisor_pid(self):
        return self.process.pid if self.process else None

    def settle(self, timeout):
        """Waits for what launch() started besides the manager itself (a CLI that hands over work)."""

    def status_argv(self):
        raise NotImplementedError

    def status_names(self, output):
        """The service names a status output reports (to check that it covered all N)."""
        raise NotImplementedError

    def stop_all(self):
        """The orderly stop of every service; returns once the manager says it is done (it may still be
        reaping: the harness also waits for every managed process to exit)."""
        raise NotImplementedError

    def shutdown(self):
        """Ends the manager itself (after stop_all or instead of it)."""
        self.terminate_main(signal.SIGTERM)

    # --- shared helpers ---------------------------------------------------------------------------
    def env(self, workload, **extra):
        env = dict(self.base_env)
        env["BENCH_FIFO"] = workload.fifo
        env.update(extra)
        return env

    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def popen(self, argv, env, log_name):
        log = open(self.path(log_name), "ab")
        try:
            return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    cwd=self.workdir)
        finally:
            log.close()

    def run(self, argv, env=None, timeout=600, check=True):
        result = subprocess.run(argv, env=env or self.ctl_env, stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=timeout, cwd=self.workdir)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} ... exited {result.returncode}: "
                               f"{result.stderr.decode(errors='replace')[-2000:]}")
        return result

    def terminate_main(self, sig, timeout=120):
        """Signals the main process we started and waits for it; SIGKILL if it outlives `timeout`."""
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def helpers(self):
        """pids of the supervisor's helper processes (children that are not managed services)."""
        pid = self.supervisor_pid()
        return procfs.children_of(pid) if pid and self.has_helpers else []
