// systemd: one .service unit per instance plus nixpm.target, which wants every autostart unit. systemd
// carries nearly everything natively (types, ordering, environment, credentials through sysusers.d); the
// readiness checks it has no word for become ExecStartPost= polls, which delay dependents exactly as
// nixpmd's readiness does, because After= waits for ExecStartPost= to finish.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "config/managers/adapter_support.hpp"
#include "config/managers/adapters.hpp"
#include "config/managers/ini_document.hpp"

namespace nixpm::managers {
namespace {

using config::InstanceSpec;
using config::ProcessKind;
using config::ReadinessKind;
using config::RestartPolicy;
namespace s = support;

constexpr std::string_view kManager = "systemd";
constexpr std::string_view kTarget = "nixpm.target";
// systemd's own PATH for services, put after the `path` directories (Environment= cannot say "$PATH").
constexpr std::string_view kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const std::vector<PropertySupport>& systemd_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::supported, "Type=simple"},
      {"daemon", Support::supported, "Type=forking with PIDFile="},
      {"oneshot", Support::supported, "Type=oneshot with RemainAfterExit=yes"},
      {"environment", Support::supported, "Environment="},
      {"path", Support::supported, "Environment=PATH= with systemd's default directories after them"},
      {"directory", Support::supported, "WorkingDirectory="},
      {"umask", Support::supported, "UMask="},
      {"nice", Support::supported, "Nice="},
      {"rlimits", Support::supported, "LimitNOFILE= and the other Limit*= settings (soft:hard)"},
      {"user", Support::supported, "User= and Group= (system scope)"},
      {"credentials", Support::supported,
       "sysusers.d/<name>.conf (and tmpfiles.d/<name>.conf for createHomeDir)"},
      {"dependencies", Support::supported, "Wants= and After="},
      {"initialize", Support::supported, "ExecStartPre=/bin/sh -ec ..."},
      {"files", Support::emulated, "written by ExecStartPre=+/bin/sh (as root) before every start"},
      {"restart", Support::supported, "Restart=always or on-failure"},
      {"restartDelay", Support::supported, "RestartSec="},
      {"maxRestartDelay", Support::lost,
       "systemd 252 restarts after a fixed RestartSec= (RestartSteps= needs 254)"},
      {"stableAfter", Support::lost, "systemd has no backoff to reset"},
      {"restartLimit", Support::emulated,
       "StartLimitBurst= within StartLimitIntervalSec= (starts, not quick failures)"},
      {"stopSignal", Support::supported, "KillSignal="},
      {"stopTimeout", Support::supported, "TimeoutStopSec="},
      {"startTimeout", Support::supported, "TimeoutStartSec="},
      {"successExitCodes", Support::supported, "SuccessExitStatus="},
      {"readiness.pidFile", Support::emulated,
       "ExecStartPost= waits until the pid file names a live process"},
      {"readiness.tcp", Support::emulated, "ExecStartPost= polls the port (bash's /dev/tcp)"},
      {"readiness.command", Support::emulated, "ExecStartPost= runs the command until it succeeds"},
      {"readiness.notify", Support::supported, "Type=notify"},
      {"liveness", Support::lost,
       "systemd has no periodic health probe (WatchdogSec= needs the process's help)"},
      {"autostart", Support::supported, "left out of nixpm.target"},
  };
  return table;
}

// ---- quoting -------------------------------------------------------------------------------------

// `%` starts a specifier in almost every setting, so it is always doubled.
std::string escape_specifiers(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    escaped += c;
    if (c == '%') escaped += '%';
  }
  return escaped;
}

// One word of an Exec*= line or an Environment= assignment. Exec lines also expand $VAR, so there `$`
// is doubled; Environment= does not expand it. Anything beyond plain characters is double-quoted with
// C escapes, which systemd undoes (so newlines survive).
std::string systemd_word(std::string_view word, bool exec_line) {
  constexpr std::string_view kPlain =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-$";
  const bool plain = !word.empty() && word.find_first_not_of(kPlain) == std::string_view::npos;
  std::string out = plain ? "" : "\"";
  for (char c : word) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '%':
        out += "%%";
        break;
      case '$':
        out += exec_line ? "$$" : "$";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\x";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  if (!plain) out += '"';
  return out;
}

std::string exec_line(const std::vector<std::string>& argv, std::string_view prefix = "") {
  std::string line(prefix);
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) line += ' ';
    line += systemd_word(argv[i], true);
  }
  return line;
}

std::vector<std::string> argv_of(const std::string& executable, const std::vector<std::string>& arguments) {
  std::vector<std::string> argv{executable};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return argv;
}

// Unit names allow letters, digits and ":-_.\"; "@" would make the instance a template instance.
std::string unit_name(std::string_view instance) {
  std::string name;
  for (char c : instance) name += c == '@' ? std::string("\\x40") : std::string(1, c);
  return name + ".service";
}

// systemd moves PID files from the legacy /var/run to /run itself, with a warning; say it right away.
std::string pid_file_setting(const std::filesystem::path& path) {
  const std::string text = path.string();
  if (text.starts_with("/var/run/")) return text.substr(4);
  return text;
}

// ---- the unit ------------------------------------------------------------------------------------

void add_ordering(IniDocument& unit, const InstanceSpec& spec) {
  std::vector<std::string> units;
  for (const auto& name : s::dependency_names(spec)) units.push_back(unit_name(name));
  if (units.empty()) return;
  unit.add("Unit", "Wants", s::join(units, " "));
  unit.add("Unit", "After", s::join(units, " "));
}

void add_restart_limit(IniDocument& unit, const InstanceSpec& spec) {
  const auto& policy = spec.supervision;
  const auto used = s::used_properties(spec);
  if (std::find(used.begin(), used.end(), "restartLimit") == used.end()) return;
  // N quick failures each last at most stableAfter plus the delay before the next start.
  const double interval = policy.restart_limit * (policy.stable_after_seconds + policy.restart_delay_seconds);
  unit.add("Unit", "StartLimitIntervalSec", s::format_seconds(interval));
  unit.add("Unit", "StartLimitBurst", std::to_string(policy.restart_limit));
}

std::string service_type(const InstanceSpec& spec) {
  if (spec.supervision.type == config::ProcessType::oneshot) return "oneshot";
  if (spec.kind == ProcessKind::daemon) return "forking";
  if (spec.supervision.readiness.kind == ReadinessKind::notify) return "notify";
  return "simple";
}

void add_files(IniDocument& unit, const InstanceSpec& spec) {
  for (const auto& file : spec.files) {
    // "+": with full privileges, like nixpmd, which writes the files before dropping to `user`.
    unit.add("Service", "ExecStartPre",
             exec_line({"/bin/mkdir", "-p", file.path.parent_path().string()}, "+"));
    unit.add(
        "Service", "ExecStartPre",
        exec_line({"/bin/sh", "-c", "printf %s \"$1\" > \"$0\"", file.path.string(), file.content}, "+"));
  }
}

// The readiness checks systemd lacks, as polls after the start: units ordered After= this one wait for
// them, and TimeoutStartSec= bounds them.
void add_readiness_poll(IniDocument& unit, const InstanceSpec& spec, const GenerateOptions& options) {
  const auto& readiness = spec.supervision.readiness;
  if (spec.supervision.type == config::ProcessType::oneshot) return;
  switch (readiness.kind) {
    case ReadinessKind::tcp:
      unit.add(
          "Service", "ExecStartPost",
          exec_line({"/bin/bash", "-c", "until (exec 3<>\"/dev/tcp/$0/$1\") 2>/dev/null; do sleep 0.1; done",
                     readiness.host, std::to_string(readiness.port)}));
      break;
    case ReadinessKind::command: {
      std::vector<std::string> argv{"/bin/sh", "-c", "until \"$@\" >/dev/null 2>&1; do sleep 0.1; done",
                                    "readiness"};
      argv.insert(argv.end(), readiness.command.begin(), readiness.command.end());
      unit.add("Service", "ExecStartPost", exec_line(argv));
      break;
    }
    case ReadinessKind::pid_file:
      if (spec.kind == ProcessKind::daemon) break;  // Type=forking waits for PIDFile= itself
      unit.add("Service", "ExecStartPost",
               exec_line({"/bin/sh", "-c",
                          "until [ -s \"$0\" ] && kill -0 \"$(cat \"$0\")\" 2>/dev/null; do sleep 0.1; done",
                          s::pid_file(spec, options).string()}));
      break;
    case ReadinessKind::started:
    case ReadinessKind::notify:
      break;
  }
}

// "nofile" -> "LimitNOFILE": systemd names every setrlimit resource this way.
std::string limit_setting(const std::string& limit) {
  std::string setting = "Limit";
  for (char c : limit) setting += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return setting;
}

std::string limit_number(std::uint64_t value) {
  return value == config::kUnlimited ? "infinity" : std::to_string(value);
}

// Limit*= takes "soft:hard", or one value for both: a limit given only as soft or as hard gets it for both.
std::string limit_value(const config::ResourceLimit& limit) {
  const auto soft = limit.soft.value_or(*limit.hard);
  const auto hard = limit.hard.value_or(*limit.soft);
  return soft == hard ? limit_number(soft) : limit_number(soft) + ":" + limit_number(hard);
}

std::optional<Loss> half_limits(const InstanceSpec& spec) {
  std::vector<std::string> names;
  for (const auto& limit : spec.rlimits)
    if (!limit.soft || !limit.hard) names.push_back(limit.name);
  if (names.empty()) return std::nullopt;
  return Loss{spec.name, "rlimits", Support::emulated,
              s::join(names, ", ") + ": given only as soft or hard, set as both (Limit*= takes soft:hard)"};
}

std::string restart_setting(const InstanceSpec& spec) {
  switch (spec.supervision.restart) {
    case RestartPolicy::always:
      // systemd refuses Restart=always for a oneshot; restarting after a success would rerun it forever.
      return spec.supervision.type == config::ProcessType::oneshot ? "on-failure" : "always";
    case RestartPolicy::on_failure:
      return "on-failure";
    case RestartPolicy::never:
      return "no";
  }
  return "no";
}

std::string group_of(const InstanceSpec& spec) {
  for (const auto& user : spec.credentials.users)
    if (user.name == spec.user) return user.group;
  return {};
}

void add_service(IniDocument& unit, const InstanceSpec& spec, const GenerateOptions& options) {
  const auto& policy = spec.supervision;
  const std::string type = service_type(spec);
  unit.add("Service", "Type", type);
  if (type == "oneshot") unit.add("Service", "RemainAfterExit", "yes");
  if (type == "forking")
    unit.add("Service", "PIDFile", escape_specifiers(pid_file_setting(s::pid_file(spec, options))));
  // The directories nixpmd creates when it starts; "+": as root, like nixpmd in the system scope.
  std::vector<std::string> mkdir{"/bin/mkdir", "-p"};
  for (auto& dir : s::state_directories(options)) mkdir.push_back(std::move(dir));
  unit.add("Service", "ExecStartPre", exec_line(mkdir, "+"));
  add_files(unit, spec);
  if (!spec.initialize.empty())
    unit.add("Service", "ExecStartPre", exec_line({"/bin/sh", "-ec", spec.initialize}));
  if (spec.kind == ProcessKind::daemon)
    unit.add("Service", "ExecStart", exec_line(argv_of(spec.daemon_executable, spec.daemon_arguments)));
  else
    unit.add("Service", "ExecStart",
             exec_line(argv_of(spec.foreground_executable, spec.foreground_arguments)));
  add_readiness_poll(unit, spec, options);

  std::string path_base(kDefaultPath);
  for (const auto& [name, value] : spec.environment) {
    if (name == "PATH")
      path_base = value;  // nixpmd, too, puts `path` in front of a PATH given here
    else
      unit.add("Service", "Environment", systemd_word(name + "=" + value, false));
  }
  if (!spec.path.empty() || spec.environment.contains("PATH"))
    unit.add("Service", "Environment", systemd_word("PATH=" + s::path_variable(spec, path_base), false));
  if (s::switches_user(spec, options)) {
    unit.add("Service", "User", escape_specifiers(spec.user));
    if (const auto group = group_of(spec); !group.empty())
      unit.add("Service", "Group", escape_specifiers(group));
  }
  unit.add("Service", "WorkingDirectory", escape_specifiers(s::working_directory(spec, options).string()));
  if (spec.umask) unit.add("Service", "UMask", "0" + s::octal_umask(*spec.umask));
  if (spec.nice) unit.add("Service", "Nice", std::to_string(*spec.nice));
  for (const auto& limit : spec.rlimits) unit.add("Service", limit_setting(limit.name), limit_value(limit));

  unit.add("Service", "Restart", restart_setting(spec));
  if (policy.restart != RestartPolicy::never)
    unit.add("Service", "RestartSec", s::format_seconds(policy.restart_delay_seconds));
  std::vector<std::string> codes;
  for (int code : policy.success_exit_codes)
    if (code != 0) codes.push_back(std::to_string(code));
  if (!codes.empty()) unit.add("Service", "SuccessExitStatus", s::join(codes, " "));
  if (policy.stop_signal != SIGTERM)
    unit.add("Service", "KillSignal", "SIG" + s::signal_name(policy.stop_signal));
  unit.add("Service", "TimeoutStartSec", s::format_seconds(policy.start_timeout_seconds));
  unit.add("Service", "TimeoutStopSec", s::format_seconds(policy.stop_timeout_seconds));
}

// overrides.systemd = {Section: {Key: value | [values] | null}}: replaces (or, null, removes) the key.
void merge_overrides(IniDocument& unit, const InstanceSpec& spec) {
  for (const auto& [section, settings] : s::override_entries(spec, kManager)) {
    if (!settings->is_object())
      throw GenerateError("instance '" + spec.name + "': overrides.systemd." + section +
                          " must be a map of settings (e.g. {LimitNOFILE: 4096}), not " +
                          settings->type_name());
    for (const auto& [key, value] : settings->items()) {
      std::vector<std::string> values;
      if (value.is_array()) {
        for (const auto& item : value)
          values.push_back(s::override_scalar(spec, kManager, section + "." + key, item));
      } else if (!value.is_null()) {
        values.push_back(s::override_scalar(spec, kManager, section + "." + key, value));
      }
      unit.set(section, key, values);
    }
  }
}

std::string header() {
  return "# Generated by nixpm (nixpmctl generate --manager systemd); regenerate rather than edit.\n"
         "# Native settings belong in the definitions' overrides.systemd, which is merged last.\n";
}

OutputFile service_unit(const InstanceSpec& spec, const GenerateOptions& options) {
  IniDocument unit;
  unit.add("Unit", "Description", escape_specifiers(spec.description.empty() ? spec.name : spec.description));
  add_ordering(unit, spec);
  add_restart_limit(unit, spec);
  add_service(unit, spec, options);
  if (spec.autostart) unit.add("Install", "WantedBy", std::string(kTarget));
  merge_overrides(unit, spec);
  return OutputFile{unit_name(spec.name), header() + unit.render(), 0644};
}

OutputFile target_unit(const config::Definitions& definitions, const s::Ordering& ordering,
                       const GenerateOptions& options) {
  std::vector<std::string> wanted;
  for (std::size_t index : ordering.start_order)
    if (definitions.instances[index].autostart)
      wanted.push_back(unit_name(definitions.instances[index].name));
  IniDocument target;
  target.add("Unit", "Description", "nixpm: every instance that starts by default");
  if (!wanted.empty()) target.add("Unit", "Wants", s::join(wanted, " "));
  target.add("Install", "WantedBy", options.scope == Scope::system ? "multi-user.target" : "default.target");
  return OutputFile{std::string(kTarget), header() + target.render(), 0644};
}

// sysusers.d lines: "g name gid" and "u name uid:group "GECOS" home shell" ("-" for what is not given).
std::vector<OutputFile> credential_files(const InstanceSpec& spec) {
  std::string sysusers, tmpfiles;
  for (const auto& group : spec.credentials.groups)
    sysusers += "g " + group.name + " " + (group.gid ? std::to_string(*group.gid) : "-") + "\n";
  for (const auto& user : spec.credentials.users) {
    std::string id = user.uid ? std::to_string(*user.uid) : "-";
    if (!user.group.empty()) id += ":" + user.group;
    std::string gecos = user.description;
    std::replace(gecos.begin(), gecos.end(), '"', '\'');
    sysusers += "u " + user.name + " " + id + " \"" + gecos + "\" " +
                (user.home_dir.empty() ? "-" : user.home_dir) + " " +
                (user.shell.empty() ? "-" : user.shell) + "\n";
    if (user.create_home_dir && !user.home_dir.empty())
      tmpfiles += "d " + user.home_dir + " 0755 " + user.name + " " +
                  (user.group.empty() ? "-" : user.group) + " -\n";
  }
  std::vector<OutputFile> files;
  const std::string comment = "# Generated by nixpm for " + spec.name + "'s credentials.\n";
  if (!sysusers.empty()) files.push_back({"sysusers.d/" + spec.name + ".conf", comment + sysusers, 0644});
  if (!tmpfiles.empty()) files.push_back({"tmpfiles.d/" + spec.name + ".conf", comment + tmpfiles, 0644});
  return files;
}

class SystemdAdapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "systemd .service units (system or --user) and nixpm.target";
  }
  const std::vector<PropertySupport>& capabilities() const override { return systemd_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    Generated generated;
    const auto ordering = s::dependency_order(definitions);
    for (std::size_t index : ordering.start_order) {
      const auto& spec = definitions.instances[index];
      generated.files.push_back(service_unit(spec, options));
      if (options.scope == Scope::system)
        for (auto& file : credential_files(spec)) generated.files.push_back(std::move(file));
      generated.start_order.push_back(unit_name(spec.name));
    }
    generated.files.push_back(target_unit(definitions, ordering, options));
    generated.losses = s::losses_for(definitions, capabilities(), options, half_limits);
    for (const auto& spec : definitions.instances)
      if (spec.supervision.type == config::ProcessType::oneshot &&
          spec.supervision.restart == RestartPolicy::always)
        generated.losses.push_back({spec.name, "restart", Support::emulated,
                                    "systemd restarts a oneshot only on failure (Restart=on-failure)"});
    return generated;
  }
};

}  // namespace

const ManagerAdapter& systemd_adapter() {
  static const SystemdAdapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
