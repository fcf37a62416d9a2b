#pragma once
// What the control server hands each request to: the built-in supervisor's CommandHandler, or the
// ManagerFrontHandler when nixpmd fronts a native manager (nixpmd --manager). The transport knows
// nothing else about either.

#include <functional>

#include "common/protocol.hpp"

namespace nixpm::daemon {

struct ConnectionState;  // per-connection protocol state (command_handler.hpp)

class RequestHandler {
 public:
  // `close` asks the transport to close the connection once the reply is written. Returns false when
  // the connection is already gone.
  using Respond = std::function<bool(const protocol::Outgoing& reply, bool close)>;

  virtual ~RequestHandler() = default;
  // Answers through `respond`, now or later (on the same io_context).
  virtual void handle(ConnectionState& connection, const protocol::Json& request, Respond respond) = 0;
};

}  // namespace nixpm::daemon
