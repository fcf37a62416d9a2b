"""The programs the harness runs: nixpmd and nixpmctl from a build directory, and the two small C++
helpers in bench/tools, compiled here with g++ (no CMake change needed, and rebuilt only when their
source is newer than the binary)."""

import os
import shutil
import subprocess

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
CXXFLAGS = ["-O2", "-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Werror", "-Wl,--as-needed"]


class Tools:
    def __init__(self, build_dir):
        self.build_dir = os.path.abspath(build_dir)
        self.nixpmd = os.path.join(self.build_dir, "daemon", "nixpmd")
        self.nixpmctl = os.path.join(self.build_dir, "client", "nixpmctl")
        self.tools_dir = os.path.join(self.build_dir, "bench-tools")
        self.announce = os.path.join(self.tools_dir, "bench-announce")
        self.floor = os.path.join(self.tools_dir, "bench-floor")

    def build(self):
        compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
        if not compiler:
            raise SystemExit("bench: no C++ compiler (g++) to build bench/tools")
        os.makedirs(self.tools_dir, exist_ok=True)
        for source, binary in (("announce.cpp", self.announce), ("floor.cpp", self.floor)):
            path = os.path.join(BENCH_DIR, "tools", source)
            if os.path.exists(binary) and os.path.getmtime(binary) >= os.path.getmtime(path):
                continue
            subprocess.run([compiler, *CXXFLAGS, "-o", binary, path], check=True)

    def build_type(self):
        try:
            with open(os.path.join(self.build_dir, "CMakeCache.txt")) as f:
                for line in f:
                    if line.startswith("CMAKE_BUILD_TYPE:"):
                        return line.split("=", 1)[1].strip() or "(none)"
        except OSError:
            pass
        return "?"
