"""The PostgreSQL example end to end: Debian's real PostgreSQL 15 under nixpmd, unprivileged, with a web
application that depends on it; SIGKILL of the postmaster brings it back and the dependent follows.

PostgreSQL refuses to run as root, so as root (CI) the test makes a throwaway user and runs nixpmd in
user mode as that user (setpriv), with the test's own XDG directories; as any other user it runs nixpmd
directly. nixpmctl talks to it as the test's own user (root may use any daemon's socket)."""

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import unittest
import urllib.request

from harness import NIXPMD, SOURCE_DIR, DaemonTestCase, free_port, wait_until

BINDIR = "/usr/lib/postgresql/15/bin"
EXAMPLE = os.path.join(SOURCE_DIR, "examples", "postgresql", "processes.yaml")
NEEDS = [os.path.join(BINDIR, tool) for tool in ("initdb", "postgres", "pg_isready", "psql")]


def visit(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            return response.read().decode()
    except OSError:
        return None


@unittest.skipUnless(all(os.access(tool, os.X_OK) for tool in NEEDS), "needs Debian's postgresql-15")
@unittest.skipIf(os.geteuid() == 0 and not (shutil.which("useradd") and shutil.which("setpriv")),
                 "as root, needs useradd and setpriv to run PostgreSQL as another user")
class PostgresqlExample(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.db_port = free_port()
        self.web_port = free_port()
        with open(EXAMPLE) as f:
            text = f.read()
        self.assertIn("port: 5433", text)
        self.assertIn("port: 8081", text)
        self.write_definitions(text.replace("port: 5433", f"port: {self.db_port}")
                               .replace("port: 8081", f"port: {self.web_port}"))
        self.run_as = None
        if os.geteuid() == 0:
            self.run_as = self.make_user()
            # The daemon's binary and every test directory must be the user's to reach.
            os.makedirs(os.path.join(self.tmp, "bin"))
            self.nixpmd = shutil.copy2(NIXPMD, os.path.join(self.tmp, "bin", "nixpmd"))
            self.env["HOME"] = self.tmp
            for root, dirs, files in os.walk(self.tmp):
                for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                    os.chown(name, self.run_as.pw_uid, self.run_as.pw_gid)

    def make_user(self):
        name = "nixpmtest-" + secrets.token_hex(4)
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True)
        self.addCleanup(subprocess.run, ["userdel", name], check=False)
        return pwd.getpwnam(name)

    def start_daemon(self, *extra, wait_ready=True):
        if self.run_as is None:
            return super().start_daemon(*extra, wait_ready=wait_ready)
        log = open(self.daemon_log, "ab")
        # setpriv keeps the environment (the XDG directories); it execs, so the pid is nixpmd's own.
        self.daemon = subprocess.Popen(
            ["setpriv", f"--reuid={self.run_as.pw_uid}", f"--regid={self.run_as.pw_gid}", "--init-groups", "--",
             self.nixpmd, "--user", "-c", self.config_file, "--log-level", "debug", *extra],
            env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        wait_until(lambda: self.daemon.poll() is not None or self.ctl("list").returncode == 0, what="nixpmd to answer")
        self.assertIsNone(self.daemon.poll(), "nixpmd exited:\n" + self.read_daemon_log())
        return self.daemon

    def query(self, sql):
        return subprocess.run([os.path.join(BINDIR, "psql"), "-h", "127.0.0.1", "-p", str(self.db_port), "-U",
                               "postgres", "-d", "postgres", "-AtqX", "-c", sql],
                              capture_output=True, text=True, timeout=30, env={"PGCONNECT_TIMEOUT": "5"})

    def wait_until_both_run(self, timeout=120):
        def ready():
            current = self.status()
            both = all(current[n]["state"] == "running" and current[n]["ready"] for n in ("postgresql", "visits"))
            return current if both else None
        return wait_until(ready, timeout, what="postgresql and visits to be running and ready")

    def test_postgresql_serves_queries_and_comes_back_after_sigkill_with_its_dependent(self):
        self.start_daemon()
        first = self.wait_until_both_run()
        postgres_pid = first["postgresql"]["pid"]
        visits_pid = first["visits"]["pid"]
        self.assertEqual(first["postgresql"]["readiness"], "command")
        with open(f"/proc/{postgres_pid}/comm") as f:
            self.assertEqual(f.read().strip(), "postgres")  # the postmaster itself, not a wrapper
        if self.run_as:
            self.assertEqual(os.stat(f"/proc/{postgres_pid}").st_uid, self.run_as.pw_uid)

        status = self.ctl("status")
        self.assertEqual(status.returncode, 0, status.stderr)
        line = next(l for l in status.stdout.splitlines() if l.split()[:1] == ["postgresql"])
        self.assertIn("running", line)

        answer = self.query("SELECT 6 * 7")
        self.assertEqual((answer.returncode, answer.stdout.strip()), (0, "42"), answer.stderr)
        self.assertEqual(wait_until(lambda: visit(self.web_port), what="the visits page"), "visits: 1\n")
        self.assertEqual(visit(self.web_port), "visits: 2\n")

        # Only the postmaster, by the pid nixpmd reports.
        os.kill(postgres_pid, signal.SIGKILL)

        def postgres_back():
            db = self.status()["postgresql"]
            return db["pid"] not in (None, postgres_pid) and db["state"] == "running" and db["ready"]
        wait_until(postgres_back, 120, what="a new postmaster, ready")

        # The dependent needs it: it is stopped and started again once PostgreSQL is ready again
        # (docs/lifecycle.md), rather than running on against a database that went away.
        def visits_back():
            current = self.status()
            web = current["visits"]
            fresh = web["pid"] not in (None, visits_pid) and web["state"] == "running" and web["ready"]
            return current if fresh and current["postgresql"]["state"] == "running" else None
        after = wait_until(visits_back, 30, what="visits to be restarted after postgresql came back")
        self.assertEqual(after["postgresql"]["restarts"], 1)
        self.assertGreaterEqual(after["visits"]["since"], after["postgresql"]["since"])

        answer = self.query("SELECT count(*) FROM visits")
        self.assertEqual((answer.returncode, answer.stdout.strip()), (0, "2"), answer.stderr)
        self.assertEqual(wait_until(lambda: visit(self.web_port), what="the visits page again"), "visits: 3\n")
        # initdb ran once: the data survived the crash and the restart.
        self.assertEqual(self.log_of("postgresql").count("The files belonging to this database system"), 1)
        self.assertEqual(self.log_of("visits").count("connected to PostgreSQL 15"), 2)


if __name__ == "__main__":
    unittest.main()
