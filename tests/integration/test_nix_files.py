"""The Nix files parse, and the build recipe is wired the way nixpkgs would call it: default.nix,
flake.nix and packaging/nix/nixpm.nix are evaluated against a stand-in for nixpkgs (callPackage,
stdenv.mkDerivation and the few lib functions they use), so no nixpkgs, network, store or build is
needed. What nixpkgs itself then does with the derivation is not checked here."""

import glob
import json
import os
import re
import shutil
import subprocess
import unittest

SOURCE_DIR = os.path.abspath(os.environ.get("NIXPM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")))

# The nixpkgs attributes the recipe may ask for, each standing for itself as a string.
NIXPKGS_STAND_IN = r"""
{ repo }:
let
  root = /. + repo;
  lib = {
    hasPrefix = prefix: s: builtins.substring 0 (builtins.stringLength prefix) s == prefix;
    cleanSource = src: src;
    cleanSourceWith = { src, filter, ... }: { inherit src filter; };
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  };
  packageNames = [ "cmake" "ninja" "pkg-config" "boost" "yaml-cpp" "spdlog" "nlohmann_json" "cli11" "catch2"
                   "python3" "nix" ];
  pkgs = lib.genAttrs packageNames (name: name) // {
    inherit lib;
    stdenv = { mkDerivation = attrs: attrs; hostPlatform.system = "x86_64-linux"; };
    # As nixpkgs does it: a function's arguments come from pkgs, unless they have a default.
    callPackage = file: overrides:
      let f = import file;
      in f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
    mkShell = attrs: attrs;
  };
  summary = drv: {
    inherit (drv) pname version nativeBuildInputs buildInputs checkInputs cmakeFlags doCheck;
    meta = { inherit (drv.meta) mainProgram; };
    sourceFilter = builtins.listToAttrs (map (name: { inherit name; value = drv.src.filter "${repo}/${name}" "directory"; })
      [ "daemon" "nix" "packaging" "tests" "build" "build-pkg" ]);
  };
  flake = import (root + "/flake.nix");
  outputs = flake.outputs {
    self = outputs;
    nixpkgs = { inherit lib; legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: pkgs); };
  };
in {
  default = summary (import (root + "/default.nix") { inherit pkgs; });
  flake = summary outputs.packages.x86_64-linux.default;
  flakeNixpkgs = flake.inputs.nixpkgs.url;
  flakeCheck = outputs.checks.x86_64-linux.nixpm.pname;
  overlay = (outputs.overlays.default pkgs pkgs).nixpm.pname;
}
"""


def nix_environment():
    # No build users exist here and none are needed: keeps Nix from warning about `nixbld`.
    return dict(os.environ, NIX_CONFIG="build-users-group =")


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        return re.search(r"project\(nixpm VERSION ([0-9.]+)", f.read()).group(1)


@unittest.skipUnless(shutil.which("nix-instantiate"), "nix-instantiate (Debian: nix-bin) is not installed")
class NixFiles(unittest.TestCase):
    def test_every_nix_file_parses(self):
        files = [os.path.join(SOURCE_DIR, name) for name in ("default.nix", "flake.nix")]
        for pattern in ("nix/*.nix", "packaging/nix/*.nix", "examples/**/*.nix"):
            files += glob.glob(os.path.join(SOURCE_DIR, pattern), recursive=True)
        self.assertGreaterEqual(len(files), 7)
        for path in files:
            with self.subTest(path=os.path.relpath(path, SOURCE_DIR)):
                result = subprocess.run(["nix-instantiate", "--parse", path], capture_output=True, text=True,
                                        env=nix_environment())
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stderr, "")

    def test_default_nix_and_the_flake_build_the_same_package(self):
        result = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "--store", "dummy://",
                                 "-E", NIXPKGS_STAND_IN, "--argstr", "repo", SOURCE_DIR],
                                capture_output=True, text=True, env=nix_environment())
        self.assertEqual(result.returncode, 0, result.stderr)
        evaluated = json.loads(result.stdout)
        self.assertEqual(evaluated["default"], evaluated["flake"])
        package = evaluated["default"]
        self.assertEqual(package["pname"], "nixpm")
        self.assertEqual(package["version"], project_version())
        self.assertEqual(package["meta"]["mainProgram"], "nixpmd")
        self.assertEqual(sorted(package["nativeBuildInputs"]), ["cmake", "ninja", "pkg-config"])
        self.assertEqual(sorted(package["buildInputs"]), ["boost", "cli11", "nlohmann_json", "spdlog", "yaml-cpp"])
        self.assertEqual(package["checkInputs"], ["catch2"])
        self.assertTrue(package["doCheck"])
        self.assertIn("-DNIXPM_BUILD_TESTS=ON", package["cmakeFlags"])
        # Sources stay in; local build directories stay out of the derivation's source.
        self.assertEqual(package["sourceFilter"], {"daemon": True, "nix": True, "packaging": True, "tests": True,
                                                   "build": False, "build-pkg": False})
        self.assertRegex(evaluated["flakeNixpkgs"], r"^github:NixOS/nixpkgs/")
        self.assertEqual(evaluated["flakeCheck"], "nixpm")
        self.assertEqual(evaluated["overlay"], "nixpm")


if __name__ == "__main__":
    unittest.main()
