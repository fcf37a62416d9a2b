"""Keeps the benchmark harness working: a small run (N=10, one round) of nixpm, the floor and every
installed peer must finish and produce a complete report. It asserts that the harness ran, never a
time: the numbers of a CI machine mean nothing."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import SOURCE_DIR

BUILD_DIR = os.environ.get("NIXPM_BUILD_DIR")
N = 10


def report_table(markdown, heading):
    """The first markdown table after `heading`, as a list of rows of cells (header row first)."""
    start = markdown.index(heading)
    rows = []
    for line in markdown[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= {"-"} for c in cells):
                rows.append(cells)
        elif rows:
            break
    return rows


def processes_with(text):
    """pids of processes whose environment mentions `text` (the harness's work directory)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


@unittest.skipUnless(BUILD_DIR, "NIXPM_BUILD_DIR is not set (run through ctest)")
class BenchSmokeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nixpm-bench-smoke-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_small_run_produces_a_complete_report(self):
        out = os.path.join(self.tmp, "results.md")
        raw = os.path.join(self.tmp, "results.json")
        work = os.path.join(self.tmp, "work")
        os.mkdir(work)
        # pm2 (node) costs seconds per command: it joins only when NIXPM_BENCH_PM2 names it, so the run
        # stays well under a minute on a busy CI machine. Every other installed peer always runs.
        peers = ["supervisord", "runit", "s6"] + (["pm2"] if os.environ.get("NIXPM_BENCH_PM2") else [])
        command = [sys.executable, os.path.join(SOURCE_DIR, "bench", "run"), "--n", str(N), "--rounds", "1",
                   "--managers", ",".join(["nixpm", "floor"] + peers),
                   "--idle", "0.2", "--crashes", "2", "--status-reps", "1", "--chain", "5", "--scale", "",
                   "--check", str(N), "--build-dir", BUILD_DIR, "--out", out, "--json", raw, "--workdir", work]
        result = subprocess.run(command, capture_output=True, text=True, timeout=240)
        self.assertEqual(result.returncode, 0, result.stderr[-4000:])
        self.assertEqual(processes_with(work), [], "the harness left processes behind")

        with open(raw) as f:
            results = json.load(f)
        ran = results["managers"]
        self.assertIn("nixpm", ran)
        self.assertIn("floor", ran)
        # Every peer either ran or was skipped with a reason (pm2 is never downloaded here).
        for peer in peers:
            self.assertTrue(peer in ran or results["skipped"].get(peer), f"{peer} neither ran nor was skipped")
        for manager in ran:
            rounds = results["main"][str(N)][manager]
            self.assertEqual(len(rounds), 1)
            self.assertNotIn("error", rounds[0], f"{manager}: {rounds[0].get('error', '')[:2000]}")

        with open(out) as f:
            markdown = f.read()
        table = report_table(markdown, f"### N = {N}")
        self.assertEqual(table[0], ["metric"] + ran)
        metrics = [row[0] for row in table[1:]]
        for expected in ("cold start: all N running", "crash → restart", "supervisor RSS", "wakeups",
                         "status of all N", "orderly stop"):
            self.assertTrue(any(expected in m for m in metrics), f"no row for {expected!r} in {metrics}")
        for row in table[1:]:
            self.assertEqual(len(row), len(table[0]), row)
            for cell in row[1:]:
                self.assertRegex(cell, r"^\d+(\.\d+)?", f"row {row[0]!r} has a cell without a number: {row}")

        targets = report_table(markdown, "### Targets")
        verdicts = {row[2] for row in targets[1:]}
        self.assertTrue(verdicts <= {"met", "**missed**", "not measured"}, verdicts)
        self.assertTrue(re.search(r"chain \(each depends on the previous\) \| \d", markdown), "no chain result")
        scale = report_table(markdown, "### Scale")
        self.assertEqual(scale[1][0], str(N))
        self.assertRegex(scale[1][1], r"^\d+$", "no `nixpmctl check` time")


if __name__ == "__main__":
    unittest.main()
