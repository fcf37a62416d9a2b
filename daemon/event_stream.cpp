#include "event_stream.hpp"

#include <chrono>

namespace nixpm::daemon {

namespace {
double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

namespace {
protocol::Json state_event(const InstanceSnapshot& snapshot) {
  protocol::Json event{{"event", "state"},
                       {"name", snapshot.name},
                       {"state", std::string(to_string(snapshot.state))},
                       {"pid", snapshot.pid ? protocol::Json(*snapshot.pid) : protocol::Json(nullptr)},
                       {"time", unix_now()}};
  if (!snapshot.last_exit.empty()) event["lastExit"] = snapshot.last_exit;
  if (!snapshot.error.empty()) event["error"] = snapshot.error;
  return event;
}
}  // namespace

void EventStream::subscribe(Deliver deliver) {
  if (subscribers_.empty()) remember_all();
  for (std::size_t index = 0; index < supervisor_.size(); ++index)
    if (!deliver(state_event(supervisor_.snapshot(index)))) return;
  subscribers_.push_back(std::move(deliver));
}

void EventStream::remember_all() {
  seen_.clear();
  for (std::size_t index = 0; index < supervisor_.size(); ++index) {
    const auto& name = supervisor_.graph().name(index);
    seen_[name] = Seen{supervisor_.state(index), supervisor_.snapshot(index).pid};
  }
}

void EventStream::publish(const protocol::Json& event) {
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    it = (*it)(event) ? std::next(it) : subscribers_.erase(it);
  }
}

void EventStream::supervisor_changed() {
  if (subscribers_.empty()) return;
  for (std::size_t index = 0; index < supervisor_.size(); ++index) {
    const auto snapshot = supervisor_.snapshot(index);
    const Seen now{snapshot.state, snapshot.pid};
    auto [entry, inserted] = seen_.try_emplace(snapshot.name, now);
    if (!inserted && entry->second == now) continue;
    entry->second = now;
    publish(state_event(snapshot));
  }
}

}  // namespace nixpm::daemon
