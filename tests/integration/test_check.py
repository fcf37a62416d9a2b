"""`nixpmctl check` as users run it: no daemon, the shipped examples, errors with file:line:column, the
Nix form evaluated by the real nix-instantiate, and the same resolved model from the YAML, the agnostic
JSON directory and the processes.nix form of the webapps example."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import NIXPMCTL, SOURCE_DIR

EXAMPLES = os.path.join(SOURCE_DIR, "examples", "webapps")
YAML_EXAMPLE = os.path.join(EXAMPLES, "processes.yaml")
NIX_EXAMPLE = os.path.join(EXAMPLES, "processes.nix")
JSON_EXAMPLE = os.path.join(SOURCE_DIR, "tests", "fixtures", "nixproc-json", "webapps")
HAVE_NIX = shutil.which("nix-instantiate") is not None
# The agnostic JSON fixture is written for the system directories, as nix-processmgmt would build it.
SYSTEM_DIRS = ["--state-dir", "/var", "--runtime-dir", "/var/run", "--log-dir", "/var/log",
               "--tmp-dir", "/tmp", "--cache-dir", "/var/cache"]
COMPARED = ("executable", "arguments", "environment", "dependencies")


class Check(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nixpm-check-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.env = dict(os.environ)
        self.env.update({
            "XDG_RUNTIME_DIR": os.path.join(self.tmp, "runtime"),
            "XDG_STATE_HOME": os.path.join(self.tmp, "state"),
            "XDG_CONFIG_HOME": os.path.join(self.tmp, "config"),
            # No daemon anywhere: check must not need one.
            "NIXPM_SOCKET": os.path.join(self.tmp, "no-daemon.sock"),
        })

    def check(self, *args):
        return subprocess.run([NIXPMCTL, "--user", "check", *args], env=self.env, capture_output=True,
                              text=True, timeout=120)

    def model(self, path, *args):
        result = self.check("--json", "-c", path, *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_yaml_example_is_valid_and_shows_the_levels(self):
        result = self.check("-c", YAML_EXAMPLE)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Activation order", result.stdout)
        self.assertIn("1: webapp1 webapp2\n  2: nginx\n", result.stdout)
        self.assertIn("'daemon off;'", result.stdout)
        model = self.model(YAML_EXAMPLE)
        self.assertEqual(model["activationOrder"], [["webapp1", "webapp2"], ["nginx"]])
        self.assertEqual([i["name"] for i in model["instances"]], ["webapp1", "webapp2", "nginx"])
        # check writes nothing: no state directory, no id assignments.
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "state")))

    def test_broken_file_exits_2_naming_file_line_and_column(self):
        path = self.write("broken.yaml", "instances:\n  web:\n    proces: /bin/true\n")
        result = self.check("-c", path)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertIn(f"{path}:3:5: error: unknown key 'proces' (did you mean 'process'?)", result.stderr)

    def test_cycle_is_named(self):
        path = self.write("cycle.yaml", "instances:\n  a: { process: /bin/true, dependencies: [b] }\n"
                                        "  b: { process: /bin/true, dependencies: [a] }\n")
        result = self.check("-c", path)
        self.assertEqual(result.returncode, 2)
        self.assertIn("a -> b -> a", result.stderr)

    @unittest.skipUnless(HAVE_NIX, "nix-instantiate is not on PATH (install nix-bin)")
    def test_nix_example_is_valid_with_the_same_levels(self):
        result = self.check("-c", NIX_EXAMPLE)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("1: webapp1 webapp2\n  2: nginx\n", result.stdout)

    @unittest.skipUnless(HAVE_NIX, "nix-instantiate is not on PATH (install nix-bin)")
    def test_nix_syntax_error_is_passed_through(self):
        path = self.write("processes.nix", "{ stateDir, ... }:\n{\n  web = { process = \"/bin/true\" }\n}\n")
        result = self.check("-c", path)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, "")
        self.assertIn("syntax error", result.stderr)
        self.assertIn(f"{path}:3:", result.stderr)

    @unittest.skipUnless(HAVE_NIX, "nix-instantiate is not on PATH (install nix-bin)")
    def test_nix_library_errors_are_passed_through(self):
        library = os.path.join(SOURCE_DIR, "nix")
        path = self.write("processes.nix", f"{{ ... }}:\nlet nixpm = import {library} {{ }};\n"
                                           "in nixpm.processes { x = nixpm.createManagedProcess { proces = \"/bin/true\"; }; }\n")
        result = self.check("-c", path)
        self.assertEqual(result.returncode, 2)
        self.assertIn("unexpected argument 'proces'", result.stderr)
        self.assertIn(f"{path}:3:", result.stderr)

    def assert_same_model(self, expected, actual, fields):
        by_name = {i["name"]: i for i in actual["instances"]}
        self.assertEqual(sorted(by_name), sorted(i["name"] for i in expected["instances"]))
        for instance in expected["instances"]:
            for field in fields:
                with self.subTest(instance=instance["name"], field=field):
                    self.assertEqual(by_name[instance["name"]][field], instance[field])
        self.assertEqual(actual["activationOrder"], expected["activationOrder"])

    @unittest.skipUnless(HAVE_NIX, "nix-instantiate is not on PATH (install nix-bin)")
    def test_nix_and_yaml_forms_resolve_to_the_same_model(self):
        yaml_model = self.model(YAML_EXAMPLE, "--state-dir", os.path.join(self.tmp, "s"))
        nix_model = self.model(NIX_EXAMPLE, "--state-dir", os.path.join(self.tmp, "s"))
        # Everything but where each instance is declared and the YAML constructor's name.
        fields = [k for k in yaml_model["instances"][0] if k not in ("position", "constructor")]
        self.assertIn("files", fields)
        self.assert_same_model(yaml_model, nix_model, fields)

    def test_json_directory_and_yaml_forms_resolve_to_the_same_commands(self):
        if not os.path.isdir(JSON_EXAMPLE) or not os.listdir(JSON_EXAMPLE):
            self.skipTest(f"the agnostic JSON fixture {JSON_EXAMPLE} is not there yet")
        yaml_model = self.model(YAML_EXAMPLE, *SYSTEM_DIRS)
        json_model = self.model(JSON_EXAMPLE, *SYSTEM_DIRS)
        self.assert_same_model(yaml_model, json_model, COMPARED)

    @unittest.skipUnless(HAVE_NIX, "nix-instantiate is not on PATH (install nix-bin)")
    def test_all_three_forms_agree_on_the_system_directories(self):
        if not os.path.isdir(JSON_EXAMPLE) or not os.listdir(JSON_EXAMPLE):
            self.skipTest(f"the agnostic JSON fixture {JSON_EXAMPLE} is not there yet")
        json_model = self.model(JSON_EXAMPLE, *SYSTEM_DIRS)
        nix_model = self.model(NIX_EXAMPLE, *SYSTEM_DIRS)
        self.assert_same_model(json_model, nix_model, COMPARED)


if __name__ == "__main__":
    unittest.main()
