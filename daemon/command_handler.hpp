#pragma once
// Maps protocol requests to supervisor calls. No socket code here: a request comes in as JSON with a
// callback for the reply, so the same code serves every transport and the tests.
//
// start/stop/restart with "wait" reply only when every named instance reached its outcome (ready or
// failed for start, down for stop) or the timeout passed. Such pending replies are re-checked each
// time the supervisor settles.

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/protocol.hpp"
#include "daemon/supervisor.hpp"

namespace nixpm::daemon {

// Per-connection protocol state.
struct ConnectionState {
  bool greeted = false;
};

class CommandHandler {
 public:
  // `close` asks the transport to close the connection once the reply is written.
  using Respond = std::function<void(const protocol::Json& reply, bool close)>;

  CommandHandler(boost::asio::io_context& io, Supervisor& supervisor, std::string mode_name,
                 std::function<void()> request_shutdown);

  void handle(ConnectionState& connection, const protocol::Json& request, Respond respond);
  // Re-checks pending waits; call whenever the supervisor settles.
  void supervisor_changed();
  // Refuses further state changes; pending waits are answered with "shutting-down".
  void begin_shutdown();

 private:
  enum class Goal { up, down };
  struct Waiter {
    protocol::Json id;
    Goal goal;
    std::vector<std::size_t> targets;
    Respond respond;
    std::unique_ptr<boost::asio::steady_timer> deadline;
  };
  enum class Outcome { pending, success, failure };

  protocol::Json status_result(const std::vector<std::size_t>& indices) const;
  protocol::Json list_result() const;
  void change_state(const protocol::Json& id, const protocol::Json& request, std::string_view op, Respond respond);
  Outcome outcome_of(const Waiter& waiter, std::string& reason) const;
  bool resolve_names(const protocol::Json& request, std::vector<std::size_t>& indices, std::string& error) const;

  boost::asio::io_context& io_;
  Supervisor& supervisor_;
  std::string mode_name_;
  std::function<void()> request_shutdown_;
  std::list<std::shared_ptr<Waiter>> waiters_;
  bool shutting_down_ = false;
};

protocol::Json snapshot_to_json(const InstanceSnapshot& snapshot);

}  // namespace nixpm::daemon
