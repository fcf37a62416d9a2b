// platform::start_child and platform::descendants_of with real processes: the speed-ups of issue #7
// must keep what the portable code did.

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/platform.hpp"

namespace platform = nixpm::daemon::platform;

namespace {

struct Exec {
  const char* program;
  char* const* argv;
};

int exec_child(void* argument) {
  const auto* what = static_cast<const Exec*>(argument);
  execv(what->program, what->argv);
  return 127;
}

int exit_seven(void*) { return 7; }

}  // namespace

TEST_CASE("platform: start_child runs the child, sharing memory or not") {
  for (const bool share : {true, false}) {
    const pid_t pid = platform::start_child(exit_seven, nullptr, share);
    REQUIRE(pid > 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 7);
  }
}

TEST_CASE("platform: descendants_of finds grandchildren, also those that left the group") {
  // sh starts a grandchild that moves to its own session, then waits.
  char sh[] = "/bin/sh";
  char flag[] = "-c";
  char script[] = "setsid sleep 30 & sleep 30 & wait";
  char* argv[] = {sh, flag, script, nullptr};
  Exec what{"/bin/sh", argv};
  const pid_t pid = platform::start_child(exec_child, &what, true);
  REQUIRE(pid > 0);
  std::vector<platform::ProcessEntry> found;
  // Until both sleeps exist (the shell forks them right away); bounded by the attempts, not a sleep.
  for (int attempt = 0; attempt < 2000 && found.size() < 2; ++attempt) {
    found = platform::descendants_of(pid);
    if (found.size() < 2) usleep(1000);
  }
  CHECK(found.size() >= 2);
  for (const auto& entry : found) {
    CHECK(entry.pid != pid);
    CHECK(entry.start_time > 0);
    kill(entry.pid, SIGKILL);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(platform::descendants_of(pid).empty());
}
