"""Instance output: captured through nixpmd, appended across restarts, nothing lost under load,
rotated by size so a chatty process or a crash loop cannot fill the disk."""

import glob
import os
import sys
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
            self.assertLessEqual(os.path.getsize(f), 1024 * 1024 + 64 * 1024)
        # The newest lines are in the current file; the oldest were dropped with the oldest rotation.
        self.assertIn("line %08d of the writer" % (LINES - 1), self.log_of("writer"))
        with open(files[-1]) as oldest:
            self.assertNotIn("line 00000000 of the writer", oldest.read())


if __name__ == "__main__":
    unittest.main()
