"""The Debian package: `cpack -G DEB` builds it from the build directory; its metadata declares the
packages of the shared libraries the binaries really link (found here with ldd and dpkg -S); it holds
the binaries, man pages and the login files with /usr paths. As root, with dpkg, and only when nixpm
is not installed already: `dpkg -i`, `nixpmd --version`, a short supervised run of the installed
binaries on their default (XDG) paths, `dpkg -r`, and nothing of it is left behind."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import pid_alive, wait_until

BUILD_DIR = os.environ.get("NIXPM_BUILD_DIR")
NIXPMD = os.environ.get("NIXPMD")
PACKAGED_BINARIES = ["usr/bin/nixpmd", "usr/bin/nixpmctl"]

DEFINITIONS = """
instances:
  base:
    process: /bin/sleep
    args: ["600"]
  on-top:
    process: /bin/sleep
    args: ["600"]
    dependencies: [base]
"""


def run(*command, **options):
    return subprocess.run(command, capture_output=True, text=True, **options)


def installed_version(package):
    result = run("dpkg-query", "-W", "-f=${Status} ${Version}", package)
    return result.stdout.split()[-1] if result.returncode == 0 and "install ok installed" in result.stdout else None


def provided_names(package):
    """The package's own name and the virtual packages it provides (a Depends line may name either:
    libspdlog1.10 is depended on as libspdlog1.10-fmt9)."""
    provides = run("dpkg-query", "-W", "-f=${Provides}", package).stdout
    return {package} | depends_names(provides)


def owning_package(library):
    """The Debian package that ships `library` (a path ldd printed), without its :arch suffix."""
    candidates = [library, os.path.realpath(library)]
    for path in list(candidates):
        for merged in ("/usr/lib/", "/lib/"):  # usrmerge: one file, two names, only one in dpkg's lists
            if path.startswith(merged):
                candidates.append(("/lib/" if merged == "/usr/lib/" else "/usr/lib/") + path[len(merged):])
    for path in candidates:
        result = run("dpkg", "-S", path)
        if result.returncode == 0:
            return result.stdout.split(":", 1)[0].strip()
    return None


def linked_libraries(binary):
    result = run("ldd", binary)
    assert result.returncode == 0, result.stderr
    return [match.group(1) for match in re.finditer(r"=> (/\S+)", result.stdout)]


def depends_names(depends):
    """Package names of a Depends field, alternatives included."""
    return {re.split(r"[\s(:]", alternative.strip())[0] for entry in depends.split(",")
            for alternative in entry.split("|") if alternative.strip()}


CAN_BUILD = bool(BUILD_DIR and NIXPMD) and all(shutil.which(tool) for tool in
                                               ("cpack", "dpkg-deb", "dpkg-shlibdeps", "file", "ldd"))
CANNOT_BUILD = "needs NIXPM_BUILD_DIR and NIXPMD (set by CTest), cpack, dpkg-deb, dpkg-shlibdeps (dpkg-dev), file, ldd"
_package = {}


def package():
    """The .deb, built once for this file's tests. Built outside the build directory (-B), so that tests
    running at the same time see no change there."""
    if "deb" not in _package:
        _package["tmp"] = tempfile.mkdtemp(prefix="nixpm-deb-")
        result = run("cpack", "-G", "DEB", "-B", _package["tmp"], "--config",
                     os.path.join(BUILD_DIR, "CPackConfig.cmake"))
        assert result.returncode == 0, result.stdout + result.stderr
        debs = [name for name in os.listdir(_package["tmp"]) if name.endswith(".deb")]
        assert len(debs) == 1, debs
        _package["deb"] = os.path.join(_package["tmp"], debs[0])
    return _package["deb"]


def tearDownModule():
    if "tmp" in _package:
        shutil.rmtree(_package["tmp"], ignore_errors=True)


@unittest.skipUnless(CAN_BUILD, CANNOT_BUILD)
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nixpm-deb-contents-")
        cls.deb = package()
        fields = run("dpkg-deb", "-f", cls.deb).stdout
        cls.fields = dict(re.findall(r"^(\S+): (.*)$", fields, re.M))
        cls.contents = os.path.join(cls.tmp, "contents")
        result = run("dpkg-deb", "-x", cls.deb, cls.contents)
        assert result.returncode == 0, result.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_metadata(self):
        self.assertEqual(self.fields["Package"], "nixpm")
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
            version = re.search(r"^CMAKE_PROJECT_VERSION:STATIC=(.*)$", f.read(), re.M).group(1)
        self.assertEqual(self.fields["Version"], version)
        self.assertEqual(self.fields["Architecture"], run("dpkg", "--print-architecture").stdout.strip())
        self.assertTrue(self.fields["Maintainer"])
        self.assertIn("Description", self.fields)
        info = run("dpkg-deb", "-I", self.deb)
        self.assertEqual(info.returncode, 0, info.stderr)

    def test_depends_names_the_package_of_every_linked_library(self):
        depends = depends_names(self.fields.get("Depends", ""))
        owners = set()
        for binary in PACKAGED_BINARIES:
            for library in linked_libraries(os.path.join(self.contents, binary)):
                package = owning_package(library)
                self.assertIsNotNone(package, f"no Debian package ships {library}")
                owners.add(package)
        # At least the C and C++ runtimes and the YAML library.
        self.assertTrue({"libc6", "libstdc++6"} <= owners, owners)
        self.assertTrue(any(name.startswith("libyaml-cpp") for name in owners), owners)
        unmet = [owner for owner in sorted(owners) if not provided_names(owner) & depends]
        self.assertEqual(unmet, [], self.fields.get("Depends"))

    def test_contents(self):
        for path in PACKAGED_BINARIES + ["usr/share/man/man1/nixpmd.1", "usr/share/man/man1/nixpmctl.1",
                                         "usr/share/man/man5/nixpm-definitions.5",
                                         "usr/share/bash-completion/completions/nixpmctl",
                                         "usr/share/nixpm/nix/default.nix", "usr/share/nixpm/login/nixpm-login.sh",
                                         "usr/share/doc/nixpm/examples/webapps/processes.yaml"]:
            self.assertTrue(os.path.exists(os.path.join(self.contents, path)), path)
        self.assertEqual(os.listdir(self.contents), ["usr"])
        # Files that name installed paths name the package's, never the build machine's.
        with open(os.path.join(self.contents, "usr/lib/systemd/user/nixpmd.service")) as f:
            self.assertIn("ExecStart=/usr/bin/nixpmd --user\n", f.read())
        with open(os.path.join(self.contents, "usr/share/nixpm/login/nixpmd-autostart.desktop")) as f:
            self.assertIn("Exec=sh /usr/share/nixpm/login/nixpm-login.sh\n", f.read())
        # Stripped: the binaries carry no debug sections.
        description = run("file", os.path.join(self.contents, "usr/bin/nixpmd")).stdout
        self.assertIn("stripped", description)
        self.assertNotIn("not stripped", description)


@unittest.skipUnless(CAN_BUILD, CANNOT_BUILD)
@unittest.skipUnless(os.geteuid() == 0 and shutil.which("dpkg"), "installing needs root and dpkg")
class InstalledPackage(unittest.TestCase):
    def setUp(self):
        # Never touch an installation this test did not make.
        if installed_version("nixpm"):
            self.skipTest("nixpm is installed on this machine already")
        if any(os.path.lexists("/" + path) for path in PACKAGED_BINARIES):
            self.skipTest("/usr/bin/nixpmd or /usr/bin/nixpmctl exists and is not from a package")
        self.tmp = tempfile.mkdtemp(prefix="nixpm-deb-installed-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.deb = package()
        self.daemon = None

    def remove_package(self):
        if installed_version("nixpm"):
            result = run("dpkg", "-r", "nixpm")
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def stop_daemon(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(timeout=30)

    def test_install_run_remove(self):
        # Cleanups run last-in first-out: the daemon goes before the package, the package always goes.
        self.addCleanup(self.remove_package)
        result = run("dpkg", "-i", self.deb)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(installed_version("nixpm"), run("dpkg-deb", "-f", self.deb, "Version").stdout.strip())
        installed = run("dpkg", "-L", "nixpm").stdout.split()

        version = run("/usr/bin/nixpmd", "--version")
        self.assertEqual(version.returncode, 0, version.stderr)
        self.assertRegex(version.stdout, r"^nixpmd \d+\.\d+\.\d+")

        # A user's first run: definitions in the default place, every directory under a temporary HOME.
        home = os.path.join(self.tmp, "home")
        env = {"HOME": home, "PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": os.path.join(home, "runtime"),
               "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
               "XDG_CONFIG_HOME": os.path.join(home, ".config")}
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
        os.makedirs(os.path.join(env["XDG_CONFIG_HOME"], "nixpm"))
        with open(os.path.join(env["XDG_CONFIG_HOME"], "nixpm", "processes.yaml"), "w") as f:
            f.write(DEFINITIONS)
        log_path = os.path.join(self.tmp, "nixpmd.log")
        with open(log_path, "wb") as log:
            self.daemon = subprocess.Popen(["/usr/bin/nixpmd", "--user"], env=env, stdout=log, stderr=log,
                                           stdin=subprocess.DEVNULL)
        self.addCleanup(self.stop_daemon)

        def running():
            result = run("/usr/bin/nixpmctl", "--user", "status", "--json", env=env, timeout=30)
            if self.daemon.poll() is not None or result.returncode != 0:
                return None
            instances = json.loads(result.stdout)["instances"]
            return instances if {i["state"] for i in instances} == {"running"} else None
        instances = wait_until(running, what="the installed nixpmd to run both instances")
        self.assertEqual(sorted(i["name"] for i in instances), ["base", "on-top"])
        self.assertTrue(os.path.exists(os.path.join(env["XDG_STATE_HOME"], "nixpm", "log", "base.log")))

        result = run("/usr/bin/nixpmctl", "--user", "shutdown", env=env, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.daemon.wait(timeout=30), 0)
        for instance in instances:
            self.assertFalse(pid_alive(instance["pid"]))

        self.remove_package()
        self.assertIsNone(installed_version("nixpm"))
        left = [path for path in installed if os.path.isfile(path)]
        self.assertEqual(left, [])


if __name__ == "__main__":
    unittest.main()
