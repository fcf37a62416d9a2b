// bsdrc: FreeBSD rc.d scripts (rc.d/<name>), ordered by rcorder(8) through `# PROVIDE:` and `# REQUIRE:`,
// built on rc.subr(8). A foreground process runs under daemon(8), which puts it in the background, writes
// its pid file, appends its output to the log and, with -r, restarts it; a forking daemon is started as
// rc.d scripts always start daemons. `start` waits for the instance's readiness (start_postcmd), so the
// next script in rcorder finds it ready.
//
// rc.d names must be shell variable names (name_enable=...): other characters become "_".

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "config/managers/adapter_support.hpp"
#include "config/managers/adapters.hpp"
#include "config/managers/shell_steps.hpp"

namespace nixpm::managers {
namespace {

using config::InstanceSpec;
using config::ProcessKind;
using config::ProcessType;
using config::ReadinessKind;
using config::RestartPolicy;
namespace s = support;

constexpr std::string_view kManager = "bsdrc";
constexpr std::string_view kDaemon = "/usr/sbin/daemon";

const std::vector<PropertySupport>& bsdrc_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::emulated,
       "daemon(8) runs it in the background with pid files and its log"},
      {"daemon", Support::supported, "command= with pidfile="},
      {"oneshot", Support::emulated,
       "start_cmd runs it to completion and leaves a marker file that status reports"},
      {"environment", Support::supported, "exported by start_precmd"},
      {"path", Support::supported, "PATH exported by start_precmd"},
      {"directory", Support::supported, "<name>_chdir"},
      {"umask", Support::supported, "<name>_umask"},
      {"nice", Support::supported, "the command runs through nice -n"},
      {"rlimits", Support::supported, "ulimit in <name>_prestart, which runs in the shell that starts it"},
      {"user", Support::supported, "daemon(8) -u, or <name>_user for a forking daemon"},
      {"credentials", Support::emulated, "start_precmd creates missing groups and users with pw(8)"},
      {"dependencies", Support::supported, "# REQUIRE: (rcorder)"},
      {"initialize", Support::emulated,
       "run by start_precmd with /bin/sh -e, as root, in the working directory"},
      {"files", Support::emulated, "written by start_precmd before every start"},
      {"restart", Support::emulated,
       "daemon(8) -r restarts after any exit, on-failure too (always is exact)"},
      {"restartDelay", Support::supported, "daemon(8) -R (whole seconds)"},
      {"maxRestartDelay", Support::lost, "daemon(8) restarts after a fixed delay"},
      {"stableAfter", Support::lost, "daemon(8) has no backoff to reset"},
      {"restartLimit", Support::lost, "daemon(8) restarts without limit"},
      {"stopSignal", Support::supported,
       "sig_stop= for a forking daemon; under daemon(8) only SIGTERM is passed on (reported then)"},
      {"stopTimeout", Support::lost, "rc.subr waits for the process to exit without a deadline"},
      {"startTimeout", Support::supported, "bounds start_postcmd's wait for readiness"},
      {"successExitCodes", Support::supported, "start accepts these exit statuses of a oneshot"},
      {"readiness.pidFile", Support::emulated, "start_postcmd waits until the pid file names a live process"},
      {"readiness.tcp", Support::emulated, "start_postcmd polls the port with nc -z"},
      {"readiness.command", Support::emulated, "start_postcmd runs the command until it succeeds"},
      {"readiness.notify", Support::lost, "rc.subr has no readiness notification"},
      {"liveness", Support::lost, "rc.subr has no health probes"},
      {"autostart", Support::supported, "<name>_enable defaults to NO"},
  };
  return table;
}

// ---- names and quoting ---------------------------------------------------------------------------

std::string rc_name(std::string_view instance) {
  std::string name;
  for (char c : instance) name += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ? c : '_';
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) name.insert(0, "_");
  return name;
}

bool valid_variable_name(std::string_view name) {
  return !name.empty() && rc_name(name) == name;
}

// A double-quoted sh word: readable for values that hold single-quoted words themselves (command_args).
std::string double_quoted(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '$' || c == '`') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// The word of `: "${var:=word}"`, inside double quotes and a parameter expansion.
std::string default_word(std::string_view text) {
  std::string word;
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '$' || c == '`' || c == '}') word += '\\';
    word += c;
  }
  return word;
}

// ---- the script ----------------------------------------------------------------------------------

struct Script {
  std::string name;                                           // rc.d name
  std::vector<std::pair<std::string, std::string>> vars;      // rc.subr variables, values already quoted
  std::vector<std::pair<std::string, std::string>> defaults;  // rc.conf defaults: : "${var:=value}"
  std::string functions;

  void set(const std::string& variable, const std::string& value) {
    auto found =
        std::find_if(vars.begin(), vars.end(), [&](const auto& entry) { return entry.first == variable; });
    if (found != vars.end())
      found->second = value;
    else
      vars.emplace_back(variable, value);
  }
};

std::vector<std::string> run_argv(const InstanceSpec& spec, const std::string& executable,
                                  const std::vector<std::string>& arguments) {
  // Variables sh cannot export go through env(1), which execs the process (the pid stays its own).
  std::vector<std::string> argv = s::env_prefix(spec);
  if (spec.nice) argv.insert(argv.end(), {"/usr/bin/nice", "-n", std::to_string(*spec.nice)});
  argv.push_back(executable);
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return argv;
}

std::string prestart_function(const Script& script, const InstanceSpec& spec,
                              const GenerateOptions& options) {
  std::string text = script.name + "_prestart()\n{\n";
  text += "\tmkdir -p " + s::shell_command(s::state_directories(options)) + " || return 1\n";
  std::string path_base = "$PATH";
  for (const auto& [name, value] : spec.environment) {
    if (name == "PATH")
      path_base = s::shell_quote(value);
    else if (s::is_shell_name(name))
      text += "\texport " + name + "=" + s::shell_quote(value) + "\n";
  }
  if (!spec.path.empty() || spec.environment.contains("PATH")) {
    std::string prefix;
    for (const auto& dir : spec.path) prefix += dir + ":";
    text += "\tPATH=" + (prefix.empty() ? "" : s::shell_quote(prefix)) + path_base + "\n\texport PATH\n";
  }
  if (options.scope == Scope::system) {
    for (const auto& group : spec.credentials.groups) {
      std::vector<std::string> argv{"pw", "groupadd", group.name};
      if (group.gid) argv.insert(argv.end(), {"-g", std::to_string(*group.gid)});
      text += "\tpw groupshow " + s::shell_quote(group.name) + " >/dev/null 2>&1 || " +
              s::shell_command(argv) + "\n";
    }
    for (const auto& user : spec.credentials.users) {
      std::vector<std::string> argv{"pw", "useradd", user.name};
      if (user.uid) argv.insert(argv.end(), {"-u", std::to_string(*user.uid)});
      if (!user.group.empty()) argv.insert(argv.end(), {"-g", user.group});
      if (!user.description.empty()) argv.insert(argv.end(), {"-c", user.description});
      if (!user.home_dir.empty()) argv.insert(argv.end(), {"-d", user.home_dir});
      if (user.create_home_dir) argv.push_back("-m");
      if (!user.shell.empty()) argv.insert(argv.end(), {"-s", user.shell});
      text += "\tpw usershow " + s::shell_quote(user.name) + " >/dev/null 2>&1 || " + s::shell_command(argv) +
              "\n";
    }
  }
  text += s::write_files_script(spec, "\t");
  text += shell::resource_limits(spec, "\t", " || return 1");
  if (!spec.initialize.empty()) {
    std::string settings = "cd " + s::shell_quote(s::working_directory(spec, options).string());
    if (spec.umask) settings += " && umask " + s::octal_umask(*spec.umask);
    text += "\t(" + settings + " && /bin/sh -ec " + s::shell_quote(spec.initialize) + ") >>" +
            s::shell_quote(s::log_file(spec, options).string()) + " 2>&1 || return 1\n";
  }
  return text + "}\n\n";
}

// The condition start_postcmd waits for, or "" when starting is enough.
std::string readiness_condition(const InstanceSpec& spec, const GenerateOptions& options) {
  const auto& readiness = spec.supervision.readiness;
  if (spec.kind == ProcessKind::daemon) {
    const auto file = s::shell_quote(s::pid_file(spec, options).string());
    return "[ -s " + file + " ] && kill -0 \"$(cat " + file + ")\" 2>/dev/null";
  }
  switch (readiness.kind) {
    case ReadinessKind::tcp:
      return "nc -z -w 1 " + s::shell_quote(readiness.host) + " " + std::to_string(readiness.port) +
             " >/dev/null 2>&1";
    case ReadinessKind::command:
      return s::shell_command(readiness.command) + " >/dev/null 2>&1";
    case ReadinessKind::pid_file: {
      const auto file = s::shell_quote(spec.pid_file);
      return "[ -s " + file + " ] && kill -0 \"$(cat " + file + ")\" 2>/dev/null";
    }
    case ReadinessKind::started:
    case ReadinessKind::notify:
      return {};
  }
  return {};
}

std::string poststart_function(const Script& script, const std::string& condition, double timeout) {
  return script.name + "_poststart()\n{\n" + s::wait_until_body(condition, timeout, "${name}") + "}\n\n";
}

void foreground_process(Script& script, const InstanceSpec& spec, const GenerateOptions& options) {
  std::vector<std::string> args{"-P", s::runtime_dir(options).string() + "/" + spec.name + ".daemon.pid",
                                "-p", s::tracking_pid_file(spec, options, kManager).string(),
                                "-o", s::log_file(spec, options).string()};
  if (spec.supervision.restart != RestartPolicy::never) {
    args.push_back("-r");
    const auto delay = static_cast<long>(std::ceil(spec.supervision.restart_delay_seconds));
    if (delay != 1) args.insert(args.end(), {"-R", std::to_string(delay)});
  }
  if (s::switches_user(spec, options)) args.insert(args.end(), {"-u", spec.user});
  const auto argv = run_argv(spec, spec.foreground_executable, spec.foreground_arguments);
  args.insert(args.end(), argv.begin(), argv.end());
  // rc.subr follows daemon(8), the supervisor: its process title starts with "daemon:".
  script.set("pidfile", s::shell_quote(args[1]));
  script.set("procname", std::string(kDaemon));
  script.set("command", std::string(kDaemon));
  script.set("command_args", double_quoted(s::shell_command(args)));
}

void forking_daemon(Script& script, const InstanceSpec& spec, const GenerateOptions& options) {
  std::vector<std::string> args = run_argv(spec, spec.daemon_executable, spec.daemon_arguments);
  const std::string executable = args.front();
  args.erase(args.begin());
  script.set("pidfile", s::shell_quote(s::pid_file(spec, options).string()));
  script.set("procname", s::shell_quote(spec.daemon_executable));
  script.set("command", s::shell_quote(executable));
  if (!args.empty()) script.set("command_args", double_quoted(s::shell_command(args)));
  if (spec.supervision.stop_signal != SIGTERM)
    script.set("sig_stop", s::signal_name(spec.supervision.stop_signal));
  if (s::switches_user(spec, options)) {
    // rc.subr runs the command through su -m <user> -c '...': a quoted argument would end that quote.
    const auto line = s::shell_command(args);
    if (line.find('\'') != std::string::npos)
      throw GenerateError(
          "instance '" + spec.name +
          "': with `user`, bsdrc runs a forking daemon through rc.subr's su -m <user> -c '...', "
          "which cannot take arguments that need quoting");
    script.defaults.emplace_back(script.name + "_user", spec.user);
  }
}

void oneshot(Script& script, const InstanceSpec& spec, const GenerateOptions& options) {
  const std::string done = (s::runtime_dir(options) / (spec.name + ".done")).string();
  std::string command =
      s::shell_command(run_argv(spec, spec.foreground_executable, spec.foreground_arguments));
  if (s::switches_user(spec, options))
    command = "su -m " + s::shell_quote(spec.user) + " -c " + s::shell_quote(command);
  std::string settings = "cd " + s::shell_quote(s::working_directory(spec, options).string());
  if (spec.umask) settings += " && umask " + s::octal_umask(*spec.umask);
  std::vector<std::string> codes;
  for (int code : spec.supervision.success_exit_codes) codes.push_back(std::to_string(code));
  const std::string& n = script.name;
  script.set("donefile", s::shell_quote(done));
  script.set("start_cmd", n + "_start");
  script.set("stop_cmd", n + "_stop");
  script.set("status_cmd", n + "_status");
  script.functions +=
      n +
      "_start()\n{\n"
      "\tif [ -e \"$donefile\" ]; then\n\t\techo \"${name} has already run\"\n\t\treturn 0\n\tfi\n"
      "\tstatus=0\n"
      "\t(" +
      settings + " && exec " + command + ") >>" + s::shell_quote(s::log_file(spec, options).string()) +
      " 2>&1 </dev/null || status=$?\n"
      "\tcase $status in\n"
      "\t\t" +
      s::join(codes, "|") +
      ") touch \"$donefile\" ;;\n"
      "\t\t*) echo \"${name} failed with exit status $status\" >&2; return 1 ;;\n"
      "\tesac\n}\n\n";
  script.functions += n + "_stop()\n{\n\trm -f \"$donefile\"\n}\n\n";
  script.functions += n +
                      "_status()\n{\n"
                      "\tif [ -e \"$donefile\" ]; then\n\t\techo \"${name} has run\"\n\t\treturn 0\n\tfi\n"
                      "\techo \"${name} has not run\"\n\treturn 1\n}\n\n";
}

void merge_overrides(Script& script, const InstanceSpec& spec) {
  for (const auto& [key, value] : s::override_entries(spec, kManager)) {
    if (!valid_variable_name(key))
      throw GenerateError("instance '" + spec.name + "': overrides.bsdrc." + key +
                          " is not an rc.subr variable name (letters, digits and _)");
    if (value->is_null()) {
      std::erase_if(script.vars, [&](const auto& entry) { return entry.first == key; });
      continue;
    }
    script.set(key, s::shell_quote(s::override_scalar(spec, kManager, key, *value)));
  }
}

OutputFile rc_script(const InstanceSpec& spec, const std::map<std::string, std::string>& rc_names,
                     const GenerateOptions& options) {
  Script script;
  script.name = rc_names.at(spec.name);
  const std::string& n = script.name;
  script.set("name", n);
  script.set("rcvar", n + "_enable");
  script.set("desc", s::shell_quote(spec.description.empty() ? spec.name : spec.description));
  script.defaults.emplace_back(n + "_enable", spec.autostart ? "YES" : "NO");
  script.defaults.emplace_back(n + "_chdir", s::working_directory(spec, options).string());
  if (spec.umask) script.defaults.emplace_back(n + "_umask", s::octal_umask(*spec.umask));
  script.set("start_precmd", n + "_prestart");

  if (spec.supervision.type == ProcessType::oneshot)
    oneshot(script, spec, options);
  else if (spec.kind == ProcessKind::daemon)
    forking_daemon(script, spec, options);
  else
    foreground_process(script, spec, options);

  const std::string condition =
      spec.supervision.type == ProcessType::oneshot ? std::string() : readiness_condition(spec, options);
  if (!condition.empty()) script.set("start_postcmd", n + "_poststart");
  merge_overrides(script, spec);

  std::string require = "LOGIN";
  for (const auto& dependency : s::dependency_names(spec)) require += " " + rc_names.at(dependency);
  std::string text =
      "#!/bin/sh\n#\n# PROVIDE: " + n + "\n# REQUIRE: " + require + "\n# KEYWORD: shutdown\n#\n";
  text += "# Generated by nixpm (nixpmctl generate --manager bsdrc); regenerate rather than edit.\n";
  text += "# Set " + n + "_enable=\"" + (spec.autostart ? "NO" : "YES") + "\" in /etc/rc.conf to " +
          (spec.autostart ? "keep it from starting" : "start it at boot") + ".\n";
  text += "# rc.subr reads the variables below (SC2034) and exists only on FreeBSD (SC1091).\n";
  text += s::shellcheck_directive("SC1091,SC2034") + "\n";
  text += ". /etc/rc.subr\n\n";
  for (const auto& [variable, value] : script.vars) text += variable + "=" + value + "\n";
  text += "\n" + prestart_function(script, spec, options);
  if (!condition.empty())
    text += poststart_function(script, condition, spec.supervision.start_timeout_seconds);
  text += script.functions;
  text += "load_rc_config \"$name\"\n";
  for (const auto& [variable, value] : script.defaults)
    text += ": \"${" + variable + ":=" + default_word(value) + "}\"\n";
  text += "\nrun_rc_command \"$1\"\n";
  return OutputFile{"rc.d/" + n, text, 0755};
}

class BsdrcAdapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "FreeBSD rc.d scripts (rc.subr, daemon(8)) ordered by PROVIDE/REQUIRE";
  }
  const std::vector<PropertySupport>& capabilities() const override { return bsdrc_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    std::map<std::string, std::string> rc_names;
    std::map<std::string, std::string> taken;
    for (const auto& spec : definitions.instances) {
      const auto name = rc_name(spec.name);
      if (const auto other = taken.find(name); other != taken.end())
        throw GenerateError("instances '" + other->second + "' and '" + spec.name +
                            "' would both be the rc.d script '" + name +
                            "' (rc.d names use letters, digits and _)");
      taken.emplace(name, spec.name);
      rc_names.emplace(spec.name, name);
    }
    Generated generated;
    const auto ordering = s::dependency_order(definitions);
    for (std::size_t index : ordering.start_order) {
      const auto& spec = definitions.instances[index];
      generated.files.push_back(rc_script(spec, rc_names, options));
      generated.start_order.push_back(rc_names.at(spec.name));
    }
    for (const auto& spec : definitions.instances) {
      auto capabilities = bsdrc_capabilities();
      const bool under_daemon8 =
          spec.kind == ProcessKind::foreground && spec.supervision.type == ProcessType::process;
      if (under_daemon8 && spec.supervision.restart == RestartPolicy::always)
        capabilities = s::with_row(capabilities, "restart", Support::supported, "daemon(8) -r");
      if (under_daemon8)
        capabilities = s::with_row(capabilities, "stopSignal", Support::lost,
                                   "daemon(8), which runs the process, passes on only SIGTERM");
      if (!under_daemon8) {
        capabilities = s::with_row(capabilities, "restart", Support::lost,
                                   "only daemon(8), which runs foreground processes, restarts");
        capabilities = s::with_row(capabilities, "restartDelay", Support::lost,
                                   "only daemon(8), which runs foreground processes, restarts");
      }
      auto losses = s::losses_for(spec, capabilities, options, shell::ulimit_limit_check);
      generated.losses.insert(generated.losses.end(), losses.begin(), losses.end());
    }
    return generated;
  }
};

}  // namespace

const ManagerAdapter& bsdrc_adapter() {
  static const BsdrcAdapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
