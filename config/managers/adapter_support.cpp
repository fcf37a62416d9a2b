#include "config/managers/adapter_support.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "common/signal_names.hpp"
#include "config/dependency_graph.hpp"

namespace nixpm::managers::support {

// ---- shell ---------------------------------------------------------------------------------------

std::string shell_quote(std::string_view word) {
  // Characters no POSIX shell gives a meaning to, anywhere in a word (`=` only matters before a command).
  constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-";
  const bool plain = !word.empty() && word.find_first_not_of(kPlain) == std::string_view::npos;
  if (plain) return std::string(word);
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string shell_command(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& word : argv) {
    if (!line.empty()) line += ' ';
    line += shell_quote(word);
  }
  return line;
}

namespace {
std::string command_of(const std::string& executable, const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{executable};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return shell_command(argv);
}
}  // namespace

std::string foreground_command(const config::InstanceSpec& spec) {
  return command_of(spec.foreground_executable, spec.foreground_arguments);
}

std::string daemon_command(const config::InstanceSpec& spec) {
  return command_of(spec.daemon_executable, spec.daemon_arguments);
}

std::string write_files_script(const config::InstanceSpec& spec, std::string_view indent) {
  std::string script;
  for (const auto& file : spec.files) {
    const std::string indentation(indent);
    script += indentation + "mkdir -p " + shell_quote(file.path.parent_path().string()) + '\n';
    // printf '%s' keeps the content byte for byte (a here-document would add a final newline).
    script += indentation + "printf '%s' " + shell_quote(file.content) + " > " +
              shell_quote(file.path.string()) + '\n';
  }
  return script;
}

std::string fill_template(std::string_view text,
                          const std::vector<std::pair<std::string_view, std::string>>& values) {
  std::string filled(text);
  for (const auto& [key, value] : values) {
    const std::string marker = "@" + std::string(key) + "@";
    for (auto at = filled.find(marker); at != std::string::npos; at = filled.find(marker, at + value.size()))
      filled.replace(at, marker.size(), value);
  }
  return filled;
}

std::string wait_until_body(std::string_view condition, double timeout_seconds, std::string_view who) {
  constexpr std::string_view kBody = R"(	tries=0
	until @CONDITION@; do
		tries=$((tries + 1))
		if [ "$tries" -gt @TRIES@ ]; then
			echo "@WHO@: not ready after @SECONDS@ s" >&2
			return 1
		fi
		sleep 0.1
	done
)";
  const int tries = std::max(1, static_cast<int>(timeout_seconds * 10));
  return fill_template(kBody, {{"CONDITION", std::string(condition)},
                               {"TRIES", std::to_string(tries)},
                               {"WHO", std::string(who)},
                               {"SECONDS", format_seconds(timeout_seconds)}});
}

bool is_shell_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

std::vector<std::string> env_prefix(const config::InstanceSpec& spec) {
  std::vector<std::string> prefix;
  for (const auto& [name, value] : spec.environment)
    if (!is_shell_name(name)) prefix.push_back(name + "=" + value);
  if (!prefix.empty()) prefix.insert(prefix.begin(), "/usr/bin/env");
  return prefix;
}

std::string shellcheck_directive(std::string_view more_codes) {
  std::string codes = "SC2016";
  if (!more_codes.empty()) codes += "," + std::string(more_codes);
  return "# shellcheck disable=" + codes + " # arguments are single-quoted so that nothing in them expands\n";
}

std::string path_variable(const config::InstanceSpec& spec, std::string_view rest) {
  std::string value;
  for (const auto& dir : spec.path) value += dir + ":";
  return value + std::string(rest);
}

std::string octal_umask(int umask) {
  char text[8];
  std::snprintf(text, sizeof text, "%03o", static_cast<unsigned>(umask) & 07777u);
  return text;
}

// ---- dependency order ----------------------------------------------------------------------------

Ordering dependency_order(const config::Definitions& definitions) {
  const config::DependencyGraph graph(definitions);
  Ordering ordering;
  ordering.depth.assign(graph.size(), 0);
  const auto levels = graph.start_levels();
  for (std::size_t level = 0; level < levels.size(); ++level) {
    for (std::size_t index : levels[level]) {
      ordering.start_order.push_back(index);
      ordering.depth[index] = static_cast<int>(level);
    }
  }
  ordering.max_depth = levels.empty() ? 0 : static_cast<int>(levels.size()) - 1;
  return ordering;
}

std::vector<std::string> dependency_names(const config::InstanceSpec& spec) {
  std::vector<std::string> names;
  for (const auto& dependency : spec.dependencies)
    if (std::find(names.begin(), names.end(), dependency.name) == names.end())
      names.push_back(dependency.name);
  return names;
}

// ---- properties, capabilities and losses ---------------------------------------------------------

const std::vector<PropertyInfo>& property_catalogue() {
  static const std::vector<PropertyInfo> catalogue{
      {"foregroundProcess", "a process that stays in the foreground (`process` or `foregroundProcess`)"},
      {"daemon", "a forking daemon tracked by its `pidFile` (only `daemon` given)"},
      {"oneshot", "`type: oneshot`: runs to completion; dependents wait for its success"},
      {"environment", "environment variables"},
      {"path", "directories put in front of PATH"},
      {"directory", "working directory"},
      {"umask", "file mode creation mask"},
      {"nice", "scheduling priority"},
      {"rlimits", "resource limits (setrlimit) set before the program starts"},
      {"user", "run as another user (system scope)"},
      {"credentials", "groups and users created when missing (system scope)"},
      {"dependencies", "start after the dependencies are ready, stop before them"},
      {"initialize", "shell text run before every start"},
      {"files", "configuration files written before every start"},
      {"restart", "restart policy `always` or `on-failure`"},
      {"restartDelay", "the wait before a restart (when not 1 s)"},
      {"maxRestartDelay", "exponential backoff up to this delay (when not the default)"},
      {"stableAfter", "a run this long resets the backoff (when not 10 s)"},
      {"restartLimit", "quick failures before giving up (when not 5)"},
      {"stopSignal", "the signal that stops the process (when not TERM)"},
      {"stopTimeout", "the wait before SIGKILL (when not 10 s)"},
      {"startTimeout", "the longest wait for readiness (when not 60 s)"},
      {"successExitCodes", "exit codes that are not failures (when not just 0)"},
      {"readiness.pidFile", "ready once a foreground process's pid file names it"},
      {"readiness.tcp", "ready once a TCP port accepts connections"},
      {"readiness.command", "ready once a command succeeds"},
      {"readiness.notify", "ready once the process sends READY=1 (sd_notify)"},
      {"liveness", "a periodic health probe"},
      {"autostart", "`autostart: false`: defined but not started with the others"},
  };
  return catalogue;
}

std::vector<std::string> used_properties(const config::InstanceSpec& spec) {
  const config::SupervisionPolicy defaults;
  const auto& policy = spec.supervision;
  const bool oneshot = policy.type == config::ProcessType::oneshot;
  const bool restarts = policy.restart != config::RestartPolicy::never;
  const double default_max_delay = std::max(defaults.max_restart_delay_seconds, policy.restart_delay_seconds);
  const auto readiness = policy.readiness.kind;

  std::set<std::string_view> used;
  if (oneshot)
    used.insert("oneshot");
  else if (spec.kind == config::ProcessKind::daemon)
    used.insert("daemon");
  else
    used.insert("foregroundProcess");
  if (!spec.environment.empty()) used.insert("environment");
  if (!spec.path.empty()) used.insert("path");
  if (!spec.directory.empty()) used.insert("directory");
  if (spec.umask) used.insert("umask");
  if (spec.nice) used.insert("nice");
  if (!spec.rlimits.empty()) used.insert("rlimits");
  if (!spec.user.empty()) used.insert("user");
  if (!spec.credentials.groups.empty() || !spec.credentials.users.empty()) used.insert("credentials");
  if (!spec.dependencies.empty()) used.insert("dependencies");
  if (!spec.initialize.empty()) used.insert("initialize");
  if (!spec.files.empty()) used.insert("files");
  if (restarts) used.insert("restart");
  if (restarts && policy.restart_delay_seconds != defaults.restart_delay_seconds) used.insert("restartDelay");
  if (restarts && policy.max_restart_delay_seconds != default_max_delay) used.insert("maxRestartDelay");
  if (restarts && policy.stable_after_seconds != defaults.stable_after_seconds) used.insert("stableAfter");
  if (restarts && policy.restart_limit != defaults.restart_limit) used.insert("restartLimit");
  if (policy.stop_signal != defaults.stop_signal) used.insert("stopSignal");
  if (policy.stop_timeout_seconds != defaults.stop_timeout_seconds) used.insert("stopTimeout");
  if (policy.start_timeout_seconds != defaults.start_timeout_seconds) used.insert("startTimeout");
  if (policy.success_exit_codes != defaults.success_exit_codes) used.insert("successExitCodes");
  // A daemon is ready by its pid file anyway: that is part of `daemon`, not an extra readiness check.
  if (readiness == config::ReadinessKind::pid_file && spec.kind != config::ProcessKind::daemon)
    used.insert("readiness.pidFile");
  if (readiness == config::ReadinessKind::tcp) used.insert("readiness.tcp");
  if (readiness == config::ReadinessKind::command) used.insert("readiness.command");
  if (readiness == config::ReadinessKind::notify) used.insert("readiness.notify");
  if (policy.liveness) used.insert("liveness");
  if (!spec.autostart) used.insert("autostart");

  std::vector<std::string> in_order;
  for (const auto& property : property_catalogue())
    if (used.contains(property.name)) in_order.emplace_back(property.name);
  return in_order;
}

std::vector<PropertySupport> with_row(std::vector<PropertySupport> capabilities, std::string_view property,
                                      Support support, std::string_view note) {
  for (auto& row : capabilities)
    if (row.property == property) row = PropertySupport{row.property, support, note};
  return capabilities;
}

bool switches_user(const config::InstanceSpec& spec, const GenerateOptions& options) {
  return options.scope == Scope::system && !spec.user.empty();
}

std::vector<Loss> losses_for(const config::InstanceSpec& spec,
                             const std::vector<PropertySupport>& capabilities,
                             const GenerateOptions& options, LimitCheck limit_check) {
  std::vector<Loss> losses;
  for (const auto& property : used_properties(spec)) {
    if (options.scope == Scope::user && (property == "user" || property == "credentials")) {
      losses.push_back({spec.name, property, Support::lost,
                        "user scope: everything runs as the user who runs the manager"});
      continue;
    }
    if (property == "rlimits" && limit_check != nullptr) {
      if (auto loss = limit_check(spec)) {
        losses.push_back(std::move(*loss));
        continue;
      }
    }
    const auto row = std::find_if(capabilities.begin(), capabilities.end(),
                                  [&](const PropertySupport& entry) { return entry.property == property; });
    if (row == capabilities.end()) {
      // Every adapter declares every property (a unit test holds them to it); never drop one silently.
      losses.push_back({spec.name, property, Support::lost, "not declared by this adapter"});
    } else if (row->support != Support::supported) {
      losses.push_back({spec.name, property, row->support, std::string(row->note)});
    }
  }
  return losses;
}

std::vector<Loss> losses_for(const config::Definitions& definitions,
                             const std::vector<PropertySupport>& capabilities,
                             const GenerateOptions& options, LimitCheck limit_check) {
  std::vector<Loss> losses;
  for (const auto& spec : definitions.instances) {
    auto more = losses_for(spec, capabilities, options, limit_check);
    losses.insert(losses.end(), more.begin(), more.end());
  }
  return losses;
}

std::string uncarried_limits(const config::InstanceSpec& spec, const std::vector<std::string_view>& carried) {
  std::vector<std::string> names;
  for (const auto& limit : spec.rlimits)
    if (std::find(carried.begin(), carried.end(), limit.name) == carried.end()) names.push_back(limit.name);
  return join(names, ", ");
}

// ---- paths ---------------------------------------------------------------------------------------

std::filesystem::path runtime_dir(const GenerateOptions& options) {
  return options.runtime_dir.empty() ? options.state_dir / "run" : options.runtime_dir;
}

std::filesystem::path log_dir(const GenerateOptions& options) {
  return options.log_dir.empty() ? options.state_dir / "log" : options.log_dir;
}

std::vector<std::string> state_directories(const GenerateOptions& options) {
  const auto or_default = [&](const std::filesystem::path& given, const char* name) {
    return (given.empty() ? options.state_dir / name : given).string();
  };
  std::vector<std::string> dirs{options.state_dir.string(),         runtime_dir(options).string(),
                                log_dir(options).string(),          or_default(options.tmp_dir, "tmp"),
                                or_default(options.lib_dir, "lib"), or_default(options.cache_dir, "cache")};
  std::vector<std::string> unique;
  for (auto& dir : dirs)
    if (std::find(unique.begin(), unique.end(), dir) == unique.end()) unique.push_back(std::move(dir));
  return unique;
}

std::filesystem::path pid_file(const config::InstanceSpec& spec, const GenerateOptions& options) {
  if (!spec.pid_file.empty()) return spec.pid_file;
  return runtime_dir(options) / (spec.name + ".pid");
}

std::filesystem::path tracking_pid_file(const config::InstanceSpec& spec, const GenerateOptions& options,
                                        std::string_view manager) {
  const auto conventional = runtime_dir(options) / (spec.name + ".pid");
  if (!spec.pid_file.empty() && std::filesystem::path(spec.pid_file) == conventional)
    return runtime_dir(options) / (spec.name + "." + std::string(manager) + ".pid");
  return conventional;
}

std::filesystem::path log_file(const config::InstanceSpec& spec, const GenerateOptions& options) {
  return log_dir(options) / (spec.name + ".log");
}

std::filesystem::path working_directory(const config::InstanceSpec& spec, const GenerateOptions& options) {
  return spec.directory.empty() ? options.state_dir : std::filesystem::path(spec.directory);
}

// ---- overrides -----------------------------------------------------------------------------------

const nlohmann::json* overrides_for(const config::InstanceSpec& spec, std::string_view manager) {
  const auto found = spec.overrides.find(std::string(manager));
  return found == spec.overrides.end() ? nullptr : &found->second;
}

std::vector<std::pair<std::string, const nlohmann::json*>> override_entries(const config::InstanceSpec& spec,
                                                                            std::string_view manager) {
  std::vector<std::pair<std::string, const nlohmann::json*>> entries;
  const nlohmann::json* value = overrides_for(spec, manager);
  if (value == nullptr || value->is_null()) return entries;
  if (!value->is_object())
    throw GenerateError("instance '" + spec.name + "': overrides." + std::string(manager) +
                        " must be a map of settings, not " + value->type_name());
  for (const auto& [key, entry] : value->items()) entries.emplace_back(key, &entry);
  return entries;
}

std::string override_scalar(const config::InstanceSpec& spec, std::string_view manager, std::string_view key,
                            const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  throw GenerateError("instance '" + spec.name + "': overrides." + std::string(manager) + "." +
                      std::string(key) + " must be a string, a number or a boolean, not " +
                      value.type_name());
}

// ---- text ----------------------------------------------------------------------------------------

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

std::string format_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", seconds);
  return text;
}

std::string signal_name(int signal) {
  std::string name = nixpm::signal_name(signal);
  if (name.starts_with("SIG")) return name.substr(3);
  return std::to_string(signal);
}

}  // namespace nixpm::managers::support
