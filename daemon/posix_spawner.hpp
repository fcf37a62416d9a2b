#pragma once
// Spawner on fork/exec. On Linux the "fork" is a clone that shares nixpmd's memory and suspends nixpmd
// until the child exec'd (platform::start_child, as posix_spawn does): a fork copied nixpmd's page
// tables and left every page it wrote next copy-on-write, a cost that grew with nixpmd and that the
// benchmark showed (docs/benchmarks.md). posix_spawn itself cannot join a cgroup or report which
// stage failed, so the child is still ours.
//
// Why not Boost.Process: its child objects want to own the exit status (with another reaper they lose
// it, boostorg/process#187/#357/#496, and they report exit 9 and SIGKILL alike, #61), it cannot tell
// "chdir failed" from "exec failed" with the errno, and its process-group and descriptor handling
// would need custom initializers anyway. Here the child writes {stage, errno} into a close-on-exec pipe
// before exec; an empty read means exec succeeded. Exits are reaped in one place, the ChildReaper.

#include "daemon/spawner.hpp"

namespace nixpm::daemon {

class PosixSpawner final : public Spawner {
 public:
  SpawnResult spawn(const SpawnRequest& request) override;
  void signal_group(pid_t pid, int signal) override;
};

// Looks `name` up in `path_variable` (a PATH value) unless it contains a slash. Empty when not found.
std::string find_executable(const std::string& name, const std::string& path_variable);

}  // namespace nixpm::daemon
