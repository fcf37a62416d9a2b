#include "config/properties.hpp"

#include <array>
#include <climits>
#include <string_view>
#include <utility>

#include "common/signal_names.hpp"
#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

using Reader = void (*)(YamlReader&, const MapEntry&, RawProperties&);

std::optional<At<double>> seconds(YamlReader& reader, const MapEntry& entry, bool zero_allowed) {
  auto value = reader.number(entry);
  if (!value) return std::nullopt;
  if (zero_allowed ? value->value < 0 : value->value <= 0) {
    reader.error(value->position, "'" + entry.key + "' must be " +
                                      (zero_allowed ? "at least 0" : "greater than 0") + " seconds, not " +
                                      entry.value.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<At<RestartPolicy>> restart_policy(YamlReader& reader, const MapEntry& entry) {
  auto text = reader.string(entry);
  if (!text) return std::nullopt;
  if (text->value == "always") return At<RestartPolicy>{RestartPolicy::always, text->position};
  if (text->value == "on-failure") return At<RestartPolicy>{RestartPolicy::on_failure, text->position};
  if (text->value == "never") return At<RestartPolicy>{RestartPolicy::never, text->position};
  reader.error(text->position, "'restart' must be always, on-failure or never, not '" + text->value + "'");
  return std::nullopt;
}

std::optional<At<int>> restart_limit(YamlReader& reader, const MapEntry& entry) {
  auto value = reader.integer(entry);
  if (!value) return std::nullopt;
  if (value->value < 1 || value->value > INT_MAX) {
    reader.error(value->position, "'restartLimit' must be at least 1, not " + entry.value.Scalar());
    return std::nullopt;
  }
  return At<int>{static_cast<int>(value->value), value->position};
}

std::optional<At<int>> stop_signal(YamlReader& reader, const MapEntry& entry) {
  auto text = reader.string(entry);
  if (!text) return std::nullopt;
  if (auto number = parse_signal(text->value)) return At<int>{*number, text->position};
  reader.error(
      text->position,
      "'stopSignal' must be a signal name such as TERM or SIGTERM, or a number, not '" + text->value + "'");
  return std::nullopt;
}

// The property keys in the order the documentation lists them; suggestions prefer earlier ones.
const std::array<std::pair<std::string_view, Reader>, 18> kProperties{{
    {"description", [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.description = r.string(e); }},
    {"process", [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.process = r.string(e); }},
    {"args", [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.args = r.string_list(e); }},
    {"foregroundProcess",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.foreground_process = r.string(e); }},
    {"foregroundProcessArgs", [](YamlReader& r, const MapEntry& e,
                                 RawProperties& p) { p.foreground_process_args = r.string_list(e); }},
    {"foregroundProcessExtraArgs",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) {
       p.foreground_process_extra_args = r.string_list(e);
     }},
    {"environment",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.environment = r.string_map(e); }},
    {"directory", [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.directory = r.string(e); }},
    {"dependencies",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.dependencies = r.string_list(e); }},
    {"files", [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.files = r.string_map(e); }},
    {"autostart", [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.autostart = r.boolean(e); }},
    {"restart", [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.restart = restart_policy(r, e); }},
    {"restartDelay",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.restart_delay = seconds(r, e, false); }},
    {"maxRestartDelay",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.max_restart_delay = seconds(r, e, false); }},
    {"stableAfter",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.stable_after = seconds(r, e, true); }},
    {"restartLimit",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.restart_limit = restart_limit(r, e); }},
    {"stopSignal",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.stop_signal = stop_signal(r, e); }},
    {"stopTimeout",
     [](YamlReader& r, const MapEntry& e, RawProperties& p) { p.stop_timeout = seconds(r, e, true); }},
}};

// createManagedProcess keys that nixpm recognises but does not implement yet.
const std::array<std::string_view, 13> kNotYetSupported{
    "name", "instanceName", "daemon", "daemonArgs", "daemonExtraArgs", "pidFile",   "initialize",
    "path", "umask",        "nice",   "user",       "credentials",     "overrides",
};

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
  for (auto name : kNotYetSupported) {
    if (name == entry.key) {
      reader.error(entry.key_node, "'" + entry.key + "' is not supported yet");
      return;
    }
  }
  std::vector<std::string> candidates(context_keys);
  for (const auto& property : kProperties) candidates.emplace_back(property.first);
  for (auto name : kNotYetSupported) candidates.emplace_back(name);
  reader.error(entry.key_node, "unknown key '" + entry.key + "'" + did_you_mean(entry.key, candidates));
}

RawProperties merge(const RawProperties& base, const RawProperties& overrides) {
  RawProperties merged;
  merged.description = pick(base.description, overrides.description);
  merged.process = pick(base.process, overrides.process);
  merged.args = pick(base.args, overrides.args);
  merged.foreground_process = pick(base.foreground_process, overrides.foreground_process);
  merged.foreground_process_args = pick(base.foreground_process_args, overrides.foreground_process_args);
  merged.foreground_process_extra_args =
      pick(base.foreground_process_extra_args, overrides.foreground_process_extra_args);
  merged.environment = pick(base.environment, overrides.environment);
  merged.directory = pick(base.directory, overrides.directory);
  merged.dependencies = pick(base.dependencies, overrides.dependencies);
  merged.files = pick(base.files, overrides.files);
  merged.autostart = pick(base.autostart, overrides.autostart);
  merged.restart = pick(base.restart, overrides.restart);
  merged.restart_delay = pick(base.restart_delay, overrides.restart_delay);
  merged.max_restart_delay = pick(base.max_restart_delay, overrides.max_restart_delay);
  merged.stable_after = pick(base.stable_after, overrides.stable_after);
  merged.restart_limit = pick(base.restart_limit, overrides.restart_limit);
  merged.stop_signal = pick(base.stop_signal, overrides.stop_signal);
  merged.stop_timeout = pick(base.stop_timeout, overrides.stop_timeout);
  merged.keys = base.keys;
  merged.keys.insert(overrides.keys.begin(), overrides.keys.end());
  return merged;
}

}  // namespace nixpm::config
