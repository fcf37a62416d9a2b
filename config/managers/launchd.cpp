// launchd: one property list per instance, org.nixpm.<name>.plist, under LaunchDaemons/ (system scope,
// for /Library/LaunchDaemons) or LaunchAgents/ (user scope, for ~/Library/LaunchAgents). launchd
// carries the process settings natively; it has no dependency ordering and no readiness, which the loss
// report says. What it cannot express about starting and stopping (files, a forking daemon, another stop
// signal, other success codes) goes into a /bin/sh -c wrapper in ProgramArguments, with the program's
// own argv after it, so the plist stays self-contained.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "config/managers/adapter_support.hpp"
#include "config/managers/adapters.hpp"
#include "config/managers/property_list.hpp"
#include "config/managers/shell_steps.hpp"

namespace nixpm::managers {
namespace {

namespace s = support;
using config::InstanceSpec;
using config::RestartPolicy;
using nlohmann::ordered_json;

constexpr std::string_view kManager = "launchd";
// launchd's own PATH for jobs, put after the `path` directories (EnvironmentVariables cannot say "$PATH").
constexpr std::string_view kDefaultPath = "/usr/bin:/bin:/usr/sbin:/sbin";

const std::vector<PropertySupport>& launchd_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::supported, "ProgramArguments"},
      {"daemon", Support::emulated,
       "a /bin/sh wrapper starts it and stays while its pid file's process lives (launchd needs the "
       "foreground)"},
      {"oneshot", Support::supported,
       "RunAtLoad without KeepAlive, or KeepAlive SuccessfulExit=false to retry a failure"},
      {"environment", Support::supported, "EnvironmentVariables"},
      {"path", Support::supported,
       "PATH in EnvironmentVariables, launchd's /usr/bin:/bin:/usr/sbin:/sbin after the directories"},
      {"directory", Support::supported, "WorkingDirectory"},
      {"umask", Support::supported, "Umask"},
      {"nice", Support::supported, "Nice"},
      {"rlimits", Support::supported, "SoftResourceLimits and HardResourceLimits"},
      {"user", Support::supported, "UserName (daemons; an agent runs as its user)"},
      {"credentials", Support::lost, "launchd creates no accounts (use dscl or sysadminctl)"},
      {"dependencies", Support::lost,
       "launchd has no dependency ordering: every job starts when it is loaded"},
      {"initialize", Support::emulated,
       "/bin/sh -ec in ProgramArguments, which then execs the program (as UserName, not root)"},
      {"files", Support::emulated, "written by a /bin/sh wrapper in ProgramArguments before every start"},
      {"restart", Support::supported, "KeepAlive: true for always, SuccessfulExit=false for on-failure"},
      {"restartDelay", Support::supported, "ThrottleInterval (whole seconds)"},
      {"maxRestartDelay", Support::lost, "launchd respawns at a fixed ThrottleInterval, without backoff"},
      {"stableAfter", Support::lost, "launchd has no backoff to reset"},
      {"restartLimit", Support::lost, "launchd keeps respawning a failing job"},
      {"stopSignal", Support::emulated,
       "a /bin/sh wrapper turns launchd's SIGTERM into it (sh starts the program with SIGINT and SIGQUIT "
       "ignored: for those, the program must set its own handler, as nginx does)"},
      {"stopTimeout", Support::supported, "ExitTimeOut (whole seconds)"},
      {"startTimeout", Support::lost, "launchd has no readiness to wait for"},
      {"successExitCodes", Support::emulated,
       "a /bin/sh wrapper exits 0 for them (SuccessfulExit knows only 0)"},
      {"readiness.pidFile", Support::lost, "launchd has no readiness (and orders no dependents)"},
      {"readiness.tcp", Support::lost, "launchd has no readiness (and orders no dependents)"},
      {"readiness.command", Support::lost, "launchd has no readiness (and orders no dependents)"},
      {"readiness.notify", Support::lost, "launchd has no readiness (and orders no dependents)"},
      {"liveness", Support::lost, "launchd has no health probe"},
      {"autostart", Support::supported,
       "RunAtLoad false and Disabled true (launchctl enable, then kickstart)"},
  };
  return table;
}

std::string label(const InstanceSpec& spec) {
  return "org.nixpm." + spec.name;
}

bool is_oneshot(const InstanceSpec& spec) {
  return spec.supervision.type == config::ProcessType::oneshot;
}
bool is_daemon(const InstanceSpec& spec) {
  return !is_oneshot(spec) && spec.kind == config::ProcessKind::daemon;
}

long whole_seconds(double seconds) {
  return std::max(1L, std::lround(std::ceil(seconds)));
}

// The sh text of the wrapper, or "" when ProgramArguments can be the program itself. The program's argv
// follows the script as "$@" ($0 is the label).
std::string wrapper_script(const InstanceSpec& spec, const GenerateOptions& options) {
  const auto& policy = spec.supervision;
  const bool translate = policy.stop_signal != SIGTERM || policy.success_exit_codes != std::vector<int>{0};
  if (spec.files.empty() && !is_daemon(spec) && !translate) return {};
  std::string script =
      "# " + spec.name + ": the /bin/sh wrapper nixpm generated; the program's argv follows as \"$@\".\n";
  script += s::write_files_script(spec, "");
  if (is_daemon(spec)) {
    shell::DaemonProxy proxy;
    proxy.start_command = "\"$@\"";
    proxy.pid_file = s::pid_file(spec, options).string();
    proxy.start_timeout_seconds = policy.start_timeout_seconds;
    proxy.stop_signal = policy.stop_signal;
    script += shell::daemon_proxy(proxy);
  } else if (translate) {
    script += shell::translating_parent("\"$@\"", policy.stop_signal, policy.success_exit_codes);
  } else {
    script += "exec \"$@\"\n";
  }
  return script;
}

ordered_json program_arguments(const InstanceSpec& spec, const GenerateOptions& options) {
  const auto program = shell::program_argv(spec);
  const std::string script = wrapper_script(spec, options);
  ordered_json arguments = ordered_json::array();
  if (!script.empty()) arguments.insert(arguments.end(), {"/bin/sh", "-c", script, label(spec)});
  for (const auto& word : program) arguments.push_back(word);
  return arguments;
}

void add_environment(ordered_json& job, const InstanceSpec& spec) {
  ordered_json variables = ordered_json::object();
  for (const auto& [name, value] : spec.environment) variables[name] = value;
  if (!spec.path.empty()) {
    const std::string base =
        spec.environment.contains("PATH") ? spec.environment.at("PATH") : std::string(kDefaultPath);
    variables["PATH"] = s::path_variable(spec, base);
  }
  if (!variables.empty()) job["EnvironmentVariables"] = variables;
}

void add_restart(ordered_json& job, const InstanceSpec& spec) {
  const auto& policy = spec.supervision;
  if (policy.restart == RestartPolicy::never) return;
  // A oneshot that succeeded is done; under `always` too, launchd reruns only its failures.
  if (policy.restart == RestartPolicy::always && !is_oneshot(spec)) {
    job["KeepAlive"] = true;
  } else {
    job["KeepAlive"] = ordered_json{{"SuccessfulExit", false}};
  }
  job["ThrottleInterval"] = whole_seconds(policy.restart_delay_seconds);
}

// launchd's key for each limit it has one for (launchd.plist(5)); the others are reported lost.
constexpr std::pair<std::string_view, std::string_view> kLimitKeys[] = {
    {"core", "Core"},          {"cpu", "CPU"},   {"data", "Data"},   {"fsize", "FileSize"},
    {"memlock", "MemoryLock"}, {"nofile", "NumberOfFiles"},           {"nproc", "NumberOfProcesses"},
    {"rss", "ResidentSetSize"}, {"stack", "Stack"},
};

std::string_view limit_key(std::string_view limit) {
  for (const auto& [name, key] : kLimitKeys)
    if (name == limit) return key;
  return {};
}

// RLIM_INFINITY on macOS: launchd takes "no limit" as this number.
constexpr std::uint64_t kMacUnlimited = (std::uint64_t{1} << 63) - 1;

void add_limits(ordered_json& job, const InstanceSpec& spec) {
  ordered_json soft = ordered_json::object(), hard = ordered_json::object();
  for (const auto& limit : spec.rlimits) {
    const auto key = std::string(limit_key(limit.name));
    if (key.empty()) continue;
    if (limit.soft) soft[key] = std::min(*limit.soft, kMacUnlimited);
    if (limit.hard) hard[key] = std::min(*limit.hard, kMacUnlimited);
  }
  if (!soft.empty()) job["SoftResourceLimits"] = soft;
  if (!hard.empty()) job["HardResourceLimits"] = hard;
}

std::optional<Loss> limits_without_key(const InstanceSpec& spec) {
  std::vector<std::string_view> carried;
  for (const auto& [name, key] : kLimitKeys) carried.push_back(name);
  const auto names = s::uncarried_limits(spec, carried);
  if (names.empty()) return std::nullopt;
  return Loss{spec.name, "rlimits", Support::lost, "not set: " + names + " (launchd has no key for it)"};
}

ordered_json job_of(const InstanceSpec& spec, const GenerateOptions& options) {
  ordered_json job = ordered_json::object();
  job["Label"] = label(spec);
  job["ProgramArguments"] = program_arguments(spec, options);
  add_environment(job, spec);
  job["WorkingDirectory"] = s::working_directory(spec, options).string();
  if (s::switches_user(spec, options)) job["UserName"] = spec.user;
  if (spec.umask) job["Umask"] = *spec.umask;  // launchd takes the mask as a (decimal) integer
  if (spec.nice) job["Nice"] = *spec.nice;
  add_limits(job, spec);
  job["RunAtLoad"] = spec.autostart;
  // KeepAlive starts a job at load whatever RunAtLoad says; Disabled keeps launchctl from loading it.
  if (!spec.autostart) job["Disabled"] = true;
  add_restart(job, spec);
  job["ExitTimeOut"] = whole_seconds(spec.supervision.stop_timeout_seconds);
  const std::string log = s::log_file(spec, options).string();
  job["StandardOutPath"] = log;
  job["StandardErrorPath"] = log;
  return job;
}

// overrides.launchd = {Key: value}: merged into the job last (maps key by key, null removes a key).
void merge_overrides(ordered_json& job, const InstanceSpec& spec) {
  const nlohmann::json* overrides = s::overrides_for(spec, kManager);
  if (overrides == nullptr || overrides->is_null()) return;
  if (!overrides->is_object())
    throw GenerateError("instance '" + spec.name +
                        "': overrides.launchd must be a map of plist keys (e.g. "
                        "{ProcessType: Background}), not " +
                        overrides->type_name());
  plist::merge(job, *overrides);
}

class LaunchdAdapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "launchd property lists: LaunchDaemons (system) or LaunchAgents (user), one job per instance";
  }
  const std::vector<PropertySupport>& capabilities() const override { return launchd_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    Generated generated;
    const std::string dir = options.scope == Scope::system ? "LaunchDaemons" : "LaunchAgents";
    for (std::size_t index : s::dependency_order(definitions).start_order) {
      const auto& spec = definitions.instances[index];
      auto job = job_of(spec, options);
      merge_overrides(job, spec);
      generated.files.push_back(
          {dir + "/" + label(spec) + ".plist", plist::document(job, "instance '" + spec.name + "'"), 0644});
      generated.start_order.push_back(label(spec));
    }
    generated.losses = s::losses_for(definitions, capabilities(), options, limits_without_key);
    return generated;
  }
};

}  // namespace

const ManagerAdapter& launchd_adapter() {
  static const LaunchdAdapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
