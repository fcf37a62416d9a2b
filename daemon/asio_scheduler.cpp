#include "asio_scheduler.hpp"

namespace nixpm::daemon {

void AsioScheduler::arm(std::size_t slot, std::chrono::nanoseconds delay) {
  if (slot >= slots_.size()) slots_.resize(slot + 1);
  auto& entry = slots_[slot];
  if (!entry.timer) entry.timer = std::make_unique<boost::asio::steady_timer>(io_);
  const auto generation = ++entry.generation;
  entry.timer->expires_after(delay);  // cancels a pending wait
  entry.timer->async_wait([this, slot, generation](const boost::system::error_code& error) {
    if (!error && slots_[slot].generation == generation) fire(slot);
  });
}

void AsioScheduler::cancel(std::size_t slot) {
  if (slot >= slots_.size() || !slots_[slot].timer) return;
  ++slots_[slot].generation;
  slots_[slot].timer->cancel();
}

}  // namespace nixpm::daemon
