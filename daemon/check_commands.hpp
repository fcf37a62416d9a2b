#pragma once
// Runs readiness and liveness check commands: each in its own process group, with the instance's
// environment and working directory, output discarded. The daemon's ChildReaper reaps them; their exits
// come back through child_exited().

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <sys/types.h>

#include "daemon/spawner.hpp"

namespace nixpm::daemon {

struct ProbeTarget;

class CheckCommands {
 public:
  using Done = std::function<void(int wait_status)>;

  explicit CheckCommands(Spawner& spawner) : spawner_(spawner) {}
  ~CheckCommands();
  CheckCommands(const CheckCommands&) = delete;
  CheckCommands& operator=(const CheckCommands&) = delete;

  // Starts `argv`; `done` runs once with its wait status. Returns the pid, or -1 with `error` set.
  pid_t run(const std::vector<std::string>& argv, const ProbeTarget& target, Done done, std::string& error);
  // Kills a running check (its whole group); its `done` is dropped.
  void abandon(pid_t pid);
  // Returns false when `pid` is not a check command.
  bool child_exited(pid_t pid, int wait_status);

 private:
  Spawner& spawner_;
  std::unordered_map<pid_t, Done> running_;
};

}  // namespace nixpm::daemon
