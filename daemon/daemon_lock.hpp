#pragma once
// One daemon per control socket. A daemon holds an exclusive flock on <socket>.lock for its whole life,
// taken before it loads anything: of two daemons started at the same moment (two logins, say), exactly one
// gets it, and the other refuses before it writes a file, even when a stale socket of a dead daemon is
// still there. The kernel drops the lock when the daemon dies, however it dies; the file stays, harmless.

#include <filesystem>
#include <string>

namespace nixpm::daemon {

class DaemonLock {
 public:
  DaemonLock() = default;
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;
  ~DaemonLock();

  // Creates the socket's directory if needed and takes the lock. Returns an error message ("another
  // nixpmd is already running on ...") when it is held elsewhere or cannot be taken; "" on success.
  std::string acquire(const std::filesystem::path& socket_path);

  static std::filesystem::path lock_path(const std::filesystem::path& socket_path);

 private:
  int fd_ = -1;
};

}  // namespace nixpm::daemon
