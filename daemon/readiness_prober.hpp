#pragma once
// Checks whether a starting instance is ready, for the readiness kinds other than "started": the seam
// between the supervisor and sockets/files (unit tests use a fake). Probing happens only while an
// instance is starting, so an idle daemon has no probe timers.

#include <cstddef>
#include <functional>

#include "config/model.hpp"

namespace nixpm::daemon {

class ReadinessProber {
 public:
  using Ready = std::function<void(std::size_t slot)>;

  virtual ~ReadinessProber() = default;
  // Starts checking `check` for the instance with timer slot `slot` (replacing any earlier check of it);
  // calls the ready callback once when it passes.
  virtual void start(std::size_t slot, const config::ReadinessCheck& check, const std::string& pid_file) = 0;
  virtual void cancel(std::size_t slot) = 0;
  // Whether this prober can check `kind` (others are treated as "started", with a warning).
  virtual bool supports(config::ReadinessKind kind) const = 0;
  void set_callback(Ready ready) { ready_ = std::move(ready); }

 protected:
  void ready(std::size_t slot) {
    if (ready_) ready_(slot);
  }

 private:
  Ready ready_;
};

}  // namespace nixpm::daemon
