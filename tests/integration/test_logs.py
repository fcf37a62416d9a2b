"""Instance output: captured through nixpmd, appended across restarts, nothing lost under load,
rotated by size so a chatty process or a crash loop cannot fill the disk, optionally timestamped."""

import calendar
import glob
import os
import re
import sys
import time
import unittest

from harness import DaemonTestCase, wait_until

PY = sys.executable
LINES = 200000  # about 7 MB

WRITER = f"""
instances:
  writer:
    process: {PY}
    args: ["-c", "import sys, time\\nfor i in range({LINES}): sys.stdout.write('line %08d of the writer\\\\n' % i)\\nsys.stdout.flush()\\nsys.stderr.write('done\\\\n')\\nsys.stderr.flush()\\ntime.sleep(600)"]
  quiet:
    process: /bin/sh
    args: ["-c", "echo quiet to stdout; echo quiet to stderr >&2; exec sleep 600"]
"""


class Capture(DaemonTestCase):
    definitions = WRITER

    def test_no_output_is_lost_and_instances_do_not_mix(self):
        self.start_daemon()
        wait_until(lambda: os.path.exists(os.path.join(self.state_dir, "log", "writer.log"))
                   and self.log_of("writer").endswith("done\n"), timeout=60, what="the writer to finish")
        lines = self.log_of("writer").splitlines()
        self.assertEqual(len(lines), LINES + 1)
        self.assertEqual(lines[0], "line 00000000 of the writer")
        self.assertEqual(lines[LINES - 1], "line %08d of the writer" % (LINES - 1))
        self.assertTrue(all(line.startswith("line ") for line in lines[:LINES]))
        wait_until(lambda: "quiet to stderr" in self.log_of("quiet"), what="the quiet instance's output")
        self.assertEqual(sorted(self.log_of("quiet").splitlines()), ["quiet to stderr", "quiet to stdout"])
        # Between writes nixpmd holds no log file open (each descriptor it holds is copied into every
        # child it spawns), only the read end of each output pipe.
        log_dir = os.path.realpath(os.path.join(self.state_dir, "log"))
        fd_dir = f"/proc/{self.daemon.pid}/fd"

        def open_logs():
            targets = []
            for fd in os.listdir(fd_dir):
                try:
                    targets.append(os.readlink(os.path.join(fd_dir, fd)))
                except FileNotFoundError:
                    pass
            return [t for t in targets if t.startswith(log_dir + os.sep)]
        wait_until(lambda: open_logs() == [], what="nixpmd to hold no log file open")


class Rotation(DaemonTestCase):
    definitions = WRITER

    def test_logs_rotate_by_size_and_keep_a_bounded_number(self):
        self.start_daemon("--log-max-size", str(1024 * 1024), "--log-keep", "2")
        log_dir = os.path.join(self.state_dir, "log")
        wait_until(lambda: os.path.exists(os.path.join(log_dir, "writer.log"))
                   and self.log_of("writer").endswith("done\n"), timeout=60, what="the writer to finish")
        files = sorted(glob.glob(os.path.join(log_dir, "writer.log*")))
        self.assertEqual([os.path.basename(f) for f in files], ["writer.log", "writer.log.1", "writer.log.2"])
        for f in files:
            self.assertLessEqual(os.path.getsize(f), 1024 * 1024)
        # The newest lines are in the current file; the oldest were dropped with the oldest rotation.
        self.assertIn("line %08d of the writer" % (LINES - 1), self.log_of("writer"))
        with open(files[-1]) as oldest:
            self.assertNotIn("line 00000000 of the writer", oldest.read())


STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


class Timestamps(DaemonTestCase):
    def test_each_line_is_stamped_once_and_partial_lines_wait_for_their_end(self):
        trigger = os.path.join(self.tmp, "go-on")
        self.write_definitions(f"""
instances:
  stamped:
    type: oneshot
    process: /bin/sh
    args: ["-c", "echo first; printf par; while [ ! -e {trigger} ]; do sleep 0.05; done; echo tial line; printf 'no newline at the end'"]
""")
        self.start_daemon("--log-timestamps")
        wait_until(lambda: "first" in self.log_of("stamped"), what="the first line")
        # The unfinished line is held back until its newline arrives.
        self.assertNotIn("par", self.log_of("stamped"))
        with open(trigger, "w"):
            pass
        self.wait_for_states({"stamped": "done"})
        wait_until(lambda: "no newline" in self.log_of("stamped"), what="the unfinished last line")
        text = self.log_of("stamped")
        lines = text.splitlines()
        self.assertTrue(text.endswith("\n"))
        self.assertEqual([STAMP.sub("", line) for line in lines], ["first", "partial line", "no newline at the end"])
        self.assertTrue(all(STAMP.match(line) for line in lines), text)
        # The stamps are now, in UTC.
        stamp = time.strptime(lines[0][:19], "%Y-%m-%dT%H:%M:%S")
        self.assertLess(abs(calendar.timegm(stamp) - time.time()), 300)

    def test_stamped_logs_rotate_without_losing_or_mixing_lines(self):
        self.write_definitions(WRITER)
        self.start_daemon("--log-timestamps", "--log-max-size", str(1024 * 1024), "--log-keep", "2")
        log_dir = os.path.join(self.state_dir, "log")
        wait_until(lambda: self.log_of("writer").endswith(" done\n"), timeout=60, what="the writer to finish")
        files = [os.path.join(log_dir, name) for name in ("writer.log.2", "writer.log.1", "writer.log")]
        self.assertEqual(sorted(glob.glob(os.path.join(log_dir, "writer.log*"))), sorted(files))
        numbers = []
        for name in files:
            self.assertLessEqual(os.path.getsize(name), 1024 * 1024)
            with open(name) as f:
                for line in f.read().splitlines():
                    self.assertRegex(line, STAMP.pattern + r"(line \d{8} of the writer|done)$")
                    if "line " in line:
                        numbers.append(int(line.split()[2]))
        # What is kept is one unbroken run of lines ending with the last one.
        self.assertEqual(numbers, list(range(numbers[0], LINES)))
        # The two rotated files are full: at least 2 MiB of 51-byte lines.
        self.assertGreaterEqual(len(numbers), 2 * 1024 * 1024 // 51 - 2)


class CrashLoop(DaemonTestCase):
    def test_a_chatty_crash_loop_stays_within_keep_plus_one_bounded_files(self):
        max_size = 64 * 1024
        self.write_definitions(f"""
instances:
  crashy:
    process: {PY}
    args: ["-c", "import sys\\nsys.stdout.write(''.join('crash loop line %06d\\\\n' % i for i in range(20000)))\\nsys.exit(1)"]
    restart: always
    restartDelay: 0.05
    maxRestartDelay: 0.2
    restartLimit: 15
""")
        self.start_daemon("--log-max-size", str(max_size), "--log-keep", "2")
        failed = self.wait_for_states({"crashy": "failed"}, timeout=60)["crashy"]
        self.assertGreaterEqual(failed["restarts"], 10)
        log_dir = os.path.join(self.state_dir, "log")
        # 16 runs wrote about 8 MB; the disk holds at most (keep + 1) files of at most max_size.
        wait_until(lambda: self.log_of("crashy").endswith("line 019999\n"), what="the last run's output")
        files = glob.glob(os.path.join(log_dir, "crashy.log*"))
        self.assertEqual(sorted(os.path.basename(f) for f in files), ["crashy.log", "crashy.log.1", "crashy.log.2"])
        for f in files:
            self.assertLessEqual(os.path.getsize(f), max_size)


if __name__ == "__main__":
    unittest.main()
