"""One measurement: one manager, one workload, one round. Each runs in a fresh work directory with its
own FIFO, and ends with every process it started gone (checked through pidfds, killed by pidfd if not).

What is measured (all times from CLOCK_MONOTONIC, the clock the announcements carry):
  start_first_ms / start_all_ms  launching the manager until the first / the last service announced
  rss_mib                        VmRSS of the supervisor process with all N running
  anon_mib / pss_mib             its anonymous part (heap, stacks) and its PSS (shared pages divided)
  helpers_pss_mib                PSS summed over its helper processes (runsv, s6-supervise)
  idle_cpu_ms / idle_wakeups     CPU time and context switches of the supervisor over the idle window
  idle_helper_wakeups            the same switches summed over the helpers
  restart_ms                     SIGKILL of a service that had been up > 1 s until its replacement
                                 announced: the median over `crashes` different services
  status_ms                      one status query of all N through the manager's CLI (median of reps)
  stop_ms                        the orderly stop of all N until every service process has exited
"""

import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

from . import procfs
from .announcements import Announcements, wait_exited
from .managers.base import Workload

ALL = frozenset({"start", "memory", "idle", "restart", "status", "stop"})


class MeasurementError(Exception):
    pass


class Options:
    idle_seconds = 10.0
    crashes = 20
    status_reps = 3
    keep = False
    workroot = None
    base_env = None
    verbose = False


def names_for(count):
    return [f"s{i:05d}" for i in range(1, count + 1)]


def start_timeout(count):
    # Generous: on a loaded 2-core machine supervisord needed 87 s for 1000 services, and a timeout
    # reports a failure instead of a (slow) number.
    return 60 + count * 0.3


def _mib(kib):
    return kib / 1024.0


def _pidfd(pid):
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def _sleep_until_ns(target_ns):
    while True:
        left = (target_ns - time.monotonic_ns()) / 1e9
        if left <= 0:
            return
        time.sleep(left)


def spread(items, count):
    """`count` items spread evenly over `items` (all of them when there are fewer)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def measure(manager_cls, tools, count, options, metrics=ALL, chain=False):
    """Runs one measurement; returns {metric: value}. Raises MeasurementError with the manager's log."""
    names = names_for(count)
    workdir = tempfile.mkdtemp(prefix=f"{manager_cls.name}-{count}-", dir=options.workroot)
    fifo = os.path.join(workdir, "announce.fifo")
    announcements = Announcements(fifo)
    manager = manager_cls(tools, workdir, options.base_env)
    held = {}  # pid -> pidfd of the supervisor and its helpers, to wait for them at the end
    result = {}
    try:
        manager.prepare(Workload(names, tools.announce, fifo, chain=chain))
        t0 = time.monotonic_ns()
        manager.launch()
        if not announcements.wait_until(lambda a: len(a.first) >= count, start_timeout(count)):
            raise MeasurementError(f"only {announcements.count()} of {count} services announced within "
                                   f"{start_timeout(count):.0f}s")
        firsts = [a.ns for a in announcements.snapshot().values()]
        result["start_first_ms"] = (min(firsts) - t0) / 1e6
        result["start_all_ms"] = (max(firsts) - t0) / 1e6
        manager.settle(120)
        supervisor = manager.supervisor_pid()
        if supervisor is None:
            raise MeasurementError("cannot find the supervisor process")
        fd = _pidfd(supervisor)
        if fd is not None:
            held[supervisor] = fd
        # From here on every service has been up for more than a second.
        _sleep_until_ns(max(firsts) + 1_000_000_000)

        helpers = manager.helpers()
        for pid in helpers:
            fd = _pidfd(pid)
            if fd is not None:
                held[pid] = fd
        if "memory" in metrics:
            result["rss_mib"] = _mib(procfs.rss_kib(supervisor))
            result["anon_mib"] = _mib(procfs.status_kib(supervisor, "RssAnon"))
            result["pss_mib"] = _mib(_safe(procfs.pss_kib, supervisor))
            result["helpers_pss_mib"] = _mib(sum(_safe(procfs.pss_kib, p) for p in helpers))
            result["total_mib"] = result["rss_mib"] + result["helpers_pss_mib"]
        if "idle" in metrics:
            result.update(_idle(supervisor, helpers, options.idle_seconds))
        if "status" in metrics:
            result["status_ms"] = _status(manager, names, options.status_reps)
        if "restart" in metrics:
            result["restart_ms"] = _restarts(announcements, names, options.crashes)
        if "stop" in metrics:
            live = announcements.live_pidfds()
            t = time.monotonic_ns()
            manager.stop_all()
            left = wait_exited(live, 120)
            result["stop_ms"] = (time.monotonic_ns() - t) / 1e6
            if left:
                raise MeasurementError(f"{len(left)} services still running 120 s after the stop")
        return result
    except (MeasurementError, RuntimeError, OSError, subprocess.SubprocessError) as error:
        # A manager's command that failed or timed out spoils this measurement, not the whole run.
        raise MeasurementError(f"{error}\n--- end of {manager_cls.name}'s output ---\n"
                               f"{_logs(workdir)}") from None
    finally:
        _teardown(manager, announcements, held)
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _safe(function, *args):
    try:
        return function(*args)
    except OSError:
        return 0


def _idle(supervisor, helpers, seconds):
    before = procfs.activity(supervisor)
    helpers_before = [procfs.activity(p) for p in helpers]
    time.sleep(seconds)
    after = procfs.activity(supervisor)
    helpers_after = [procfs.activity(p) for p in helpers]
    scale = 10.0 / seconds  # reported per 10 s, whatever the window
    return {
        "idle_cpu_ms": (after[0] - before[0]) / 1e6 * scale,
        "idle_wakeups": (after[1] - before[1]) * scale,
        "idle_helper_cpu_ms": sum(a[0] - b[0] for a, b in zip(helpers_after, helpers_before)) / 1e6 * scale,
        "idle_helper_wakeups": sum(a[1] - b[1] for a, b in zip(helpers_after, helpers_before)) * scale,
    }


def _status(manager, names, reps):
    times = []
    for _ in range(reps):
        t = time.monotonic_ns()
        result = subprocess.run(manager.status_argv(), env=manager.ctl_env, stdin=subprocess.DEVNULL,
                                capture_output=True, cwd=manager.workdir, timeout=600)
        times.append((time.monotonic_ns() - t) / 1e6)
        output = result.stdout.decode(errors="replace")
        reported = manager.status_names(output)
        if reported is not None and not set(names) <= reported:
            missing = sorted(set(names) - reported)
            raise MeasurementError(f"status did not report {len(missing)} of {len(names)} services as running "
                                   f"(e.g. {missing[:3]}; exit {result.returncode})\n{output[-1500:]}"
                                   f"{result.stderr.decode(errors='replace')[-1500:]}")
    return statistics.median(times)


def _restarts(announcements, names, crashes):
    latencies = []
    for name in spread(names, crashes):
        victim = announcements.snapshot()[name]
        _sleep_until_ns(victim.ns + 1_000_000_000)  # the victim has been up for more than a second
        fd = announcements.pidfd_of(victim.pid)
        if fd is None:
            raise MeasurementError(f"{name} (pid {victim.pid}) is not running before the crash test")
        t = time.monotonic_ns()
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        if not announcements.wait_until(lambda a: a.latest[name].ns > t, 30):
            raise MeasurementError(f"{name} was not restarted within 30 s of SIGKILL")
        latencies.append((announcements.snapshot()[name].ns - t) / 1e6)
        time.sleep(0.05)  # let the manager finish its bookkeeping before the next crash
    return statistics.median(latencies)


def _teardown(manager, announcements, held):
    # An interrupt now would leave processes behind: it waits until everything is ended.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        _end_everything(manager, announcements, held)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _end_everything(manager, announcements, held):
    try:
        manager.shutdown()
    except Exception as error:  # the teardown must go on: processes are still to be ended
        print(f"bench: {manager.name}: shutdown failed: {error}", flush=True)
    # The supervisor and helpers get a while to end on their own, then services and they are killed.
    left = wait_exited(held, 60)
    for pid in left:
        print(f"bench: {manager.name}: pid {pid} ({procfs.cmdline(pid)[:60]}) outlived the shutdown; killing it",
              flush=True)
        try:
            signal.pidfd_send_signal(held[pid], signal.SIGKILL)
        except OSError:
            pass
    live = announcements.live_pidfds()
    if live:
        wait_exited(live, 10)
    leftovers = announcements.kill_leftovers()
    if leftovers:
        print(f"bench: {manager.name}: {leftovers} services outlived the shutdown; killed them", flush=True)
    wait_exited(held, 10)
    for fd in held.values():
        os.close(fd)
    announcements.close()


def _logs(workdir):
    text = []
    for entry in sorted(os.listdir(workdir)):
        if entry.endswith((".log", ".out")):
            with open(os.path.join(workdir, entry), "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 1500))
                text.append(f"[{entry}] " + f.read().decode(errors="replace"))
    return "\n".join(text)[-4000:]


def time_check(tools, count, options, reps=3):
    """`nixpmctl check` on generated definitions of `count` instances: the median wall time in ms."""
    from .managers.nixpm import definitions_yaml
    workdir = tempfile.mkdtemp(prefix=f"check-{count}-", dir=options.workroot)
    try:
        config = os.path.join(workdir, "processes.yaml")
        with open(config, "w") as f:
            f.write(definitions_yaml(Workload(names_for(count), tools.announce, "/dev/null")))
        env = dict(options.base_env, XDG_CONFIG_HOME=workdir, XDG_STATE_HOME=workdir, XDG_RUNTIME_DIR=workdir)
        times = []
        for _ in range(reps):
            t = time.monotonic_ns()
            result = subprocess.run([tools.nixpmctl, "--user", "check", "-c", config], env=env,
                                    capture_output=True, timeout=600)
            times.append((time.monotonic_ns() - t) / 1e6)
            if result.returncode != 0:
                raise MeasurementError(f"nixpmctl check exited {result.returncode}: "
                                       f"{result.stderr.decode(errors='replace')[-2000:]}")
        return statistics.median(times)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
