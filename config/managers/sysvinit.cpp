// sysvinit: one LSB init script per instance (init.d/<name>) built on Debian's start-stop-daemon, and
// the runlevel links rc<N>.d/S<NN><name> and K<NN><name> that order them: S numbers grow with the
// dependency depth, K numbers shrink with it, so dependencies start first and stop last (what
// update-rc.d would derive from the Required-Start headers).
//
// Init scripts start and stop; they do not supervise. A foreground process is put in the background by
// start-stop-daemon (with a pid file and its output in a log), and `start` waits for the instance's
// readiness so that the next script in S order finds it ready.

#include <algorithm>
#include <cstdio>
#include <set>

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
namespace s = support;

constexpr std::string_view kManager = "sysvinit";

const std::vector<PropertySupport>& sysvinit_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::emulated,
       "start-stop-daemon --background --make-pidfile puts it in the background, output appended to its log"},
      {"daemon", Support::supported, "start-stop-daemon --pidfile"},
      {"oneshot", Support::emulated,
       "start runs it to completion and leaves a marker file that status reports"},
      {"environment", Support::supported, "exported by the script"},
      {"path", Support::supported, "PATH exported by the script"},
      {"directory", Support::supported, "start-stop-daemon --chdir"},
      {"umask", Support::supported, "start-stop-daemon --umask"},
      {"nice", Support::supported, "start-stop-daemon --nicelevel"},
      {"rlimits", Support::supported, "ulimit in the script before start-stop-daemon"},
      {"user", Support::supported, "start-stop-daemon --chuid"},
      {"credentials", Support::emulated, "start creates missing groups and users with groupadd and useradd"},
      {"dependencies", Support::supported, "Required-Start/Required-Stop and the S/K order of rc<N>.d"},
      {"initialize", Support::emulated, "run by start with /bin/sh -e, as root, in the working directory"},
      {"files", Support::emulated, "written by start before every start"},
      {"restart", Support::lost, "init scripts do not supervise: nothing restarts a process that exits"},
      {"restartDelay", Support::lost, "init scripts do not restart"},
      {"maxRestartDelay", Support::lost, "init scripts do not restart"},
      {"stableAfter", Support::lost, "init scripts do not restart"},
      {"restartLimit", Support::lost, "init scripts do not restart"},
      {"stopSignal", Support::supported,
       "start-stop-daemon --retry=<signal>/<timeout>/KILL (to the process, not its group)"},
      {"stopTimeout", Support::supported, "start-stop-daemon --retry=<signal>/<timeout>/KILL"},
      {"startTimeout", Support::supported, "bounds start's wait for readiness"},
      {"successExitCodes", Support::supported, "start accepts these exit statuses of a oneshot"},
      {"readiness.pidFile", Support::emulated, "start waits until the pid file names a live process"},
      {"readiness.tcp", Support::emulated, "start polls the port (bash's /dev/tcp)"},
      {"readiness.command", Support::emulated, "start runs the command until it succeeds"},
      {"readiness.notify", Support::supported, "start-stop-daemon --notify-await"},
      {"liveness", Support::lost, "init scripts have no health probes"},
      {"autostart", Support::supported, "no S links (Default-Start empty)"},
  };
  return table;
}

// ---- runlevels -----------------------------------------------------------------------------------

// overrides.sysvinit.runlevels (as nix-processmgmt's sysvinit backend takes it), else 2 3 4 5.
std::set<int> start_runlevels(const InstanceSpec& spec) {
  if (!spec.autostart) return {};
  std::set<int> levels{2, 3, 4, 5};
  for (const auto& [key, value] : s::override_entries(spec, kManager)) {
    if (key != "runlevels") continue;
    if (!value->is_array())
      throw GenerateError("instance '" + spec.name +
                          "': overrides.sysvinit.runlevels must be a list of runlevels 0 to 6");
    levels.clear();
    for (const auto& item : *value) {
      const bool valid = item.is_number_integer() && item.get<int>() >= 0 && item.get<int>() <= 6;
      if (!valid)
        throw GenerateError("instance '" + spec.name +
                            "': overrides.sysvinit.runlevels must be a list of runlevels 0 to 6, not " +
                            item.dump());
      levels.insert(item.get<int>());
    }
  }
  return levels;
}

std::string runlevel_list(const std::set<int>& levels) {
  std::vector<std::string> words;
  for (int level : levels) words.push_back(std::to_string(level));
  return s::join(words, " ");
}

std::set<int> stop_runlevels(const std::set<int>& start) {
  std::set<int> stop;
  for (int level = 0; level <= 6; ++level)
    if (!start.contains(level)) stop.insert(level);
  return stop;
}

std::string two_digits(int number) {
  char text[16];
  std::snprintf(text, sizeof text, "%02d", number);
  return text;
}

// ---- the script ----------------------------------------------------------------------------------

std::string header(const InstanceSpec& spec, const std::set<int>& start, const std::set<int>& stop) {
  std::string required = "$remote_fs";
  for (const auto& name : s::dependency_names(spec)) required += " " + name;
  std::string description = spec.description.empty() ? spec.name : spec.description;
  std::replace(description.begin(), description.end(), '\n', ' ');
  std::string text = "#!/bin/sh\n### BEGIN INIT INFO\n";
  text += "# Provides:          " + spec.name + "\n";
  text += "# Required-Start:    " + required + "\n";
  text += "# Required-Stop:     " + required + "\n";
  text += "# Default-Start:     " + runlevel_list(start) + "\n";
  text += "# Default-Stop:      " + runlevel_list(stop) + "\n";
  text += "# Short-Description: " + description + "\n";
  text += "### END INIT INFO\n";
  text += "#\n# Generated by nixpm (nixpmctl generate --manager sysvinit); regenerate rather than edit.\n";
  text += s::shellcheck_directive() + "\n";
  return text;
}

std::string variables(const InstanceSpec& spec, const GenerateOptions& options) {
  std::string text = "NAME=" + s::shell_quote(spec.name) + "\n";
  if (spec.supervision.type == ProcessType::oneshot)
    text += "DONEFILE=" + s::shell_quote((s::runtime_dir(options) / (spec.name + ".done")).string()) + "\n";
  else if (spec.kind == ProcessKind::daemon)
    text += "PIDFILE=" + s::shell_quote(s::pid_file(spec, options).string()) + "\n";
  else
    text += "PIDFILE=" + s::shell_quote(s::tracking_pid_file(spec, options, kManager).string()) + "\n";
  text += "LOGFILE=" + s::shell_quote(s::log_file(spec, options).string()) + "\n";
  std::string path_base = "$PATH";
  for (const auto& [name, value] : spec.environment) {
    if (name == "PATH")
      path_base = s::shell_quote(value);
    else if (s::is_shell_name(name))
      text += "export " + name + "=" + s::shell_quote(value) + "\n";
  }
  if (!spec.path.empty() || spec.environment.contains("PATH")) {
    std::string prefix;
    for (const auto& dir : spec.path) prefix += dir + ":";
    text += "PATH=" + (prefix.empty() ? "" : s::shell_quote(prefix)) + path_base + "\nexport PATH\n";
  }
  return text + "\n";
}

std::string credentials_script(const InstanceSpec& spec) {
  std::string text;
  for (const auto& group : spec.credentials.groups) {
    std::vector<std::string> argv{"groupadd", "--system"};
    if (group.gid) argv.insert(argv.end(), {"--gid", std::to_string(*group.gid)});
    argv.push_back(group.name);
    text +=
        "\tgetent group " + s::shell_quote(group.name) + " >/dev/null || " + s::shell_command(argv) + "\n";
  }
  for (const auto& user : spec.credentials.users) {
    std::vector<std::string> argv{"useradd", "--system"};
    if (user.uid) argv.insert(argv.end(), {"--uid", std::to_string(*user.uid)});
    if (!user.group.empty()) argv.insert(argv.end(), {"--gid", user.group});
    if (!user.description.empty()) argv.insert(argv.end(), {"--comment", user.description});
    if (!user.home_dir.empty()) argv.insert(argv.end(), {"--home-dir", user.home_dir});
    argv.push_back(user.create_home_dir ? "--create-home" : "--no-create-home");
    if (!user.shell.empty()) argv.insert(argv.end(), {"--shell", user.shell});
    argv.push_back(user.name);
    text +=
        "\tgetent passwd " + s::shell_quote(user.name) + " >/dev/null || " + s::shell_command(argv) + "\n";
  }
  return text;
}

// What runs before every start, as nixpmd does it: directories, credentials, files, initialize.
std::string prepare_function(const InstanceSpec& spec, const GenerateOptions& options) {
  std::string text = "prepare() {\n";
  text += "\tmkdir -p " + s::shell_command(s::state_directories(options)) + " || return 1\n";
  if (options.scope == Scope::system) text += credentials_script(spec);
  text += s::write_files_script(spec, "\t");
  text += shell::resource_limits(spec, "\t", " || return 1");
  if (!spec.initialize.empty()) {
    std::string settings = "cd " + s::shell_quote(s::working_directory(spec, options).string());
    if (spec.umask) settings += " && umask " + s::octal_umask(*spec.umask);
    text += "\t(" + settings + " && /bin/sh -ec " + s::shell_quote(spec.initialize) +
            ") >>\"$LOGFILE\" 2>&1 || return 1\n";
  }
  return text + "}\n\n";
}

// The shell condition that says the instance is ready, or "" when starting is enough.
std::string readiness_condition(const InstanceSpec& spec) {
  const auto& readiness = spec.supervision.readiness;
  if (spec.kind == ProcessKind::daemon) return "start-stop-daemon --status --pidfile \"$PIDFILE\"";
  switch (readiness.kind) {
    case ReadinessKind::tcp:
      return "bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' " + s::shell_quote(readiness.host) + " " +
             std::to_string(readiness.port) + " 2>/dev/null";
    case ReadinessKind::command:
      return s::shell_command(readiness.command) + " >/dev/null 2>&1";
    case ReadinessKind::pid_file: {
      const std::string file = s::shell_quote(spec.pid_file);  // a pidFile readiness check requires one
      return "[ -s " + file + " ] && kill -0 \"$(cat " + file + ")\" 2>/dev/null";
    }
    case ReadinessKind::started:
    case ReadinessKind::notify:  // start-stop-daemon --notify-await waits itself
      return {};
  }
  return {};
}

std::string wait_ready_function(const InstanceSpec& spec) {
  const std::string condition = readiness_condition(spec);
  if (condition.empty()) return {};
  return "wait_ready() {\n" + s::wait_until_body(condition, spec.supervision.start_timeout_seconds, "$NAME") +
         "}\n\n";
}

// The start-stop-daemon options that set up the process: directory, umask, nice level, user.
std::string process_settings(const InstanceSpec& spec, const GenerateOptions& options) {
  std::string text = " --chdir " + s::shell_quote(s::working_directory(spec, options).string());
  if (spec.umask) text += " --umask " + s::octal_umask(*spec.umask);
  if (spec.nice) text += " --nicelevel " + std::to_string(*spec.nice);
  if (s::switches_user(spec, options)) {
    std::string chuid = spec.user;
    for (const auto& user : spec.credentials.users)
      if (user.name == spec.user && !user.group.empty()) chuid += ":" + user.group;
    text += " --chuid " + s::shell_quote(chuid);
  }
  return text;
}

// Variables sh cannot export reach the process through env(1), which start-stop-daemon passes them on from.
std::string env_words(const InstanceSpec& spec) {
  const auto prefix = s::env_prefix(spec);
  return prefix.empty() ? std::string() : s::shell_command(prefix) + " ";
}

std::string command_words(const std::string& executable, const std::vector<std::string>& arguments) {
  std::string text = " --startas " + s::shell_quote(executable);
  if (!arguments.empty()) text += " -- " + s::shell_command(arguments);
  return text;
}

std::string start_function(const InstanceSpec& spec, const GenerateOptions& options) {
  const bool waits = !readiness_condition(spec).empty();
  std::string text = "do_start() {\n";
  if (spec.supervision.type == ProcessType::oneshot) {
    std::vector<std::string> codes;
    for (int code : spec.supervision.success_exit_codes) codes.push_back(std::to_string(code));
    text += "\tif [ -e \"$DONEFILE\" ]; then\n\t\techo \"$NAME has already run\"\n\t\treturn 0\n\tfi\n";
    text += "\tprepare || return 1\n";
    text += "\tstatus=0\n";
    // Without --background start-stop-daemon execs the command: the script gets its exit status. The
    // marker (absent here) serves as the pid file it needs for its "already running?" check.
    text += "\t" + env_words(spec) + "start-stop-daemon --start --quiet --pidfile \"$DONEFILE\"" +
            process_settings(spec, options) +
            command_words(spec.foreground_executable, spec.foreground_arguments) +
            " >>\"$LOGFILE\" 2>&1 </dev/null || status=$?\n";
    text += "\tcase $status in\n\t\t" + s::join(codes, "|") + ") touch \"$DONEFILE\" ;;\n";
    text += "\t\t*) echo \"$NAME failed with exit status $status\" >&2; return 1 ;;\n\tesac\n}\n\n";
    return text;
  }
  text +=
      "\tif start-stop-daemon --status --pidfile \"$PIDFILE\"; then\n\t\techo \"$NAME is already "
      "running\"\n\t\treturn 0\n\tfi\n";
  text += "\tprepare || return 1\n";
  if (spec.kind == ProcessKind::daemon) {
    text += "\t" + env_words(spec) + "start-stop-daemon --start --quiet --pidfile \"$PIDFILE\"" +
            process_settings(spec, options) + command_words(spec.daemon_executable, spec.daemon_arguments) +
            " >>\"$LOGFILE\" 2>&1 </dev/null || return 1\n";
  } else {
    std::string notify;
    if (spec.supervision.readiness.kind == ReadinessKind::notify)
      notify = " --notify-await --notify-timeout " +
               std::to_string(std::max(1, static_cast<int>(spec.supervision.start_timeout_seconds)));
    text += "\t" + env_words(spec) +
            "start-stop-daemon --start --quiet --background --make-pidfile --pidfile \"$PIDFILE\" --output "
            "\"$LOGFILE\"" +
            notify + process_settings(spec, options) +
            command_words(spec.foreground_executable, spec.foreground_arguments) + " || return 1\n";
  }
  if (waits) text += "\twait_ready\n";
  return text + "}\n\n";
}

std::string stop_function(const InstanceSpec& spec) {
  if (spec.supervision.type == ProcessType::oneshot) return "do_stop() {\n\trm -f \"$DONEFILE\"\n}\n\n";
  const auto& policy = spec.supervision;
  const std::string schedule = s::signal_name(policy.stop_signal) + "/" +
                               std::to_string(static_cast<int>(policy.stop_timeout_seconds + 0.999)) +
                               "/KILL/5";
  return "do_stop() {\n\tstart-stop-daemon --stop --quiet --oknodo --retry=" + schedule +
         " --pidfile \"$PIDFILE\" --remove-pidfile\n}\n\n";
}

std::string dispatch(const InstanceSpec& spec) {
  const bool oneshot = spec.supervision.type == ProcessType::oneshot;
  std::string text = "case \"$1\" in\n";
  text += "\tstart) do_start ;;\n";
  text += "\tstop) do_stop ;;\n";
  text += "\trestart|force-reload) do_stop && do_start ;;\n";
  if (oneshot) {
    text += "\treload) echo \"$NAME: reload is not supported by a oneshot\" >&2; exit 3 ;;\n";
    text +=
        "\tstatus)\n"
        "\t\tif [ -e \"$DONEFILE\" ]; then echo \"$NAME has run\"; exit 0; fi\n"
        "\t\techo \"$NAME has not run\"\n"
        "\t\texit 3\n"
        "\t\t;;\n";
  } else {
    text += "\treload) start-stop-daemon --stop --quiet --signal HUP --pidfile \"$PIDFILE\" ;;\n";
    // start-stop-daemon --status answers with the LSB status codes: 0 running, 1 dead with a pid file,
    // 3 not running, 4 unknown.
    text +=
        "\tstatus)\n"
        "\t\tstatus=0\n"
        "\t\tstart-stop-daemon --status --pidfile \"$PIDFILE\" || status=$?\n"
        "\t\tcase $status in\n"
        "\t\t\t0) echo \"$NAME is running (pid $(cat \"$PIDFILE\"))\" ;;\n"
        "\t\t\t1) echo \"$NAME is dead, but $PIDFILE exists\" ;;\n"
        "\t\t\t3) echo \"$NAME is not running\" ;;\n"
        "\t\t\t*) echo \"$NAME: status unknown\" ;;\n"
        "\t\tesac\n"
        "\t\texit $status\n"
        "\t\t;;\n";
  }
  text +=
      "\t*)\n\t\techo \"Usage: $0 {start|stop|restart|reload|force-reload|status}\" >&2\n\t\texit "
      "2\n\t\t;;\nesac\n";
  return text;
}

OutputFile init_script(const InstanceSpec& spec, const std::set<int>& start, const GenerateOptions& options) {
  std::string script = header(spec, start, stop_runlevels(start));
  script += variables(spec, options);
  script += prepare_function(spec, options);
  if (spec.supervision.type != ProcessType::oneshot) script += wait_ready_function(spec);
  script += start_function(spec, options);
  script += stop_function(spec);
  script += dispatch(spec);
  return OutputFile{"init.d/" + spec.name, script, 0755};
}

void check_overrides(const InstanceSpec& spec) {
  for (const auto& [key, value] : s::override_entries(spec, kManager))
    if (key != "runlevels")
      throw GenerateError("instance '" + spec.name + "': unknown setting overrides.sysvinit." + key +
                          " (sysvinit takes: runlevels)");
}

class SysvinitAdapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "LSB init scripts using start-stop-daemon, with rc<N>.d start/stop links";
  }
  const std::vector<PropertySupport>& capabilities() const override { return sysvinit_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    Generated generated;
    const auto ordering = s::dependency_order(definitions);
    std::vector<OutputFile> links;
    for (std::size_t index : ordering.start_order) {
      const auto& spec = definitions.instances[index];
      check_overrides(spec);
      const auto start = start_runlevels(spec);
      generated.files.push_back(init_script(spec, start, options));
      generated.start_order.push_back(spec.name);
      // Dependencies start first (lower S) and stop last (higher K).
      const int depth = ordering.depth[index];
      for (int level : start)
        links.push_back({"rc" + std::to_string(level) + ".d/S" + two_digits(depth + 1) + spec.name, "", 0777,
                         "../init.d/" + spec.name});
      for (int level : stop_runlevels(start))
        links.push_back(
            {"rc" + std::to_string(level) + ".d/K" + two_digits(ordering.max_depth - depth + 1) + spec.name,
             "", 0777, "../init.d/" + spec.name});
    }
    std::sort(links.begin(), links.end(), [](const OutputFile& a, const OutputFile& b) {
      return a.path.generic_string() < b.path.generic_string();
    });
    generated.files.insert(generated.files.end(), links.begin(), links.end());
    generated.losses = s::losses_for(definitions, capabilities(), options, shell::ulimit_limit_check);
    return generated;
  }
};

}  // namespace

const ManagerAdapter& sysvinit_adapter() {
  static const SysvinitAdapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
