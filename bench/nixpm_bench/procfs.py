"""What /proc says about a process: memory, CPU time, context switches, children. Linux only."""

import os


def _read(path):
    with open(path) as f:
        return f.read()


def stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name (field 3, the state, is index 0)."""
    text = _read(f"/proc/{pid}/stat")
    return text.rsplit(")", 1)[1].split()


def parent_of(pid):
    try:
        return int(stat_fields(pid)[1])
    except (OSError, IndexError, ValueError):
        return None


def is_alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        return stat_fields(pid)[0] != "Z"
    except (OSError, IndexError):
        return False


def children_of(pid):
    """Live children of `pid`, by scanning /proc (/proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN,
    which not every kernel has; this runs once per measurement)."""
    result = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and parent_of(int(entry)) == pid and is_alive(int(entry)):
            result.append(int(entry))
    return result


def status_kib(pid, key):
    """A "kB" line of /proc/<pid>/status, such as VmRSS, in KiB."""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def pss_kib(pid):
    """Proportional set size: shared pages are divided among the processes that map them."""
    for line in _read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _tasks(pid):
    try:
        return os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []


def activity(pid):
    """CPU time (ns, from schedstat) and context switches (voluntary + involuntary), summed over threads.

    A context switch is the cheapest observable sign of a wakeup: a process that sleeps in one system
    call and is never woken has none, whatever its timers would have said."""
    cpu_ns = 0
    switches = 0
    for tid in _tasks(pid):
        try:
            cpu_ns += int(_read(f"/proc/{pid}/task/{tid}/schedstat").split()[0])
            for line in _read(f"/proc/{pid}/task/{tid}/status").splitlines():
                if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                    switches += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended between listing and reading
    return cpu_ns, switches


def cmdline(pid):
    try:
        return _read(f"/proc/{pid}/cmdline").replace("\0", " ").strip()
    except OSError:
        return ""
