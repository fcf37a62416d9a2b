#include "child_reaper.hpp"

#include <cerrno>

#include <sys/wait.h>

namespace nixpm::daemon {

ChildReaper::ChildReaper(boost::asio::io_context& io, ExitHandler on_exit)
    : signals_(io, SIGCHLD), on_exit_(std::move(on_exit)) {
  wait_for_signal();
}

void ChildReaper::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& error, int) {
    if (error) return;  // cancelled at shutdown
    reap_now();
    wait_for_signal();
  });
}

void ChildReaper::reap_now() {
  // Signals coalesce: one SIGCHLD may stand for many exits, so collect until none is left.
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      on_exit_(pid, status);
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    return;  // 0: children remain but none has exited; -1/ECHILD: no children at all
  }
}

}  // namespace nixpm::daemon
