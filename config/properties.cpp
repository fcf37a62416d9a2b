#include "config/properties.hpp"

#include <array>
#include <string_view>
#include <utility>

#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

using Reader = void (*)(YamlReader&, const MapEntry&, RawProperties&);

#define NIXPM_PROPERTY(key, member, read_expression)                            \
  {                                                                             \
    key, [](YamlReader& r, const MapEntry& e, RawProperties& p) {               \
      p.member = read_expression;                                               \
    }                                                                           \
  }

// The property keys in the order the documentation lists them; suggestions prefer earlier ones.
const std::array<std::pair<std::string_view, Reader>, 38> kProperties{{
    NIXPM_PROPERTY("name", name, r.string(e)),
    NIXPM_PROPERTY("instanceName", instance_name, r.string(e)),
    NIXPM_PROPERTY("description", description, r.string(e)),
    NIXPM_PROPERTY("process", process, r.string(e)),
    NIXPM_PROPERTY("args", args, r.string_list(e)),
    NIXPM_PROPERTY("foregroundProcess", foreground_process, r.string(e)),
    NIXPM_PROPERTY("foregroundProcessArgs", foreground_process_args, r.string_list(e)),
    NIXPM_PROPERTY("foregroundProcessExtraArgs", foreground_process_extra_args, r.string_list(e)),
    NIXPM_PROPERTY("daemon", daemon, r.string(e)),
    NIXPM_PROPERTY("daemonArgs", daemon_args, r.string_list(e)),
    NIXPM_PROPERTY("daemonExtraArgs", daemon_extra_args, r.string_list(e)),
    NIXPM_PROPERTY("pidFile", pid_file, r.string(e)),
    NIXPM_PROPERTY("initialize", initialize, r.string(e)),
    NIXPM_PROPERTY("path", path, r.string_list(e)),
    NIXPM_PROPERTY("environment", environment, r.string_map(e)),
    NIXPM_PROPERTY("directory", directory, r.string(e)),
    NIXPM_PROPERTY("umask", umask, r.string(e)),
    NIXPM_PROPERTY("nice", nice, r.string(e)),
    NIXPM_PROPERTY("rlimits", rlimits, read_rlimits(r, e)),
    NIXPM_PROPERTY("user", user, r.string(e)),
    NIXPM_PROPERTY("credentials", credentials, read_credentials(r, e)),
    NIXPM_PROPERTY("dependencies", dependencies, r.string_list(e)),
    NIXPM_PROPERTY("overrides", overrides, read_overrides(r, e)),
    NIXPM_PROPERTY("files", files, r.string_map(e)),
    NIXPM_PROPERTY("autostart", autostart, r.boolean(e)),
    NIXPM_PROPERTY("requiresUniqueIdsFor", unique_id_pools, r.string_list(e)),
    NIXPM_PROPERTY("type", type, read_process_type(r, e)),
    NIXPM_PROPERTY("readiness", readiness, read_readiness(r, e)),
    NIXPM_PROPERTY("startTimeout", start_timeout, read_seconds(r, e, true)),
    NIXPM_PROPERTY("successExitCodes", success_exit_codes, read_exit_codes(r, e)),
    NIXPM_PROPERTY("liveness", liveness, read_liveness(r, e)),
    NIXPM_PROPERTY("restart", restart, read_restart_policy(r, e)),
    NIXPM_PROPERTY("restartDelay", restart_delay, read_seconds(r, e, false)),
    NIXPM_PROPERTY("maxRestartDelay", max_restart_delay, read_seconds(r, e, false)),
    NIXPM_PROPERTY("stableAfter", stable_after, read_seconds(r, e, true)),
    NIXPM_PROPERTY("restartLimit", restart_limit, read_restart_limit(r, e)),
    NIXPM_PROPERTY("stopSignal", stop_signal, read_stop_signal(r, e)),
    NIXPM_PROPERTY("stopTimeout", stop_timeout, read_seconds(r, e, true)),
}};

#undef NIXPM_PROPERTY

template <typename T>
const std::optional<T>& pick(const std::optional<T>& base, const std::optional<T>& overrides) {
  return overrides ? overrides : base;
}

}  // namespace

bool read_property(YamlReader& reader, const MapEntry& entry, RawProperties& properties) {
  for (const auto& [name, read] : kProperties) {
    if (name != entry.key) continue;
    properties.keys.insert(entry.key);
    read(reader, entry, properties);
    return true;
  }
  return false;
}

void report_unexpected_key(YamlReader& reader, const MapEntry& entry,
                           const std::vector<std::string>& context_keys) {
  std::vector<std::string> candidates(context_keys);
  for (const auto& property : kProperties) candidates.emplace_back(property.first);
  reader.error(entry.key_node, "unknown key '" + entry.key + "'" + did_you_mean(entry.key, candidates));
}

RawProperties merge(const RawProperties& base, const RawProperties& overrides) {
  RawProperties m;
  const RawProperties& b = base;
  const RawProperties& o = overrides;
  m.name = pick(b.name, o.name);
  m.instance_name = pick(b.instance_name, o.instance_name);
  m.description = pick(b.description, o.description);
  m.process = pick(b.process, o.process);
  m.args = pick(b.args, o.args);
  m.foreground_process = pick(b.foreground_process, o.foreground_process);
  m.foreground_process_args = pick(b.foreground_process_args, o.foreground_process_args);
  m.foreground_process_extra_args = pick(b.foreground_process_extra_args, o.foreground_process_extra_args);
  m.daemon = pick(b.daemon, o.daemon);
  m.daemon_args = pick(b.daemon_args, o.daemon_args);
  m.daemon_extra_args = pick(b.daemon_extra_args, o.daemon_extra_args);
  m.pid_file = pick(b.pid_file, o.pid_file);
  m.initialize = pick(b.initialize, o.initialize);
  m.path = pick(b.path, o.path);
  m.environment = pick(b.environment, o.environment);
  m.directory = pick(b.directory, o.directory);
  m.umask = pick(b.umask, o.umask);
  m.nice = pick(b.nice, o.nice);
  m.rlimits = pick(b.rlimits, o.rlimits);
  m.user = pick(b.user, o.user);
  m.credentials = pick(b.credentials, o.credentials);
  m.dependencies = pick(b.dependencies, o.dependencies);
  m.overrides = pick(b.overrides, o.overrides);
  m.files = pick(b.files, o.files);
  m.autostart = pick(b.autostart, o.autostart);
  m.unique_id_pools = pick(b.unique_id_pools, o.unique_id_pools);
  m.type = pick(b.type, o.type);
  m.readiness = pick(b.readiness, o.readiness);
  m.start_timeout = pick(b.start_timeout, o.start_timeout);
  m.success_exit_codes = pick(b.success_exit_codes, o.success_exit_codes);
  m.liveness = pick(b.liveness, o.liveness);
  m.restart = pick(b.restart, o.restart);
  m.restart_delay = pick(b.restart_delay, o.restart_delay);
  m.max_restart_delay = pick(b.max_restart_delay, o.max_restart_delay);
  m.stable_after = pick(b.stable_after, o.stable_after);
  m.restart_limit = pick(b.restart_limit, o.restart_limit);
  m.stop_signal = pick(b.stop_signal, o.stop_signal);
  m.stop_timeout = pick(b.stop_timeout, o.stop_timeout);
  m.keys = b.keys;
  m.keys.insert(o.keys.begin(), o.keys.end());
  return m;
}

}  // namespace nixpm::config
