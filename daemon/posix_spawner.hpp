#pragma once
// Spawner on fork/exec.
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
