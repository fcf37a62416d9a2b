#pragma once
// The seam between the supervisor and the operating system's process calls. The real one is
// PosixSpawner; unit tests use a fake that records what was asked.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "config/resource_limit.hpp"

namespace nixpm::daemon {

struct SpawnRequest {
  std::string executable;                // a path, or a name looked up in the PATH of `environment`
  std::vector<std::string> arguments;    // argv[1..]
  std::vector<std::string> environment;  // "NAME=value"
  std::filesystem::path directory;       // working directory
  int output_fd = -1;                    // becomes stdout and stderr; the caller keeps ownership
  std::optional<mode_t> umask;           // none: inherited from nixpmd
  std::optional<int> nice;               // absolute priority, -20..19; none: inherited
  std::vector<config::ResourceLimit> rlimits;  // set with setrlimit before the user changes
  // A cgroup (v2) directory the child moves itself into first thing after fork, by writing "0" to its
  // cgroup.procs, so that every descendant is inside it. Empty: the child stays in nixpmd's cgroup.
  std::filesystem::path cgroup;
  // The user to become before exec (only a root daemon switches), resolved by the caller because the
  // child may not read /etc/passwd between fork and exec.
  struct Identity {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
  };
  std::optional<Identity> identity;
};

struct SpawnResult {
  pid_t pid = -1;     // > 0 when the process runs the executable
  std::string error;  // why not, naming the stage: "chdir /x: No such file or directory"

  bool ok() const { return pid > 0; }
};

class Spawner {
 public:
  virtual ~Spawner() = default;
  // Starts the process in a new process group whose id is its pid. Returns only after exec succeeded
  // or failed, so the result tells the two apart.
  virtual SpawnResult spawn(const SpawnRequest& request) = 0;
  // Sends `signal` to the process group led by `pid`.
  virtual void signal_group(pid_t pid, int signal) = 0;
};

}  // namespace nixpm::daemon
