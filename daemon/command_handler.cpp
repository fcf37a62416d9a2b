#include "command_handler.hpp"

#include <unistd.h>

#include "common/signal_names.hpp"

#include <nixpm/version.hpp>

namespace nixpm::daemon {
namespace op = protocol::op;
namespace err = protocol::error;
using protocol::Json;

namespace {
constexpr double kDefaultWaitSeconds = 60;
constexpr double kMaxWaitSeconds = 24 * 3600;
}  // namespace

CommandHandler::CommandHandler(boost::asio::io_context& io, Supervisor& supervisor, Environment environment)
    : io_(io), supervisor_(supervisor), environment_(std::move(environment)), events_(supervisor) {}

void CommandHandler::handle(ConnectionState& connection, const Json& request, Respond respond) {
  const Json id = request.contains("id") ? request["id"] : Json(nullptr);
  if (!id.is_null() && !id.is_number_unsigned() && !id.is_number_integer()) {
    respond(protocol::make_error(nullptr, err::bad_request, "'id' must be a number"), false);
    return;
  }
  const auto op_member = request.find("op");
  if (op_member == request.end() || !op_member->is_string()) {
    respond(protocol::make_error(id, err::bad_request, "missing string member 'op'"), false);
    return;
  }
  const std::string name = op_member->get<std::string>();

  if (!connection.greeted) {
    if (name != op::hello) {
      respond(protocol::make_error(id, err::handshake_required, "the first request must be 'hello'"), true);
      return;
    }
    const auto version = request.find("protocol");
    if (version == request.end() || !version->is_number_integer() || version->get<int>() != protocol::kVersion) {
      respond(protocol::make_error(id, err::unsupported_version,
                                   "this daemon speaks protocol " + std::to_string(protocol::kVersion)),
              true);
      return;
    }
    connection.greeted = true;
    respond(protocol::make_ok(id, {{"protocol", protocol::kVersion},
                                   {"daemon", std::string("nixpmd ") + kVersionString},
                                   {"mode", environment_.mode_name},
                                   {"pid", static_cast<long>(getpid())}}),
            false);
    return;
  }

  const bool reads_only = name == op::status || name == op::list || name == op::logs || name == op::subscribe;
  if (connection.read_only && !reads_only && name != op::hello) {
    respond(protocol::make_error(id, err::permission_denied, "this connection may only read state ('" + name +
                                                                 "' changes it)"),
            false);
    return;
  }
  if (name == op::hello) {
    respond(protocol::make_error(id, err::bad_request, "already greeted"), false);
  } else if (name == op::status) {
    std::vector<std::size_t> indices;
    std::string error;
    if (const auto code = resolve_names(request, indices, error); !code.empty()) {
      respond(protocol::make_error(id, code, error), false);
      return;
    }
    StatusMembers members = kAllStatusMembers;
    if (const auto fields = request.find("fields"); fields != request.end()) {
      auto named = status_members_named(*fields, error);
      if (!named) {
        respond(protocol::make_error(id, err::bad_request, error), false);
        return;
      }
      members = *named;
    }
    respond(status_reply(id, indices, members), false);
  } else if (name == op::list) {
    respond(protocol::make_ok(id, list_result()), false);
  } else if (name == op::start || name == op::stop || name == op::restart) {
    change_state(id, request, name, std::move(respond));
  } else if (name == op::reload) {
    if (shutting_down_) {
      respond(protocol::make_error(id, err::shutting_down, "nixpmd is shutting down"), false);
      return;
    }
    reload([id, respond](const Json& body, bool ok) {
      respond(ok ? protocol::make_ok(id, body)
                 : Json{{"id", id}, {"ok", false}, {"error", body}},
              false);
    });
  } else if (name == op::signal) {
    signal_instances(id, request, respond);
  } else if (name == op::logs) {
    log_location(id, request, respond);
  } else if (name == op::subscribe) {
    respond(protocol::make_ok(id, {{"subscribed", true}}), false);
    events_.subscribe([respond](const Json& event) { return respond(event, false); });
  } else if (name == op::shutdown) {
    respond(protocol::make_ok(id), false);
    environment_.request_shutdown();
  } else {
    respond(protocol::make_error(id, err::unknown_op, "unknown op '" + name + "'"), false);
  }
}

// Names from request["names"]; absent or empty means every instance.
std::string_view CommandHandler::resolve_names(const Json& request, std::vector<std::size_t>& indices,
                                               std::string& error) const {
  indices.clear();
  const auto names = request.find("names");
  if (names == request.end() || names->is_null() || (names->is_array() && names->empty())) {
    for (std::size_t i = 0; i < supervisor_.size(); ++i) indices.push_back(i);
    return {};
  }
  if (!names->is_array()) {
    error = "'names' must be an array of instance names";
    return err::bad_request;
  }
  std::vector<std::string> unknown;
  for (const auto& entry : *names) {
    if (!entry.is_string()) {
      error = "'names' must be an array of instance names";
      return err::bad_request;
    }
    if (auto index = supervisor_.index_of(entry.get<std::string>())) {
      indices.push_back(*index);
    } else {
      unknown.push_back(entry.get<std::string>());
    }
  }
  if (unknown.empty()) return {};
  error = "unknown instance";
  for (std::size_t i = 0; i < unknown.size(); ++i) error += (i ? ", '" : " '") + unknown[i] + "'";
  return err::unknown_instance;
}

bool CommandHandler::named_targets(const Json& id, const Json& request, const Respond& respond,
                                   std::vector<std::size_t>& targets) const {
  const auto names = request.find("names");
  if (names == request.end() || !names->is_array() || names->empty()) {
    respond(protocol::make_error(id, err::bad_request, "'names' must list at least one instance"), false);
    return false;
  }
  std::string error;
  const auto code = resolve_names(request, targets, error);
  if (code.empty()) return true;
  respond(protocol::make_error(id, code, error), false);
  return false;
}

Json CommandHandler::status_result(const std::vector<std::size_t>& indices) const {
  Json instances = Json::array();
  for (auto index : indices) instances.push_back(snapshot_to_json(supervisor_.snapshot(index)));
  return Json{{"instances", std::move(instances)}};
}

protocol::Outgoing CommandHandler::status_reply(const Json& id, const std::vector<std::size_t>& indices,
                                                const StatusMembers& members) const {
  std::string text = "{\"instances\":[";
  text.reserve(256 * indices.size() + 32);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i > 0) text += ',';
    append_snapshot_json(text, supervisor_.snapshot(indices[i]), members);
  }
  text += "]}";
  return protocol::Outgoing::ok_with_result_text(id, std::move(text));
}

Json CommandHandler::list_result() const {
  Json instances = Json::array();
  for (std::size_t i = 0; i < supervisor_.size(); ++i) {
    const auto snap = supervisor_.snapshot(i);
    instances.push_back({{"name", snap.name},
                         {"state", std::string(to_string(snap.state))},
                         {"autostart", snap.autostart},
                         {"description", snap.description}});
  }
  return Json{{"instances", std::move(instances)}};
}

void CommandHandler::change_state(const Json& id, const Json& request, std::string_view op, Respond respond) {
  if (shutting_down_) {
    respond(protocol::make_error(id, err::shutting_down, "nixpmd is shutting down"), false);
    return;
  }
  std::vector<std::size_t> targets;
  if (!named_targets(id, request, respond, targets)) return;
  const auto wait_member = request.find("wait");
  if (wait_member != request.end() && !wait_member->is_boolean()) {
    respond(protocol::make_error(id, err::bad_request, "'wait' must be a boolean"), false);
    return;
  }
  double timeout = kDefaultWaitSeconds;
  if (const auto t = request.find("timeout"); t != request.end()) {
    if (!t->is_number() || t->get<double>() <= 0 || t->get<double>() > kMaxWaitSeconds) {
      respond(protocol::make_error(id, err::bad_request, "'timeout' must be a number of seconds above 0"), false);
      return;
    }
    timeout = t->get<double>();
  }
  const bool wait = wait_member == request.end() || wait_member->get<bool>();
  const Goal goal = op == op::stop ? Goal::down : Goal::up;

  auto waiter = std::make_shared<Waiter>(Waiter{id, goal, targets, std::move(respond), nullptr});
  if (wait) {
    waiter->deadline = std::make_unique<boost::asio::steady_timer>(io_);
    waiter->deadline->expires_after(std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(timeout)));
    std::weak_ptr<Waiter> weak = waiter;
    waiter->deadline->async_wait([this, weak](const boost::system::error_code& ec) {
      auto expired = weak.lock();
      if (ec || !expired) return;
      waiters_.remove(expired);
      expired->respond(protocol::make_error(expired->id, err::timeout, "timed out waiting for the outcome"), false);
    });
    waiters_.push_back(waiter);
  }
  if (op == op::start) {
    supervisor_.start(targets);
  } else if (op == op::stop) {
    supervisor_.stop(targets);
  } else {
    supervisor_.restart(targets);
  }
  if (!wait) waiter->respond(status_reply(id, targets), false);
}

CommandHandler::Outcome CommandHandler::outcome_of(const Waiter& waiter, std::string& reason) const {
  bool all_done = true;
  for (auto index : waiter.targets) {
    const auto state = supervisor_.state(index);
    const auto& name = supervisor_.graph().name(index);
    if (waiter.goal == Goal::down) {
      // A stop cannot fail: the first target still going down settles it. (Checking all of them on
      // every exit made the stop of N instances cost N² checks.)
      if (state != InstanceState::stopped && state != InstanceState::failed && state != InstanceState::done)
        return Outcome::pending;
      continue;
    }
    if (is_ready(state)) continue;
    if (state == InstanceState::failed) {
      reason = name + ": " + supervisor_.snapshot(index).error;
      return Outcome::failure;
    }
    for (auto dependency : supervisor_.graph().with_dependencies({index})) {
      if (supervisor_.state(dependency) == InstanceState::failed) {
        reason = name + ": dependency " + supervisor_.graph().name(dependency) + " failed: " +
                 supervisor_.snapshot(dependency).error;
        return Outcome::failure;
      }
    }
    if (!supervisor_.wanted_up(index) && state == InstanceState::stopped) {
      reason = name + ": stopped before it became ready";
      return Outcome::failure;
    }
    all_done = false;
  }
  return all_done ? Outcome::success : Outcome::pending;
}

void CommandHandler::reload(std::function<void(const Json&, bool)> done) {
  if (supervisor_.switch_pending()) {
    done({{"code", std::string(err::busy)}, {"message", "a reload is still stopping instances; try again"}}, false);
    return;
  }
  auto loaded = std::make_shared<config::LoadResult>(environment_.load_definitions());
  if (!loaded->ok()) {
    Json diagnostics = Json::array();
    for (const auto& diagnostic : loaded->diagnostics) diagnostics.push_back(diagnostic.to_string());
    done({{"code", std::string(err::invalid_definitions)},
          {"message", "the definitions have errors; nothing was changed\n" + loaded->report()},
          {"diagnostics", diagnostics}},
         false);
    return;
  }
  auto definitions = std::move(*loaded->definitions);
  supervisor_.switch_to(std::move(definitions), [this, loaded, done](const SwitchPlan& plan) {
    if (environment_.reload_accepted) environment_.reload_accepted(*loaded);
    Json result{{"added", plan.added},
                {"removed", plan.removed},
                {"changed", plan.changed},
                {"restarted", plan.restarted},
                {"unchanged", plan.unchanged}};
    events_.publish(Json{{"event", "reload"}, {"changes", result}});
    done(result, true);
  });
}

void CommandHandler::signal_instances(const Json& id, const Json& request, const Respond& respond) {
  const auto signal = request.find("signal");
  std::optional<int> number;
  if (signal != request.end() && signal->is_string()) number = parse_signal(signal->get<std::string>());
  if (signal != request.end() && signal->is_number_integer()) number = parse_signal(std::to_string(signal->get<int>()));
  if (!number) {
    respond(protocol::make_error(id, err::bad_request, "'signal' must be a signal name like \"HUP\" or a number"),
            false);
    return;
  }
  std::vector<std::size_t> targets;
  if (!named_targets(id, request, respond, targets)) return;
  std::vector<std::string> not_running;
  for (auto index : targets)
    if (!supervisor_.signal(index, *number)) not_running.push_back(supervisor_.graph().name(index));
  if (!not_running.empty()) {
    std::string message = "not running:";
    for (const auto& name : not_running) message += " " + name;
    respond(protocol::make_error(id, err::failed, message), false);
    return;
  }
  respond(protocol::make_ok(id, {{"signal", signal_name(*number)}}), false);
}

void CommandHandler::log_location(const Json& id, const Json& request, const Respond& respond) {
  const auto name = request.find("name");
  if (name == request.end() || !name->is_string()) {
    respond(protocol::make_error(id, err::bad_request, "'name' must name an instance"), false);
    return;
  }
  if (!supervisor_.index_of(name->get<std::string>())) {
    respond(protocol::make_error(id, err::unknown_instance, "unknown instance '" + name->get<std::string>() + "'"),
            false);
    return;
  }
  const auto path = environment_.log_dir / (name->get<std::string>() + ".log");
  respond(protocol::make_ok(id, {{"name", *name}, {"path", path.string()}}), false);
}

void CommandHandler::supervisor_changed() {
  events_.supervisor_changed();
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    auto waiter = *it;
    std::string reason;
    const auto outcome = outcome_of(*waiter, reason);
    if (outcome == Outcome::pending) {
      ++it;
      continue;
    }
    it = waiters_.erase(it);
    waiter->deadline->cancel();
    if (outcome == Outcome::success) {
      waiter->respond(status_reply(waiter->id, waiter->targets), false);
    } else {
      auto reply = protocol::make_error(waiter->id, err::failed, reason);
      reply["error"]["instances"] = status_result(waiter->targets)["instances"];
      waiter->respond(reply, false);
    }
  }
}

void CommandHandler::begin_shutdown() {
  shutting_down_ = true;
  auto pending = std::move(waiters_);
  waiters_.clear();
  for (auto& waiter : pending) {
    waiter->deadline->cancel();
    waiter->respond(protocol::make_error(waiter->id, err::shutting_down, "nixpmd is shutting down"), false);
  }
}

}  // namespace nixpm::daemon
