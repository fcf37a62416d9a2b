#include "asio_process_watch.hpp"

#include <cerrno>
#include <chrono>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <signal.h>
#include <sys/wait.h>

#include "daemon/platform.hpp"

namespace nixpm::daemon {

struct AsioProcessWatch::Watched {
  Watched(boost::asio::io_context& io, pid_t p) : pid(p), descriptor(io), timer(io) {}
  pid_t pid;
  boost::asio::posix::stream_descriptor descriptor;
  boost::asio::steady_timer timer;
  bool cancelled = false;
};

AsioProcessWatch::~AsioProcessWatch() {
  for (auto& [pid, watched] : watched_) watched->cancelled = true;
}

void AsioProcessWatch::watch(pid_t pid) {
  unwatch(pid);
  auto watched = std::make_shared<Watched>(io_, pid);
  watched_[pid] = watched;
  const int fd = platform::open_process_descriptor(pid);
  if (fd < 0) {
    poll_later(watched);
    return;
  }
  watched->descriptor.assign(fd);
  watched->descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                                 [this, watched](const boost::system::error_code& error) {
                                   if (!error && !watched->cancelled) report(watched);
                                 });
}

void AsioProcessWatch::unwatch(pid_t pid) {
  auto found = watched_.find(pid);
  if (found == watched_.end()) return;
  found->second->cancelled = true;
  boost::system::error_code ignored;
  found->second->descriptor.close(ignored);
  found->second->timer.cancel();
  watched_.erase(found);
}

void AsioProcessWatch::poll_later(const std::shared_ptr<Watched>& watched) {
  watched->timer.expires_after(std::chrono::seconds(1));
  watched->timer.async_wait([this, watched](const boost::system::error_code& error) {
    if (error || watched->cancelled) return;
    if (kill(watched->pid, 0) == 0 || errno == EPERM) {
      // Alive, or a zombie of ours (kill succeeds on zombies): waitpid below tells.
      int status = 0;
      if (waitpid(watched->pid, &status, WNOHANG) != watched->pid) {
        poll_later(watched);
        return;
      }
      watched_.erase(watched->pid);
      gone(watched->pid, status);
      return;
    }
    report(watched);
  });
}

void AsioProcessWatch::report(const std::shared_ptr<Watched>& watched) {
  // When it had become our child (re-parented to the subreaper), collect its status here; otherwise
  // the status went to its real parent and is unknown to us.
  std::optional<int> wait_status;
  int status = 0;
  if (waitpid(watched->pid, &status, WNOHANG) == watched->pid) wait_status = status;
  const pid_t pid = watched->pid;
  unwatch(pid);
  gone(pid, wait_status);
}

}  // namespace nixpm::daemon
