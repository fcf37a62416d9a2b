"""Per-instance process settings with real processes: initialize, path, umask, nice, rlimits, oneshots,
successExitCodes, and the users and groups a root daemon creates from `credentials`."""

import grp
import os
import pwd
import secrets
import shutil
import subprocess
import unittest

from harness import DaemonTestCase, SystemDaemonTestCase, wait_until


class ProcessSettings(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.tools = os.path.join(self.tmp, "tools")
        os.makedirs(os.path.join(self.tools, "bin"))
        script = os.path.join(self.tools, "bin", "hello-tool")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho hello from the tool\n")
        os.chmod(script, 0o755)
        self.write_definitions(f"""
instances:
  prepare:
    type: oneshot
    process: /bin/sh
    args: ["-c", "echo prepared > ${{stateDir}}/prepared"]
  server:
    dependencies: [prepare]
    initialize: "mkdir -p ${{stateDir}}/lib/server && echo initialized > ${{stateDir}}/lib/server/marker"
    path: ["{self.tools}"]
    umask: "027"
    nice: 7
    process: /bin/sh
    args: ["-c", "hello-tool; touch ${{stateDir}}/lib/server/created; exec sleep 600"]
  badInit:
    autostart: false
    restart: never
    initialize: "echo initialize failed >&2; exit 9"
    process: /bin/sleep
    args: ["600"]
  exitsWith3:
    autostart: false
    process: /bin/sh
    args: ["-c", "exit 3"]
    successExitCodes: [0, 3]
""")

    def test_settings_reach_the_process(self):
        self.start_daemon()
        states = self.wait_for_states({"prepare": "done", "server": "running"})
        with open(os.path.join(self.state_dir, "prepared")) as f:
            self.assertEqual(f.read(), "prepared\n")
        pid = states["server"]["pid"]
        # The pid is the program itself: initialize ran in the same process before the exec.
        created = os.path.join(self.state_dir, "lib", "server", "created")
        wait_until(lambda: _comm(pid) == "sleep", what="the server's shell to exec sleep in the same pid")
        with open(os.path.join(self.state_dir, "lib", "server", "marker")) as f:
            self.assertEqual(f.read(), "initialized\n")
        self.assertIn("hello from the tool", self.log_of("server"))
        self.assertEqual(os.stat(created).st_mode & 0o777, 0o640)
        with open(f"/proc/{pid}/stat") as f:
            self.assertEqual(int(f.read().rsplit(")", 1)[1].split()[16]), 7)  # field 19: nice

    def test_a_failing_initialize_fails_the_start_with_its_output_in_the_log(self):
        self.start_daemon()
        self.ctl("start", "badInit", "--no-wait")
        failed = self.wait_for_states({"badInit": "failed"})["badInit"]
        self.assertEqual(failed["lastExit"], "exited 9")
        self.assertIn("initialize failed", self.log_of("badInit"))

    def test_success_exit_codes_are_not_failures(self):
        self.start_daemon()
        self.ctl("start", "exitsWith3", "--no-wait")
        stopped = self.wait_for_states({"exitsWith3": "stopped"})["exitsWith3"]
        self.assertEqual(stopped["lastExit"], "exited 3")
        self.assertEqual(stopped["restarts"], 0)


LIMITED = """
instances:
  limited:
    process: /bin/sh
    args: ["-c", "echo nofile=$(ulimit -Sn)/$(ulimit -Hn) core=$(ulimit -c); exec sleep 600"]
    rlimits: { nofile: NOFILE, core: 0 }
  tooMany:
    autostart: false
    process: /bin/sleep
    args: ["600"]
    rlimits: { nofile: infinity }
"""


class ResourceLimits(DaemonTestCase):
    def test_limits_reach_the_process_and_a_change_restarts_it(self):
        self.write_definitions(LIMITED.replace("NOFILE", "1000"))
        self.start_daemon()
        pid = self.wait_for_states({"limited": "running"})["limited"]["pid"]
        wait_until(lambda: "nofile=" in self.log_of("limited"), what="the limits in the log")
        self.assertIn("nofile=1000/1000 core=0", self.log_of("limited"))
        with open(f"/proc/{pid}/limits") as f:
            self.assertRegex(f.read(), r"Max open files\s+1000\s+1000")

        self.write_definitions(LIMITED.replace("NOFILE", "{ soft: 900, hard: 1000 }"))
        reload = self.ctl("reload")
        self.assertEqual(reload.returncode, 0, reload.stderr)
        wait_until(lambda: (s := self.status()["limited"])["state"] == "running" and s["pid"] != pid,
                   what="limited to restart with its new limit")
        wait_until(lambda: "nofile=900/1000" in self.log_of("limited"), what="the new limit in the log")

    def test_a_limit_the_system_refuses_fails_the_start_naming_it(self):
        self.write_definitions(LIMITED.replace("NOFILE", "1000"))
        self.start_daemon()
        # Nobody may raise nofile above fs.nr_open, root included.
        self.ctl("start", "tooMany", "--no-wait")
        failed = self.wait_for_states({"tooMany": "failed"})["tooMany"]
        self.assertEqual(failed["error"], "setrlimit nofile: Operation not permitted")


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("useradd") and shutil.which("groupadd"),
                     "needs root, useradd and groupadd")
class SystemCredentials(SystemDaemonTestCase):
    """A root nixpmd in system mode creates the missing groups and users of `credentials`."""

    def setUp(self):
        super().setUp()
        suffix = secrets.token_hex(4)
        self.group = f"nixpmtest-g-{suffix}"
        self.user = f"nixpmtest-u-{suffix}"
        self.later = f"nixpmtest-l-{suffix}"
        self.existing = f"nixpmtest-e-{suffix}"
        self.broken = f"nixpmtest-b-{suffix}"
        # Cleanups run last-registered first: users before the groups they belong to.
        for group in (self.group, self.user, self.later, self.existing, self.broken):
            self.addCleanup(subprocess.run, ["groupdel", group], check=False, capture_output=True)
        for user in (self.user, self.later, self.existing, self.broken):
            self.addCleanup(subprocess.run, ["userdel", user], check=False, capture_output=True)
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.existing],
                       check=True)
        # The users must reach their working directory (the state dir) and the home's parent.
        os.makedirs(os.path.join(self.tmp, "home"))
        self.home = os.path.join(self.tmp, "home", self.user)

    def definitions_with(self, extra=""):
        report = 'echo uid=$(id -u) gid=$(id -g) user=$(id -un); exec sleep 600'
        return f"""
instances:
  app:
    user: {self.user}
    credentials:
      groups: {{ {self.group}: {{}} }}
      users:
        {self.user}: {{ group: {self.group}, description: "nixpm test user", homeDir: {self.home},
                       createHomeDir: true, shell: /bin/sh }}
    process: /bin/sh
    args: ["-c", "{report}"]
  existing:
    user: {self.existing}
    credentials: {{ users: {{ {self.existing}: {{ shell: /bin/sh }} }} }}
    process: /bin/sh
    args: ["-c", "{report}"]
  broken:
    user: {self.broken}
    credentials: {{ users: {{ {self.broken}: {{ group: nixpmtest-no-such-group }} }} }}
    process: /bin/sleep
    args: ["600"]
{extra}"""

    def assert_runs_as(self, instance, user):
        entry = pwd.getpwnam(user)
        expected = f"uid={entry.pw_uid} gid={entry.pw_gid} user={user}"
        wait_until(lambda: "uid=" in self.log_of(instance), what=f"{instance} to report its ids")
        self.assertIn(expected, self.log_of(instance))
        return entry

    def test_missing_accounts_are_created_existing_ones_left_alone(self):
        self.write_definitions(self.definitions_with())
        self.start_daemon()
        self.wait_for_states({"app": "running", "existing": "running", "broken": "failed"})

        user = self.assert_runs_as("app", self.user)
        group = grp.getgrnam(self.group)
        self.assertEqual(user.pw_gid, group.gr_gid)
        self.assertEqual((user.pw_gecos, user.pw_dir, user.pw_shell), ("nixpm test user", self.home, "/bin/sh"))
        self.assertEqual(os.stat(self.home).st_uid, user.pw_uid)
        # An account that existed is not modified, not even its shell.
        self.assert_runs_as("existing", self.existing)
        self.assertEqual(pwd.getpwnam(self.existing).pw_shell, "/usr/sbin/nologin")
        # useradd's own message is logged, and the instance that needs the account fails clearly.
        log = self.read_daemon_log()
        self.assertIn(f"credentials: created group {self.group}", log)
        self.assertIn(f"credentials: created user {self.user}", log)
        self.assertIn(f"credentials: cannot create user {self.broken} (for broken): useradd: group "
                      f"'nixpmtest-no-such-group' does not exist", log)
        self.assertEqual(self.status()["broken"]["error"], f"user '{self.broken}' does not exist")

        # A reload creates the accounts of new instances before starting them.
        self.write_definitions(self.definitions_with(f"""
  later:
    user: {self.later}
    credentials: {{ users: {{ {self.later}: {{}} }} }}
    process: /bin/sh
    args: ["-c", "echo uid=$(id -u) gid=$(id -g) user=$(id -un); exec sleep 600"]
"""))
        reload = self.ctl("reload")
        self.assertEqual(reload.returncode, 0, reload.stderr)
        self.wait_for_states({"later": "running"})
        self.assert_runs_as("later", self.later)

    def test_user_mode_ignores_credentials_with_a_note(self):
        self.write_definitions(f"""
instances:
  app:
    credentials: {{ users: {{ {self.user}: {{}} }} }}
    process: /bin/sleep
    args: ["600"]
""")
        self.socket_path = self.user_socket
        self.state_dir = os.path.join(self.tmp, "state", "nixpm")
        DaemonTestCase.start_daemon(self)
        self.wait_for_states({"app": "running"})
        self.assertIn("credentials are not created: user mode", self.read_daemon_log())
        with self.assertRaises(KeyError):
            pwd.getpwnam(self.user)


def _comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


if __name__ == "__main__":
    unittest.main()
