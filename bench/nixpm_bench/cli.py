"""bench/run: the command line. See docs/benchmarks.md for what it measures and how to read the report."""

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from . import report, scenario
from .managers import DEFAULT, MANAGERS
from .managers.base import Unavailable
from .managers.pm2 import install_pm2
from .tools import SOURCE_DIR, Tools

DOCS_BEGIN = "<!-- bench:begin (written by bench/run --docs; do not edit by hand) -->"
DOCS_END = "<!-- bench:end -->"


def int_list(text):
    return [int(x) for x in text.split(",") if x.strip()] if text.strip() else []


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=(
        "Runs nixpmd, its peers (supervisord, runit, s6, pm2) and a floor program on the same workload "
        "(N services that announce themselves on a FIFO and exec sleep) and writes a markdown report."))
    p.add_argument("--n", type=int_list, default=[100, 1000], help="service counts, e.g. 100,1000 (default)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per N; managers interleave within a round")
    p.add_argument("--managers", default=",".join(DEFAULT),
                   help=f"comma-separated, from: {', '.join(MANAGERS)} (default: {','.join(DEFAULT)})")
    p.add_argument("--variant", action="append", default=[], metavar="'NAME=BUILD_DIR [NIXPMD ARGS]'",
                   help="also run the nixpmd built in BUILD_DIR, with these extra arguments, under NAME "
                        "(repeatable): compare a fix, or e.g. 'nocg=build --no-cgroups'")
    p.add_argument("--idle", type=float, default=10.0, help="idle window in seconds (default 10)")
    p.add_argument("--crashes", type=int, default=20, help="services SIGKILLed per round (default 20)")
    p.add_argument("--status-reps", type=int, default=3, help="status queries per round; the median counts")
    p.add_argument("--chain", type=int, default=100, help="length of the dependency chain (0: skip)")
    p.add_argument("--scale", type=int_list, default=[10000],
                   help="extra N for the scale curve, nixpm and floor only (default 10000; '' to skip)")
    p.add_argument("--scale-rounds", type=int, default=3, help="rounds per scale N (default 3)")
    p.add_argument("--check", type=int_list, default=None,
                   help="instance counts for `nixpmctl check` (default: every N and scale N)")
    p.add_argument("--build-dir", default=os.environ.get("NIXPM_BUILD_DIR") or os.path.join(SOURCE_DIR, "build"),
                   help="where nixpmd and nixpmctl are built (default $NIXPM_BUILD_DIR, else build/)")
    p.add_argument("--out", help="markdown report (default BUILD_DIR/bench/results.md)")
    p.add_argument("--json", help="raw results (default BUILD_DIR/bench/results.json)")
    p.add_argument("--docs", metavar="FILE", help=f"also replace the report block of FILE (docs/benchmarks.md)")
    p.add_argument("--workdir", default=None, help="where the temporary directories go (default $TMPDIR or /tmp)")
    p.add_argument("--keep", action="store_true", help="keep every work directory (configs, logs)")
    p.add_argument("--install-pm2", action="store_true",
                   help="npm install pm2 into ~/.cache/nixpm-bench/pm2 first (never done otherwise)")
    args = p.parse_args(argv)
    args.managers = [m.strip() for m in args.managers.split(",") if m.strip()]
    for variant in args.variant:
        label, _, rest = variant.partition("=")
        words = shlex.split(rest)
        if not label or not words or label in MANAGERS:
            p.error(f"--variant wants 'NAME=BUILD_DIR [NIXPMD ARGS]' with a new NAME, not {variant!r}")
        MANAGERS[label] = MANAGERS["nixpm"].variant(label, words[0], words[1:])
        args.managers.append(label)
    unknown = [m for m in args.managers if m not in MANAGERS]
    if unknown:
        p.error(f"unknown manager(s) {', '.join(unknown)}; known: {', '.join(MANAGERS)}")
    if args.rounds < 1 or args.scale_rounds < 1:
        p.error("--rounds and --scale-rounds must be at least 1")
    if not args.n:
        p.error("--n needs at least one count")
    if any(n < 1 for n in args.n + args.scale):
        p.error("service counts must be positive")
    return args


def log(text):
    print(text, file=sys.stderr, flush=True)


def raise_limits(largest):
    """Enough descriptors for pidfds of every service (and for the managers, which inherit them)."""
    wanted = max(65536, 4 * largest + 4096)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            soft, hard = wanted, wanted
        except (ValueError, OSError):
            pass  # not root: keep what we may have
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted,
                                                 hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (hard, hard))
    except (ValueError, OSError):
        pass


def process_budget():
    """How many more processes this machine lets us start (pid_max, threads-max, RLIMIT_NPROC)."""
    def read_int(path):
        try:
            with open(path) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None
    running = sum(1 for e in os.listdir("/proc") if e.isdigit())
    limits = [x for x in (read_int("/proc/sys/kernel/pid_max"), read_int("/proc/sys/kernel/threads-max")) if x]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    if os.geteuid() != 0 and nproc != resource.RLIM_INFINITY:
        limits.append(nproc)
    return min(limits) - running if limits else None


def machine_info(tools):
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    distro = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    commit = first_line(["git", "-C", SOURCE_DIR, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", SOURCE_DIR, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = f.read().strip()
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU model": cpu,
        "memory": memory,
        "kernel": platform.release(),
        "distribution": distro,
        "pid_max": pid_max,
        "compiler": first_line(["g++", "--version"]),
        "nixpm build": f"{tools.build_type()} ({tools.build_dir})",
        "nixpm commit": commit + (" with uncommitted changes" if dirty else ""),
        "python": platform.python_version(),
    }


def load_now():
    """The load average and CPU pressure right now: a run on a busy machine is worth little."""
    text = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        with open("/proc/pressure/cpu") as f:
            some = f.readline().split()
        text += f"; CPU pressure {some[2].split('=')[1]}% (avg60)"
    except (OSError, IndexError):
        pass
    return text


def rotated(items, by):
    k = by % len(items) if items else 0
    return items[k:] + items[:k]


def summary_line(metrics):
    keys = ("start_all_ms", "restart_ms", "rss_mib", "idle_wakeups", "status_ms", "stop_ms")
    return " ".join(f"{k}={metrics[k]:.2f}" for k in keys if k in metrics)


def run_one(results_bucket, manager_cls, tools, n, options, label, **kwargs):
    try:
        metrics = scenario.measure(manager_cls, tools, n, options, **kwargs)
        log(f"  [{label}] {manager_cls.name:<12} {summary_line(metrics)}")
    except scenario.MeasurementError as error:
        metrics = {"error": str(error)}
        log(f"  [{label}] {manager_cls.name:<12} FAILED: {error}")
    results_bucket.setdefault(manager_cls.name, []).append(metrics)
    return metrics


def interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None):
    # A run started in the background inherits SIGINT ignored, and SIGTERM would end Python without its
    # finally blocks: both become KeyboardInterrupt, so every measurement ends its processes first.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    tools = Tools(args.build_dir)
    tools.build()
    if args.install_pm2:
        install_pm2()
    raise_limits(max(args.n + args.scale))

    managers, skipped = [], {}
    for name in args.managers:
        try:
            MANAGERS[name].check_available(tools)
            managers.append(name)
        except Unavailable as reason:
            skipped[name] = str(reason)
            log(f"bench: skipping {name}: {reason}")
    if not managers:
        raise SystemExit("bench: no manager can run")

    options = scenario.Options()
    options.idle_seconds = args.idle
    options.crashes = args.crashes
    options.status_reps = args.status_reps
    options.keep = args.keep
    options.workroot = tempfile.mkdtemp(prefix="nixpm-bench-", dir=args.workdir)
    env = dict(os.environ)
    for key in ("NIXPM_SOCKET", "PM2_HOME", "BENCH_FIFO"):
        env.pop(key, None)
    options.base_env = env

    results = {
        "started": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "command": "bench/run " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)),
        "options": {"rounds": args.rounds, "n": args.n, "idle_seconds": args.idle, "crashes": args.crashes,
                    "scale": args.scale, "chain": args.chain},
        "managers": managers,
        "skipped": skipped,
        "machine": machine_info(tools),
        "versions": {m: MANAGERS[m].version(tools) for m in managers},
        "commands": {m: MANAGERS[m].commands for m in managers},
        "main": {}, "scale": {}, "check": {}, "scale_notes": [],
    }
    results["machine"]["load at start (1/5/15 min)"] = load_now()
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        log(f"bench: warning: the machine is busy (load {load_now()}); the numbers will be noisy")

    try:
        for n in args.n:
            bucket = results["main"].setdefault(str(n), {})
            for r in range(args.rounds):
                log(f"bench: N={n}, round {r + 1}/{args.rounds}")
                for name in rotated(managers, r):
                    run_one(bucket, MANAGERS[name], tools, n, options, f"N={n} r{r + 1}")

        if args.chain and "nixpm" in managers:
            chain = {"n": args.chain, "flat": [], "chain": []}
            for r in range(args.rounds):
                log(f"bench: chain of {args.chain}, round {r + 1}/{args.rounds}")
                for linked in rotated([False, True], r):
                    bucket = {}
                    metrics = run_one(bucket, MANAGERS["nixpm"], tools, args.chain, options,
                                      "chain" if linked else "flat", metrics=frozenset({"start"}), chain=linked)
                    chain["chain" if linked else "flat"].append(metrics.get("start_all_ms"))
            results["chain"] = chain

        scale_managers = [m for m in ("nixpm", "floor") if m in managers]
        for n in args.scale:
            budget = process_budget()
            if budget is not None and n + 500 > budget:
                note = (f"N={n} not run: the machine allows about {budget} more processes "
                        "(pid_max, threads-max or RLIMIT_NPROC)")
                results["scale_notes"].append(note)
                log(f"bench: {note}")
                continue
            # nixpmd holds a descriptor per running instance (the read end of its output pipe; log
            # files are open only while written), and it inherits our limit: past it, spawns fail
            # with EMFILE (as without CAP_SYS_RESOURCE here).
            descriptors = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            managers_here = list(scale_managers)
            if "nixpm" in managers_here and descriptors != resource.RLIM_INFINITY and n + 256 > descriptors:
                note = (f"nixpm at N={n} not run: it needs about {n + 256} descriptors (an output pipe "
                        f"per instance) and RLIMIT_NOFILE is {descriptors} here")
                results["scale_notes"].append(note)
                log(f"bench: {note}")
                managers_here.remove("nixpm")
            bucket = results["scale"].setdefault(str(n), {})
            for r in range(args.scale_rounds):
                log(f"bench: scale N={n}, round {r + 1}/{args.scale_rounds}")
                for name in rotated(managers_here, r):
                    run_one(bucket, MANAGERS[name], tools, n, options, f"scale N={n} r{r + 1}",
                            metrics=frozenset({"start", "memory", "status", "stop"}))

        if "nixpm" in managers:
            for n in (args.check if args.check is not None else sorted(set(args.n + args.scale))):
                try:
                    results["check"][str(n)] = [scenario.time_check(tools, n, options) for _ in range(args.rounds)]
                    log(f"bench: nixpmctl check of {n} instances: {results['check'][str(n)]}")
                except scenario.MeasurementError as error:
                    log(f"bench: nixpmctl check of {n} instances failed: {error}")
    finally:
        if not args.keep:
            try:
                os.rmdir(options.workroot)
            except OSError:
                pass
    results["duration_s"] = time.monotonic() - started
    results["machine"]["load at end (1/5/15 min)"] = load_now()

    out = args.out or os.path.join(tools.build_dir, "bench", "results.md")
    json_out = args.json or os.path.join(tools.build_dir, "bench", "results.json")
    for path in (out, json_out):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    text = report.render(results)
    with open(out, "w") as f:
        f.write(text + "\n")
    with open(json_out, "w") as f:
        json.dump(results, f, indent=1)
    if args.docs:
        update_docs(args.docs, text)
    log(f"bench: report in {out}, raw results in {json_out} ({results['duration_s']:.0f} s)")
    print(text)
    return 0


def update_docs(path, text):
    with open(path) as f:
        doc = f.read()
    begin, end = doc.find(DOCS_BEGIN), doc.find(DOCS_END)
    if begin < 0 or end < begin:
        raise SystemExit(f"bench: {path} has no {DOCS_BEGIN} ... {DOCS_END} block to replace")
    doc = doc[:begin + len(DOCS_BEGIN)] + "\n" + text + "\n" + doc[end:]
    with open(path, "w") as f:
        f.write(doc)
