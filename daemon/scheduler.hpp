#pragma once
// The clock-and-timer seam: the supervisor reads time and arms one timer per instance through it, so
// unit tests can advance time by hand. The real one runs on the Asio loop (asio_scheduler.hpp).

#include <chrono>
#include <cstddef>
#include <functional>

namespace nixpm::daemon {

class Scheduler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Callback = std::function<void(std::size_t slot)>;

  virtual ~Scheduler() = default;
  virtual TimePoint now() const = 0;
  // Fires the callback with `slot` once `delay` has passed. Re-arming a slot replaces its deadline.
  virtual void arm(std::size_t slot, std::chrono::nanoseconds delay) = 0;
  virtual void cancel(std::size_t slot) = 0;
  void set_callback(Callback callback) { callback_ = std::move(callback); }

 protected:
  void fire(std::size_t slot) {
    if (callback_) callback_(slot);
  }

 private:
  Callback callback_;
};

}  // namespace nixpm::daemon
