#pragma once
// Watches processes that are not (or not yet) our children: a forking daemon's process, which its
// launcher left behind. The seam between the supervisor and pidfd/polling (unit tests use a fake).
//
// On Linux nixpmd is a child subreaper, so a daemonized process is re-parented to us and the
// ChildReaper usually reports its exit with the real status; the watch is what makes it work
// everywhere else (and in the moment before re-parenting).

#include <functional>
#include <optional>

#include <sys/types.h>

namespace nixpm::daemon {

class ProcessWatch {
 public:
  // `wait_status` when it was our child and its status could be collected.
  using Gone = std::function<void(pid_t pid, std::optional<int> wait_status)>;

  virtual ~ProcessWatch() = default;
  virtual void watch(pid_t pid) = 0;
  virtual void unwatch(pid_t pid) = 0;
  void set_callback(Gone gone) { gone_ = std::move(gone); }

 protected:
  void gone(pid_t pid, std::optional<int> wait_status) {
    if (gone_) gone_(pid, wait_status);
  }

 private:
  Gone gone_;
};

}  // namespace nixpm::daemon
