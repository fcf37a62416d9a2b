// PosixSpawner with real processes: resource limits and the cgroup a child joins, and how their
// failures name the stage.

#include <catch2/catch.hpp>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/posix_spawner.hpp"

namespace fs = std::filesystem;
using nixpm::config::kUnlimited;
using nixpm::config::ResourceLimit;
using nixpm::daemon::PosixSpawner;
using nixpm::daemon::SpawnRequest;
using nixpm::daemon::SpawnResult;

namespace {

// Runs `script` with /bin/sh and returns its spawn result and, when it ran, its output.
struct Run {
  SpawnResult result;
  std::string output;
};

Run run_shell(const std::string& script, SpawnRequest request = {}) {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  request.executable = "/bin/sh";
  request.arguments = {"-c", script};
  request.environment = {"PATH=/usr/bin:/bin"};
  request.directory = "/";
  request.output_fd = fds[1];
  PosixSpawner spawner;
  Run run{spawner.spawn(request), {}};
  close(fds[1]);
  char buffer[4096];
  ssize_t got;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0)
    run.output.append(buffer, static_cast<std::size_t>(got));
  close(fds[0]);
  // The child is ours to reap, whether it ran the script or failed before exec (exit 127).
  int status = 0;
  if (run.result.pid > 0)
    waitpid(run.result.pid, &status, 0);
  else
    wait(&status);
  return run;
}

rlim_t current_hard_nofile() {
  struct rlimit value {};
  getrlimit(RLIMIT_NOFILE, &value);
  return value.rlim_max;
}

}  // namespace

TEST_CASE("spawner: resource limits reach the process") {
  SpawnRequest request;
  request.rlimits = {{"core", 0, 0}, {"nofile", 64, 128}};
  const Run run = run_shell("ulimit -c; ulimit -Sn; ulimit -Hn", request);
  REQUIRE(run.result.ok());
  CHECK(run.output == "0\n64\n128\n");
}

TEST_CASE("spawner: a soft limit alone keeps the hard one, a hard limit alone lowers the soft one") {
  const rlim_t hard = current_hard_nofile();
  REQUIRE(hard > 100);
  SpawnRequest soft_only;
  soft_only.rlimits = {{"nofile", 100, std::nullopt}};
  const Run soft = run_shell("ulimit -Sn; ulimit -Hn", soft_only);
  REQUIRE(soft.result.ok());
  const std::string hard_text = hard == RLIM_INFINITY ? "unlimited" : std::to_string(hard);
  CHECK(soft.output == "100\n" + hard_text + "\n");

  SpawnRequest hard_only;
  hard_only.rlimits = {{"nofile", std::nullopt, 50}};
  const Run lowered = run_shell("ulimit -Sn; ulimit -Hn", hard_only);
  REQUIRE(lowered.result.ok());
  CHECK(lowered.output == "50\n50\n");
}

TEST_CASE("spawner: a limit that cannot be set fails the spawn with its name") {
  // No one may raise nofile above fs.nr_open, root included.
  SpawnRequest request;
  request.rlimits = {{"core", 0, 0}, {"nofile", kUnlimited, kUnlimited}};
  const Run run = run_shell("echo should not run", request);
  CHECK_FALSE(run.result.ok());
  CHECK(run.result.error == "setrlimit nofile: Operation not permitted");
  CHECK(run.output.empty());

  SpawnRequest unknown;
  unknown.rlimits = {{"bogus", 1, 1}};
  CHECK(run_shell("true", unknown).result.error == "setrlimit bogus: not supported on this system");
}

TEST_CASE("spawner: a cgroup that cannot be joined fails the spawn as stage cgroup") {
  SpawnRequest request;
  request.cgroup = "/nonexistent-nixpm-cgroup";
  const Run run = run_shell("echo should not run", request);
  CHECK_FALSE(run.result.ok());
  CHECK(run.result.error == "cgroup /nonexistent-nixpm-cgroup/cgroup.procs: No such file or directory");
}

namespace {

// Our own cgroup v2 directory, when the unified hierarchy is mounted; empty otherwise.
fs::path own_cgroup() {
  std::ifstream self("/proc/self/cgroup");
  std::string line;
  std::string relative;
  while (std::getline(self, line))
    if (line.rfind("0::", 0) == 0) relative = line.substr(3);
  if (relative.empty()) return {};
  std::ifstream mounts("/proc/self/mountinfo");
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point, field;
    fields >> id >> parent >> device >> root >> mount_point;
    while (fields >> field && field != "-") {
    }
    std::string type;
    fields >> type;
    if (type == "cgroup2") return fs::path(mount_point) / fs::path(relative).relative_path();
  }
  return {};
}

}  // namespace

TEST_CASE("spawner: the child joins the cgroup before anything else, with its descendants") {
  const fs::path base = own_cgroup();
  const fs::path cgroup = base / ("nixpm-spawner-test-" + std::to_string(getpid()));
  std::error_code error;
  if (base.empty() || !fs::create_directory(cgroup, error)) {
    WARN("no writable cgroup v2 hierarchy here (" << (base.empty() ? "none mounted" : error.message())
                                                  << "); the cgroup join is not exercised");
    return;
  }
  SpawnRequest request;
  request.cgroup = cgroup;
  // The shell and a grandchild print the cgroup they are in.
  const Run run =
      run_shell("cat /proc/self/cgroup | grep '^0::'; sh -c \"grep '^0::' /proc/self/cgroup\"", request);
  fs::remove(cgroup, error);
  if (!run.result.ok() && run.result.error.find("cgroup ") == 0) {
    WARN("cgroup " << cgroup << " exists but cannot be joined: " << run.result.error);
    return;
  }
  REQUIRE(run.result.ok());
  const std::string expected = "/" + cgroup.filename().string();
  std::istringstream lines(run.output);
  std::string line;
  int seen = 0;
  while (std::getline(lines, line)) {
    CHECK(line.rfind("0::/", 0) == 0);
    REQUIRE(line.size() >= expected.size());
    CHECK(line.compare(line.size() - expected.size(), expected.size(), expected) == 0);
    ++seen;
  }
  CHECK(seen == 2);
}

TEST_CASE("spawner: a bare name is looked up on the instance's PATH, a path goes to exec as given") {
  using nixpm::daemon::find_executable;
  CHECK(find_executable("sh", "/nonexistent-dir::/bin") == "/bin/sh");
  CHECK(find_executable("no-such-program-here", "/bin:/usr/bin").empty());
  // exec reports what is wrong with an explicit path (with its errno), so it is not checked here.
  CHECK(find_executable("./missing/tool", "/bin") == "./missing/tool");

  PosixSpawner spawner;
  SpawnRequest request;
  request.executable = "no-such-program-here";
  request.environment = {"PATH=/bin:/usr/bin"};
  const SpawnResult result = spawner.spawn(request);
  CHECK(result.pid < 0);
  CHECK(result.error == "exec no-such-program-here: not found in PATH");
}
