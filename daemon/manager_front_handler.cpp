#include "daemon/manager_front_handler.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <nixpm/version.hpp>

namespace nixpm::daemon {
namespace op = protocol::op;
namespace err = protocol::error;
using protocol::Json;

namespace {

Json optional_string(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

ManagerFrontHandler::ManagerFrontHandler(boost::asio::io_context& io, const managers::ManagerAdapter& adapter,
                                         const managers::ManagerTool& tool, managers::ToolContext context,
                                         Environment environment)
    : io_(io),
      adapter_(adapter),
      tool_(tool),
      context_(std::move(context)),
      environment_(std::move(environment)),
      worker_([this] { worker_loop(); }) {}

ManagerFrontHandler::~ManagerFrontHandler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void ManagerFrontHandler::enqueue(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void ManagerFrontHandler::worker_loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& error) {  // a tool layer bug must not take the daemon down
      spdlog::error("manager front: {}", error.what());
    }
  }
}

void ManagerFrontHandler::reply_later(const Respond& respond, Json reply) {
  boost::asio::post(io_, [respond, reply = std::move(reply)] { respond(reply, false); });
}

void ManagerFrontHandler::handle(ConnectionState& connection, const Json& request, Respond respond) {
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
    const auto version = request.find("protocol");
    if (name != op::hello) {
      respond(protocol::make_error(id, err::handshake_required, "the first request must be 'hello'"), true);
    } else if (version == request.end() || !version->is_number_integer() || version->get<int>() != protocol::kVersion) {
      respond(protocol::make_error(id, err::unsupported_version,
                                   "this daemon speaks protocol " + std::to_string(protocol::kVersion)),
              true);
    } else {
      connection.greeted = true;
      respond(protocol::make_ok(id, {{"protocol", protocol::kVersion},
                                     {"daemon", std::string("nixpmd ") + kVersionString},
                                     {"mode", environment_.mode_name},
                                     {"manager", std::string(adapter_.name())},
                                     {"pid", static_cast<long>(getpid())}}),
              false);
    }
    return;
  }
  const bool reads_only = name == op::status || name == op::list || name == op::logs || name == op::subscribe;
  if (connection.read_only && !reads_only) {
    respond(protocol::make_error(id, err::permission_denied, "this connection may only read state ('" + name +
                                                                 "' changes it)"),
            false);
    return;
  }
  if (name == op::hello) {
    respond(protocol::make_error(id, err::bad_request, "already greeted"), false);
  } else if (name == op::shutdown) {
    respond(protocol::make_ok(id), false);
    environment_.request_shutdown();
  } else if (name == op::signal || name == op::subscribe) {
    respond(protocol::make_error(id, err::bad_request,
                                 "'" + name + "' is not available while nixpmd fronts " + std::string(adapter_.name()) +
                                     " (use its own tool)"),
            false);
  } else if (shutting_down_ && name != op::status && name != op::list && name != op::logs) {
    respond(protocol::make_error(id, err::shutting_down, "nixpmd is shutting down"), false);
  } else if (name == op::status || name == op::list || name == op::start || name == op::stop ||
             name == op::restart || name == op::logs || name == op::reload) {
    enqueue([this, id, name, request, respond] { reply_later(respond, answer(id, name, request)); });
  } else {
    respond(protocol::make_error(id, err::unknown_op, "unknown op '" + name + "'"), false);
  }
}

// ---- on the worker thread ------------------------------------------------------------------------

std::optional<Json> ManagerFrontHandler::resolve(const Json& id, const Json& request, bool required,
                                                 std::vector<std::size_t>& indices) const {
  indices.clear();
  const auto names = request.find("names");
  const bool none = names == request.end() || names->is_null() || (names->is_array() && names->empty());
  if (none && required) return protocol::make_error(id, err::bad_request, "'names' must list at least one instance");
  if (none) {
    for (std::size_t i = 0; i < record_.services.size(); ++i) indices.push_back(i);
    return std::nullopt;
  }
  if (!names->is_array()) return protocol::make_error(id, err::bad_request, "'names' must be an array of instance names");
  std::vector<std::string> unknown;
  for (const auto& entry : *names) {
    if (!entry.is_string()) return protocol::make_error(id, err::bad_request, "'names' must be an array of instance names");
    const auto& services = record_.services;
    const auto found = std::find_if(services.begin(), services.end(),
                                    [&](const auto& service) { return service.instance == entry.get<std::string>(); });
    if (found == services.end()) unknown.push_back(entry.get<std::string>());
    else indices.push_back(static_cast<std::size_t>(found - services.begin()));
  }
  if (unknown.empty()) return std::nullopt;
  std::string message = "unknown instance";
  for (std::size_t i = 0; i < unknown.size(); ++i) message += (i ? ", '" : " '") + unknown[i] + "'";
  return protocol::make_error(id, err::unknown_instance, message);
}

Json ManagerFrontHandler::status_entries(const std::vector<std::size_t>& indices) const {
  std::vector<std::string> names;
  for (auto index : indices) names.push_back(record_.services[index].name);
  const auto statuses = names.empty() ? std::vector<managers::ServiceStatus>{} : tool_.status(context_, names);
  Json entries = Json::array();
  const double now = now_seconds();
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const auto& service = record_.services[indices[i]];
    const auto& status = statuses[i];
    const bool up = status.state == InstanceState::running || status.state == InstanceState::starting ||
                    status.state == InstanceState::backoff || status.state == InstanceState::done;
    entries.push_back(Json{
        {"name", service.instance},
        {"state", std::string(to_string(status.state))},
        {"pid", status.pid ? Json(*status.pid) : Json(nullptr)},
        {"wanted", up ? "up" : "down"},
        {"since", status.uptime_seconds ? Json(now - *status.uptime_seconds) : Json(nullptr)},
        {"uptime", status.uptime_seconds ? Json(*status.uptime_seconds) : Json(nullptr)},
        {"restarts", 0},
        {"lastExit", nullptr},
        {"error", optional_string(status.known ? status.detail : "not known to " + std::string(adapter_.name()))},
        {"description", service.description},
        {"dependencies", service.dependencies},
        {"readiness", "started"},
        {"ready", is_ready(status.state)},
        {"waitingFor", Json::array()},
        {"manager", std::string(adapter_.name())},
        {"service", service.name}});
  }
  return entries;
}

Json ManagerFrontHandler::answer(const Json& id, const std::string& name, const Json& request) {
  std::vector<std::size_t> indices;
  if (name == op::status) {
    if (auto error = resolve(id, request, false, indices)) return *error;
    return protocol::make_ok(id, {{"instances", status_entries(indices)}});
  }
  if (name == op::list) {
    resolve(id, Json::object(), false, indices);
    Json instances = Json::array();
    const auto statuses = status_entries(indices);
    for (std::size_t i = 0; i < indices.size(); ++i)
      instances.push_back({{"name", record_.services[indices[i]].instance},
                           {"state", statuses[i]["state"]},
                           {"autostart", record_.services[indices[i]].autostart},
                           {"description", record_.services[indices[i]].description}});
    return protocol::make_ok(id, {{"instances", instances}});
  }
  if (name == op::logs) {
    const auto instance = request.find("name");
    if (instance == request.end() || !instance->is_string())
      return protocol::make_error(id, err::bad_request, "'name' must name an instance");
    if (!record_.find_instance(instance->get<std::string>()))
      return protocol::make_error(id, err::unknown_instance, "unknown instance '" + instance->get<std::string>() + "'");
    const auto path = tool_.log_path(context_, instance->get<std::string>());
    if (path.empty()) return protocol::make_error(id, err::failed, tool_.log_hint(context_, instance->get<std::string>()));
    return protocol::make_ok(id, {{"name", *instance}, {"path", path.string()}});
  }
  if (name == op::reload) return redeploy(id);
  if (auto error = resolve(id, request, true, indices)) return *error;
  if (const auto wait = request.find("wait"); wait != request.end() && !wait->is_boolean())
    return protocol::make_error(id, err::bad_request, "'wait' must be a boolean");
  return change(id, name, indices);
}

// start takes the dependencies along (first), stop the dependents (first), as the built-in supervisor.
Json ManagerFrontHandler::change(const Json& id, const std::string& name, const std::vector<std::size_t>& targets) {
  const auto& services = record_.services;
  std::set<std::size_t> chosen(targets.begin(), targets.end());
  const bool downwards = name == op::stop;
  for (bool grew = true; grew && name != op::restart;) {
    grew = false;
    for (std::size_t i = 0; i < services.size(); ++i) {
      for (std::size_t j = 0; j < services.size(); ++j) {
        const auto& deps = services[i].dependencies;
        const bool depends = std::find(deps.begin(), deps.end(), services[j].instance) != deps.end();
        // starting i needs j; stopping j needs i down first
        const std::size_t from = downwards ? j : i, to = downwards ? i : j;
        if (depends && chosen.count(from) && !chosen.count(to)) grew = chosen.insert(to).second || grew;
      }
    }
  }
  std::vector<std::size_t> order(chosen.begin(), chosen.end());  // start order is the record's order
  if (downwards) std::reverse(order.begin(), order.end());
  std::vector<std::string> failures;
  for (auto index : order) {
    const auto& service = services[index];
    const auto result = name == op::start   ? tool_.start(context_, service.name)
                        : name == op::stop  ? tool_.stop(context_, service.name)
                                            : tool_.restart(context_, service.name);
    if (!result.ok()) failures.push_back(service.instance + ": " + result.error);
  }
  const auto entries = status_entries(targets);
  if (name != op::stop)
    for (const auto& entry : entries)
      if (!entry.value("ready", false) && failures.empty())
        failures.push_back(entry.value("name", std::string()) + ": " +
                           (entry["error"].is_string() ? entry["error"].get<std::string>() : "not running after " + name));
  if (failures.empty()) return protocol::make_ok(id, {{"instances", entries}});
  std::string message;
  for (const auto& failure : failures) message += (message.empty() ? "" : "; ") + failure;
  auto reply = protocol::make_error(id, err::failed, message);
  // The entries of what did not come up say "failed", so that nixpmctl names them.
  Json instances = entries;
  for (auto& entry : instances)
    if (name != op::stop && !entry.value("ready", false)) {
      entry["state"] = "failed";
      entry["error"] = message;
    }
  reply["error"]["instances"] = instances;
  return reply;
}

std::string ManagerFrontHandler::deploy_now(const config::Definitions& definitions, managers::DeployChanges* changes) {
  managers::Generated generated;
  try {
    generated = adapter_.generate(definitions, environment_.generate_options);
  } catch (const managers::GenerateError& error) {
    return error.what();
  }
  for (const auto& loss : generated.losses)
    spdlog::info("{}: {}: {} on {}: {}", loss.instance, loss.property, managers::to_string(loss.support),
                 adapter_.name(), loss.note);
  const bool first = record_.manager.empty();
  auto outcome = managers::deploy(tool_, context_, generated, definitions, first ? nullptr : &record_,
                                  [](const std::string& line) { spdlog::info("{}", line); });
  record_ = outcome.record;
  try {
    managers::save_deployment_record(environment_.record_path, record_);
  } catch (const std::filesystem::filesystem_error& error) {
    outcome.errors.push_back(std::string("cannot record the deployment: ") + error.what());
  }
  if (changes) *changes = outcome.changes;
  std::string problems;
  for (const auto& error : outcome.errors) problems += (problems.empty() ? "" : "; ") + error;
  return problems;
}

Json ManagerFrontHandler::redeploy(const Json& id) {
  auto loaded = environment_.load_definitions();
  if (!loaded.ok()) {
    Json diagnostics = Json::array();
    for (const auto& diagnostic : loaded.diagnostics) diagnostics.push_back(diagnostic.to_string());
    return Json{{"id", id},
                {"ok", false},
                {"error",
                 {{"code", std::string(err::invalid_definitions)},
                  {"message", "the definitions have errors; nothing was changed\n" + loaded.report()},
                  {"diagnostics", diagnostics}}}};
  }
  managers::DeployChanges changes;
  const auto problems = deploy_now(*loaded.definitions, &changes);
  if (environment_.reload_accepted) environment_.reload_accepted(loaded);
  if (!problems.empty()) return protocol::make_error(id, err::failed, problems);
  return protocol::make_ok(id, changes.to_json());
}

void ManagerFrontHandler::deploy(const config::Definitions& definitions, std::function<void(const std::string&)> done) {
  enqueue([this, definitions, done] {
    std::string error;
    const auto previous = managers::load_deployment_record(environment_.record_path, error);
    if (previous && previous->manager == adapter_.name() && previous->root == context_.root) {
      record_ = *previous;  // carry on from the last deployment: unchanged services stay up
    } else if (previous) {
      error = "a deployment onto " + previous->manager + " (" + previous->root.string() + ") is recorded in " +
              environment_.record_path.string() + "; undeploy it first (nixpmctl undeploy)";
    }
    if (error.empty()) error = deploy_now(definitions, nullptr);
    boost::asio::post(io_, [done, error] { done(error); });
  });
}

void ManagerFrontHandler::reload() {
  enqueue([this] {
    const auto reply = redeploy(nullptr);
    if (reply.value("ok", false)) spdlog::info("reload: redeployed");
    else spdlog::error("reload refused: {}", reply["error"].value("message", std::string()));
  });
}

void ManagerFrontHandler::undeploy(std::function<void()> done) {
  enqueue([this, done] {
    if (!record_.manager.empty()) {
      for (const auto& problem : managers::undeploy(tool_, context_, record_, [](const std::string& line) {
             spdlog::info("{}", line);
           }))
        spdlog::error("{}", problem);
      std::error_code ignored;
      std::filesystem::remove(environment_.record_path, ignored);
      record_ = {};
    }
    boost::asio::post(io_, done);
  });
}

}  // namespace nixpm::daemon
