#include "daemon/daemon_lock.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace nixpm::daemon {

DaemonLock::~DaemonLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::filesystem::path DaemonLock::lock_path(const std::filesystem::path& socket_path) {
  auto path = socket_path;
  path += ".lock";
  return path;
}

std::string DaemonLock::acquire(const std::filesystem::path& socket_path) {
  const auto path = lock_path(socket_path);
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) return "cannot create " + path.parent_path().string() + ": " + error.message();
  // O_CLOEXEC: the instances must not inherit the lock, or one that outlives nixpmd would keep the
  // next daemon out.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "cannot open " + path.string() + ": " + std::strerror(errno);
  int result;
  do {
    result = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    const int why = errno;
    ::close(fd);
    if (why == EWOULDBLOCK)
      return "another nixpmd is already running on " + socket_path.string() + " (it holds " + path.string() +
             ")";
    return "cannot lock " + path.string() + ": " + std::strerror(why);
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return {};
}

}  // namespace nixpm::daemon
