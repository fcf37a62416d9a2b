#pragma once
// The observable state of one instance, shared by the daemon, the protocol and the client.
// The lifecycle itself (which event moves which state where) is documented in daemon/instance_machine.hpp.

#include <optional>
#include <string_view>

namespace nixpm {

enum class InstanceState {
  stopped,   // not running and not wanted to run (or waiting for its dependencies)
  starting,  // spawned, not yet ready
  running,   // ready: dependents may start
  stopping,  // stop signal sent, waiting for the process to exit
  backoff,   // exited unexpectedly, waiting to be restarted
  failed,    // gave up (crash loop, exec failure); only an explicit start clears it
  done,      // a oneshot that finished successfully
};

std::string_view to_string(InstanceState state);
std::optional<InstanceState> instance_state_from_string(std::string_view text);

// Dependents may start once a dependency is in one of these states.
inline bool is_ready(InstanceState s) { return s == InstanceState::running || s == InstanceState::done; }

}  // namespace nixpm
