"""`cmake --install` into a temporary DESTDIR: binaries, man pages, shell completions, examples, docs,
the Nix library, the login and container files land where they should, and each of them works.
(test_login_start.py installs with --prefix alone.)"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD_DIR = os.environ.get("NIXPM_BUILD_DIR")
VERBS = ["status", "list", "start", "stop", "restart", "reload", "logs", "signal", "graph", "watch", "check", "generate", "deploy",
         "undeploy", "shutdown"]


@unittest.skipUnless(BUILD_DIR, "NIXPM_BUILD_DIR names the build to install (set by CTest)")
class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stage = tempfile.mkdtemp(prefix="nixpm-install-")
        cls.prefix = "/usr"
        env = dict(os.environ, DESTDIR=cls.stage)
        result = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", cls.prefix], env=env,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        cls.root = cls.stage + cls.prefix

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.stage, ignore_errors=True)

    def path(self, relative):
        return os.path.join(self.root, relative)

    def test_binaries_run(self):
        for binary in ("nixpmd", "nixpmctl"):
            result = subprocess.run([self.path(f"bin/{binary}"), "--version"], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("0.1.0", result.stdout)

    def test_man_pages_render_without_warnings(self):
        for page in ("share/man/man1/nixpmd.1", "share/man/man1/nixpmctl.1", "share/man/man5/nixpm-definitions.5"):
            self.assertTrue(os.path.exists(self.path(page)), page)
            if shutil.which("man"):
                result = subprocess.run(["man", "--warnings=all", "-l", self.path(page)], capture_output=True,
                                        text=True, env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stderr, "", page)

    def test_every_verb_is_in_the_man_page_and_the_help(self):
        with open(self.path("share/man/man1/nixpmctl.1")) as f:
            page = f.read()
        help_text = subprocess.run([self.path("bin/nixpmctl"), "--help"], capture_output=True, text=True).stdout
        for verb in VERBS:
            self.assertRegex(page, re.compile(rf"^\.(B|BR|BI) {verb}\b", re.M), verb)
            self.assertIn(verb, help_text, verb)

    def test_bash_completion_offers_verbs_and_options(self):
        script = self.path("share/bash-completion/completions/nixpmctl")
        program = f"""
source {script}
COMP_WORDS=(nixpmctl re); COMP_CWORD=1; _nixpmctl; echo "${{COMPREPLY[*]}}"
COMP_WORDS=(nixpmctl stop --); COMP_CWORD=2; _nixpmctl; echo "${{COMPREPLY[*]}}"
"""
        result = subprocess.run(["bash", "-c", program], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        verbs_line, stop_line = result.stdout.splitlines()
        self.assertEqual(sorted(verbs_line.split()), ["reload", "restart"])
        self.assertIn("--no-wait", stop_line.split())

    def test_zsh_and_fish_completions_parse(self):
        zsh = self.path("share/zsh/vendor-completions/_nixpmctl")
        fish = self.path("share/fish/vendor_completions.d/nixpmctl.fish")
        self.assertTrue(os.path.exists(zsh) and os.path.exists(fish))
        if shutil.which("zsh"):
            self.assertEqual(subprocess.run(["zsh", "-n", zsh]).returncode, 0)
        if shutil.which("fish"):
            self.assertEqual(subprocess.run(["fish", "--no-execute", fish]).returncode, 0)

    def test_files_naming_installed_paths_name_the_prefix_not_the_stage(self):
        # DESTDIR is only where the files are put: what they name is where they end up.
        with open(self.path("lib/systemd/user/nixpmd.service")) as f:
            self.assertIn(f"ExecStart={self.prefix}/bin/nixpmd --user\n", f.read())
        with open(self.path("share/nixpm/login/nixpmd-autostart.desktop")) as f:
            self.assertIn(f"Exec=sh {self.prefix}/share/nixpm/login/nixpm-login.sh\n", f.read())

    def test_login_container_and_nix_files_are_installed(self):
        for relative in ("share/nixpm/login/nixpm-login.sh", "share/nixpm/container/Containerfile",
                         "share/nixpm/container/processes.yaml", "share/nixpm/nix/default.nix",
                         "share/nixpm/launchd/plist-1.0.dtd", "share/doc/nixpm/packaging.md"):
            self.assertTrue(os.path.isfile(self.path(relative)), relative)

    def test_everything_lands_under_the_prefix(self):
        self.assertEqual(os.listdir(self.stage), [self.prefix.strip("/").split("/")[0]])

    def test_examples_and_docs_are_installed(self):
        self.assertTrue(os.path.exists(self.path("share/doc/nixpm/examples/webapps/processes.yaml")))
        self.assertTrue(os.path.exists(self.path("share/doc/nixpm/protocol.md")))
        self.assertTrue(os.path.exists(self.path("share/doc/nixpm/README.md")))


if __name__ == "__main__":
    unittest.main()
