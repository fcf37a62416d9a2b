#pragma once
// Finds the processes an instance left outside its process group (a grandchild that called setsid,
// a daemon's helpers) so that a stop or a crash leaves nothing behind. The seam between the supervisor
// and cgroups / the process table (unit tests use a fake).

#include <filesystem>
#include <string>

#include <sys/types.h>

namespace nixpm::daemon {

class Containment {
 public:
  virtual ~Containment() = default;
  // The cgroup directory the instance's processes should join when spawned, or empty (none here).
  virtual std::filesystem::path cgroup_for(const std::string& instance) = 0;
  // Sends `signal` to every process of the instance outside the process group led by `main_pid`
  // (the group itself is signalled by the spawner).
  virtual void signal_escaped(const std::string& instance, pid_t main_pid, int signal) = 0;
  // The instance's main process is gone: kills (SIGKILL) whatever of it is left.
  virtual void kill_leftovers(const std::string& instance) = 0;
};

}  // namespace nixpm::daemon
