#pragma once
// Scheduler on Boost.Asio steady timers: one timer per slot, created on first use. Nothing is armed
// while nothing waits, so an idle daemon has no timer wakeups.

#include <cstdint>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/scheduler.hpp"

namespace nixpm::daemon {

class AsioScheduler final : public Scheduler {
 public:
  explicit AsioScheduler(boost::asio::io_context& io) : io_(io) {}
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  void arm(std::size_t slot, std::chrono::nanoseconds delay) override;
  void cancel(std::size_t slot) override;

 private:
  boost::asio::io_context& io_;
  // The generation guards against a wait that completed just before being re-armed or cancelled: its
  // handler is already queued with success, and must not fire for the new deadline.
  struct Slot {
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::uint64_t generation = 0;
  };
  std::vector<Slot> slots_;
};

}  // namespace nixpm::daemon
