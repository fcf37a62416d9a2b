"""The FIFO every managed process announces itself on, and the processes that announced.

Each line is "<name> <pid> <CLOCK_MONOTONIC ns>" (see bench/tools/announce.cpp). Python's
time.monotonic_ns() reads the same clock, so the harness compares its own timestamps with them.

Every announced process is also held by a pidfd: that is how the harness waits for processes to exit
and how it kills leftovers without any risk of hitting a recycled pid."""

import fcntl
import os
import select
import signal
import threading
import time

F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, missing from Python 3.11's fcntl module on some builds


class Announcement:
    __slots__ = ("name", "pid", "ns")

    def __init__(self, name, pid, ns):
        self.name, self.pid, self.ns = name, pid, ns


class Announcements:
    def __init__(self, path):
        self.path = path
        os.mkfifo(path, 0o600)
        # Read-write: the FIFO always has a reader (writers never block in open) and never reports EOF.
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            fcntl.fcntl(self._fd, F_SETPIPE_SZ, 1 << 20)
        except OSError:
            pass  # the default 64 KiB still works: writers block until the reader catches up
        self._stop_r, self._stop_w = os.pipe2(os.O_CLOEXEC)
        self._lock = threading.Condition()
        self.latest = {}      # name -> the newest Announcement
        self.first = {}       # name -> the first Announcement
        self.pidfds = {}      # pid -> pidfd, for every announced process not yet known to be gone
        self._thread = threading.Thread(target=self._read_loop, name="announcements", daemon=True)
        self._thread.start()

    def _read_loop(self):
        pending = b""
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        while True:
            events = poller.poll()
            if any(fd == self._stop_r for fd, _ in events):
                return
            try:
                chunk = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if lines:
                self._record(lines)

    def _record(self, lines):
        parsed = []
        for line in lines:
            parts = line.decode(errors="replace").split()
            if len(parts) != 3:
                continue
            parsed.append(Announcement(parts[0], int(parts[1]), int(parts[2])))
        fds = {}
        for a in parsed:
            try:
                fds[a.pid] = os.pidfd_open(a.pid)
            except OSError:
                pass  # already gone (killed before we got here): nothing to hold
        with self._lock:
            for a in parsed:
                self.latest[a.name] = a
                self.first.setdefault(a.name, a)
            for pid, fd in fds.items():
                old = self.pidfds.pop(pid, None)
                if old is not None:
                    os.close(old)
                self.pidfds[pid] = fd
            self._lock.notify_all()

    def wait_until(self, predicate, timeout):
        """Waits until predicate(self) holds (checked under the lock); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.5))
            return True

    def count(self):
        with self._lock:
            return len(self.latest)

    def snapshot(self):
        with self._lock:
            return dict(self.latest)

    def pidfd_of(self, pid):
        with self._lock:
            return self.pidfds.get(pid)

    def live_pidfds(self):
        """pidfds of announced processes that have not exited yet (exited ones are closed and dropped)."""
        with self._lock:
            items = dict(self.pidfds)
        exited = set(_readable(items.values()))
        with self._lock:
            for pid, fd in items.items():
                if fd in exited and self.pidfds.get(pid) == fd:
                    os.close(self.pidfds.pop(pid))
        return {pid: fd for pid, fd in items.items() if fd not in exited}

    def kill_leftovers(self):
        """SIGKILLs every announced process still alive, through its pidfd. Returns how many there were."""
        alive = self.live_pidfds()
        for fd in alive.values():
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except OSError:
                pass
        return len(alive)

    def close(self):
        os.write(self._stop_w, b"x")
        self._thread.join()
        for fd in (self._fd, self._stop_r, self._stop_w):
            os.close(fd)
        with self._lock:
            for fd in self.pidfds.values():
                os.close(fd)
            self.pidfds.clear()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def _readable(fds):
    """The fds among `fds` that are readable right now (poll: select cannot take fds above 1023)."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    return [fd for fd, _ in poller.poll(0)]


def wait_exited(pidfds, timeout):
    """Waits until every pidfd (pid -> fd) is readable, i.e. its process has exited. Returns the pids
    still running when `timeout` ran out (empty when all exited)."""
    remaining = dict(pidfds)
    deadline = time.monotonic() + timeout
    poller = select.poll()
    by_fd = {}
    for pid, fd in remaining.items():
        poller.register(fd, select.POLLIN)
        by_fd[fd] = pid
    while remaining:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for fd, _ in poller.poll(left * 1000):
            poller.unregister(fd)
            remaining.pop(by_fd[fd], None)
    return list(remaining)
