#pragma once
// Checks on an instance's health, the seam between the supervisor and sockets, files and check
// commands (unit tests use a fake):
//   - readiness: whether a starting instance is ready, for the kinds other than "started";
//   - liveness: whether a running instance still answers (a periodic command).
// Probing happens only while an instance is starting, or while it runs with a liveness check, so an
// idle daemon without liveness checks has no timers at all.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "config/model.hpp"

namespace nixpm::daemon {

// What a check needs to know about its instance.
struct ProbeTarget {
  std::string pid_file;                  // pidFile checks
  std::vector<std::string> environment;  // check commands run with the instance's environment ...
  std::filesystem::path directory;       // ... in its working directory
  std::filesystem::path notify_socket;   // notify checks: where the instance's $NOTIFY_SOCKET is bound
};

class ReadinessProber {
 public:
  using Ready = std::function<void(std::size_t slot)>;
  using Unhealthy = std::function<void(std::size_t slot, const std::string& reason)>;

  virtual ~ReadinessProber() = default;
  // Called just before the instance is spawned; a notify check binds its socket here, so that a
  // READY=1 sent at once is not lost. Returns an error message, empty on success.
  virtual std::string prepare(std::size_t slot, const config::ReadinessCheck& check, const ProbeTarget& target) = 0;
  // Starts checking `check` for the instance with timer slot `slot` (replacing any earlier check of it);
  // calls the ready callback once when it passes.
  virtual void start(std::size_t slot, const config::ReadinessCheck& check, const ProbeTarget& target) = 0;
  // Ends a readiness check (and a prepared notify socket).
  virtual void cancel(std::size_t slot) = 0;
  // Starts the periodic liveness check of a running instance; calls the unhealthy callback (once) when
  // a check fails or times out.
  virtual void start_liveness(std::size_t slot, const config::LivenessCheck& check, const ProbeTarget& target) = 0;
  virtual void cancel_liveness(std::size_t slot) = 0;
  // Whether this prober can check `kind` (others are treated as "started", with a warning).
  virtual bool supports(config::ReadinessKind kind) const = 0;
  // The daemon reaps every child; the exit of a check command is handed here. Returns false when `pid`
  // is not one of the prober's commands.
  virtual bool child_exited(pid_t /*pid*/, int /*wait_status*/) { return false; }

  void set_callbacks(Ready ready, Unhealthy unhealthy) {
    ready_ = std::move(ready);
    unhealthy_ = std::move(unhealthy);
  }

 protected:
  void ready(std::size_t slot) {
    if (ready_) ready_(slot);
  }
  void unhealthy(std::size_t slot, const std::string& reason) {
    if (unhealthy_) unhealthy_(slot, reason);
  }

 private:
  Ready ready_;
  Unhealthy unhealthy_;
};

}  // namespace nixpm::daemon
