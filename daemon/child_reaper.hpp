#pragma once
// The one place where exits are detected: SIGCHLD wakes the loop through an Asio signal_set, and a
// waitpid(-1, WNOHANG) loop collects every exited child, ours or orphans that were re-parented to us
// (as PID 1 or a subreaper). Nothing else in nixpmd calls wait.

#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/types.h>

namespace nixpm::daemon {

class ChildReaper {
 public:
  using ExitHandler = std::function<void(pid_t pid, int wait_status)>;

  ChildReaper(boost::asio::io_context& io, ExitHandler on_exit);
  // Collects exits that may have happened before the first signal arrived.
  void reap_now();

 private:
  void wait_for_signal();

  boost::asio::signal_set signals_;
  ExitHandler on_exit_;
};

}  // namespace nixpm::daemon
