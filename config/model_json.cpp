#include "config/model_json.hpp"

#include <cstdio>

#include "common/signal_names.hpp"

namespace nixpm::config {
using Json = nlohmann::json;

namespace {

template <typename T>
Json optional_json(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

}  // namespace

std::string restart_policy_name(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::always:
      return "always";
    case RestartPolicy::on_failure:
      return "on-failure";
    case RestartPolicy::never:
      return "never";
  }
  return "unknown";
}

std::string readiness_kind_name(ReadinessKind kind) {
  switch (kind) {
    case ReadinessKind::started:
      return "started";
    case ReadinessKind::pid_file:
      return "pidFile";
    case ReadinessKind::tcp:
      return "tcp";
    case ReadinessKind::command:
      return "command";
    case ReadinessKind::notify:
      return "notify";
  }
  return "unknown";
}

std::string umask_text(int umask) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(umask));
  return text;
}

namespace {

// `rlimits` as written: name -> {soft, hard}, each a number, "infinity" or null (inherited).
Json rlimits_json(const std::vector<ResourceLimit>& limits) {
  auto value = [](const std::optional<std::uint64_t>& v) {
    if (!v) return Json(nullptr);
    return *v == kUnlimited ? Json("infinity") : Json(*v);
  };
  Json object = Json::object();
  for (const auto& limit : limits)
    object[limit.name] = {{"soft", value(limit.soft)}, {"hard", value(limit.hard)}};
  return object;
}

}  // namespace

Json credentials_json(const Credentials& credentials) {
  Json groups = Json::array();
  for (const auto& group : credentials.groups) groups.push_back({{"name", group.name}, {"gid", optional_json(group.gid)}});
  Json users = Json::array();
  for (const auto& user : credentials.users) {
    users.push_back({{"name", user.name},
                     {"uid", optional_json(user.uid)},
                     {"group", user.group},
                     {"description", user.description},
                     {"homeDir", user.home_dir},
                     {"createHomeDir", user.create_home_dir},
                     {"shell", user.shell}});
  }
  return Json{{"groups", std::move(groups)}, {"users", std::move(users)}};
}

Json supervision_json(const SupervisionPolicy& policy) {
  const auto& readiness = policy.readiness;
  Json liveness = nullptr;
  if (policy.liveness) {
    liveness = Json{{"command", policy.liveness->command},
                    {"interval", policy.liveness->interval_seconds},
                    {"timeout", policy.liveness->timeout_seconds}};
  }
  return Json{
      {"type", policy.type == ProcessType::oneshot ? "oneshot" : "process"},
      {"restart", restart_policy_name(policy.restart)},
      {"restartDelay", policy.restart_delay_seconds},
      {"maxRestartDelay", policy.max_restart_delay_seconds},
      {"stableAfter", policy.stable_after_seconds},
      {"restartLimit", policy.restart_limit},
      {"stopSignal", signal_name(policy.stop_signal)},
      {"stopTimeout", policy.stop_timeout_seconds},
      {"readiness",
       {{"kind", readiness_kind_name(readiness.kind)},
        {"host", readiness.host},
        {"port", readiness.port},
        {"command", readiness.command}}},
      {"startTimeout", policy.start_timeout_seconds},
      {"successExitCodes", policy.success_exit_codes},
      {"liveness", std::move(liveness)},
  };
}

Json instance_json(const InstanceSpec& instance) {
  Json dependencies = Json::array();
  for (const auto& dependency : instance.dependencies) dependencies.push_back(dependency.name);
  Json files = Json::array();
  for (const auto& file : instance.files) files.push_back(Json{{"path", file.path.string()}, {"content", file.content}});
  Json overrides = Json::object();
  for (const auto& [manager, settings] : instance.overrides) overrides[manager] = settings;
  Json ids = Json::object();
  for (const auto& [pool, id] : instance.ids) ids[pool] = id;
  return Json{
      {"name", instance.name},
      {"constructor", instance.constructor},
      {"description", instance.description},
      {"kind", instance.kind == ProcessKind::daemon ? "daemon" : "foreground"},
      {"executable", instance.executable},
      {"arguments", instance.arguments},
      {"foregroundProcess", instance.foreground_executable},
      {"foregroundProcessArgs", instance.foreground_arguments},
      {"daemon", instance.daemon_executable},
      {"daemonArgs", instance.daemon_arguments},
      {"pidFile", instance.pid_file},
      {"initialize", instance.initialize},
      {"path", instance.path},
      {"environment", instance.environment},
      {"directory", instance.directory},
      {"umask", instance.umask ? Json(umask_text(*instance.umask)) : Json(nullptr)},
      {"nice", optional_json(instance.nice)},
      {"rlimits", rlimits_json(instance.rlimits)},
      {"user", instance.user},
      {"credentials", credentials_json(instance.credentials)},
      {"dependencies", std::move(dependencies)},
      {"files", std::move(files)},
      {"autostart", instance.autostart},
      {"supervision", supervision_json(instance.supervision)},
      {"overrides", std::move(overrides)},
      {"ids", std::move(ids)},
      {"position", instance.position.to_string()},
  };
}

Json definitions_json(const Definitions& definitions) {
  Json instances = Json::array();
  for (const auto& instance : definitions.instances) instances.push_back(instance_json(instance));
  return Json{{"source", definitions.source.string()}, {"instances", std::move(instances)}};
}

}  // namespace nixpm::config
