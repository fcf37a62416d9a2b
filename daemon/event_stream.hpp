#pragma once
// Unsolicited events for clients that subscribed (`nixpmctl watch`): one message per state change of
// an instance, and one per completed reload. Costs nothing while nobody listens: the states are only
// compared when there is a subscriber.

#include <functional>
#include <list>
#include <string>
#include <unordered_map>

#include "common/protocol.hpp"
#include "daemon/supervisor.hpp"

namespace nixpm::daemon {

class EventStream {
 public:
  // Delivers one event; returns false when the subscriber is gone (then it is dropped).
  using Deliver = std::function<bool(const protocol::Json& event)>;

  explicit EventStream(const Supervisor& supervisor) : supervisor_(supervisor) {}

  // Sends the new subscriber one state event per instance (the current picture), then every change.
  void subscribe(Deliver deliver);
  // Compares every instance with what was last reported and sends the differences.
  void supervisor_changed();
  void publish(const protocol::Json& event);
  std::size_t subscribers() const { return subscribers_.size(); }

 private:
  struct Seen {
    InstanceState state;
    std::optional<pid_t> pid;
    bool operator==(const Seen&) const = default;
  };
  void remember_all();

  const Supervisor& supervisor_;
  std::list<Deliver> subscribers_;
  std::unordered_map<std::string, Seen> seen_;
};

}  // namespace nixpm::daemon
