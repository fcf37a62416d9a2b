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
#include "config/loader.hpp"
#include "daemon/event_stream.hpp"
#include "daemon/request_handler.hpp"
#include "daemon/status_json.hpp"
#include "daemon/supervisor.hpp"

namespace nixpm::daemon {

// Per-connection protocol state.
struct ConnectionState {
  bool greeted = false;
  bool read_only = false;  // a member of the socket group without the right to change anything
};

class CommandHandler : public RequestHandler {
 public:
  // What the handler needs from the daemon around it.
  struct Environment {
    std::string mode_name;                        // "user" or "system"
    std::filesystem::path log_dir;                // where <instance>.log files are
    std::function<void()> request_shutdown;
    std::function<config::LoadResult()> load_definitions;  // reads the definitions file again
    // Called with the accepted result once a reload has switched (e.g. to persist id assignments).
    std::function<void(const config::LoadResult&)> reload_accepted;
  };

  CommandHandler(boost::asio::io_context& io, Supervisor& supervisor, Environment environment);

  void handle(ConnectionState& connection, const protocol::Json& request, Respond respond);
  // Re-checks pending waits and sends events; call whenever the supervisor settles.
  void supervisor_changed();
  // The live switch, for `reload` and SIGHUP. `done` gets the reply (an error or the changes).
  void reload(std::function<void(const protocol::Json& result_or_error, bool ok)> done);
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
  // The ok reply to a request about `indices`: status_result written as text, without the DOM, with
  // only `members` of each entry.
  protocol::Outgoing status_reply(const protocol::Json& id, const std::vector<std::size_t>& indices,
                                  const StatusMembers& members = kAllStatusMembers) const;
  protocol::Json list_result() const;
  void change_state(const protocol::Json& id, const protocol::Json& request, std::string_view op, Respond respond);
  Outcome outcome_of(const Waiter& waiter, std::string& reason) const;
  // The error code (empty on success) and, in `error`, the message.
  std::string_view resolve_names(const protocol::Json& request, std::vector<std::size_t>& indices,
                                 std::string& error) const;
  // The instances a state-changing request names (at least one, all known); replies with the error
  // and returns false otherwise.
  bool named_targets(const protocol::Json& id, const protocol::Json& request, const Respond& respond,
                     std::vector<std::size_t>& targets) const;
  void signal_instances(const protocol::Json& id, const protocol::Json& request, const Respond& respond);
  void log_location(const protocol::Json& id, const protocol::Json& request, const Respond& respond);

  boost::asio::io_context& io_;
  Supervisor& supervisor_;
  Environment environment_;
  EventStream events_;
  std::list<std::shared_ptr<Waiter>> waiters_;
  bool shutting_down_ = false;
};

}  // namespace nixpm::daemon
