// supervisord: a [program:<name>] section per instance in conf.d/<name>.conf, and a supervisord.conf
// that includes them and runs supervisord with its own socket, pid file and log under the state dir
// (what `supervisord -c supervisord.conf` needs; a system supervisord only needs the conf.d files).
//
// supervisord runs foreground processes, restarts them and keeps their output; everything else is
// carried by a small sh wrapper (conf.d/nixpm/<name>.sh, found through %(here)s): files, initialize,
// values its configuration syntax cannot hold, and forking daemons, which the wrapper follows through
// their pid file.

#include <algorithm>

#include <nlohmann/json.hpp>

#include "config/managers/adapter_support.hpp"
#include "config/managers/adapters.hpp"
#include "config/managers/ini_document.hpp"
#include "config/managers/shell_steps.hpp"

namespace nixpm::managers {
namespace {

using config::InstanceSpec;
using config::ProcessKind;
using config::RestartPolicy;
namespace s = support;

constexpr std::string_view kManager = "supervisord";

const std::vector<PropertySupport>& supervisord_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::supported, "command="},
      {"daemon", Support::emulated,
       "a wrapper script starts it, then stays in the foreground while its pid file names a live process and "
       "passes the stop signal on (supervisorctl shows the wrapper's pid)"},
      {"oneshot", Support::emulated,
       "startsecs=0 and no restart after a success: EXITED; dependents do not wait"},
      {"environment", Support::supported,
       "environment= (values it cannot quote are exported by a wrapper script)"},
      {"path", Support::supported, "environment=PATH=...:%(ENV_PATH)s"},
      {"directory", Support::supported, "directory="},
      {"umask", Support::supported, "umask="},
      {"nice", Support::emulated, "the command runs through nice -n"},
      {"rlimits", Support::emulated,
       "ulimit in a wrapper script, which runs as the program's user (so a hard limit cannot rise)"},
      {"user", Support::supported, "user= (system scope)"},
      {"credentials", Support::lost, "supervisord does not create users or groups; create them beforehand"},
      {"dependencies", Support::emulated,
       "priority= from the dependency depth orders the start; nothing waits for readiness"},
      {"initialize", Support::emulated, "run by a wrapper script before it execs the process"},
      {"files", Support::emulated, "written by a wrapper script (as the program's user) before every start"},
      {"restart", Support::supported, "autorestart=true or unexpected"},
      {"restartDelay", Support::lost, "supervisord restarts an exited process at once"},
      {"maxRestartDelay", Support::lost,
       "supervisord's only backoff is its own, while a start keeps failing"},
      {"stableAfter", Support::emulated, "startsecs=: a shorter run counts as a failed start"},
      {"restartLimit", Support::emulated, "startretries=: failed starts in a row before FATAL"},
      {"stopSignal", Support::supported, "stopsignal="},
      {"stopTimeout", Support::supported, "stopwaitsecs="},
      {"startTimeout", Support::lost, "supervisord has no readiness to wait for"},
      {"successExitCodes", Support::supported, "exitcodes="},
      {"readiness.pidFile", Support::lost, "supervisord has no readiness checks (RUNNING after startsecs)"},
      {"readiness.tcp", Support::lost, "supervisord has no readiness checks (RUNNING after startsecs)"},
      {"readiness.command", Support::lost, "supervisord has no readiness checks (RUNNING after startsecs)"},
      {"readiness.notify", Support::lost, "supervisord has no readiness checks (RUNNING after startsecs)"},
      {"liveness", Support::lost, "supervisord has no health probes"},
      {"autostart", Support::supported, "autostart=false"},
  };
  return table;
}

// ---- what the configuration syntax can hold ------------------------------------------------------

// supervisord reads values through ConfigParser (where " ;" and " #" start comments and `%` starts an
// expansion) and splits `command=` with shlex. Control characters never fit on one line.
bool fits_on_a_line(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) return false;
    if ((text[i] == ';' || text[i] == '#') && i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t'))
      return false;
  }
  return true;
}

std::string escape_percent(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    escaped += c;
    if (c == '%') escaped += '%';
  }
  return escaped;
}

// environment= is split by shlex without escapes, then each value loses surrounding quotes: a value with
// a double quote, or a name beyond shlex's word characters, cannot be written there.
bool fits_environment(const std::string& name, const std::string& value) {
  const bool plain_name =
      !name.empty() &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/.+-():") ==
          std::string::npos;
  return plain_name && value.find('"') == std::string::npos && !value.starts_with('\'') &&
         !value.ends_with('\'') && fits_on_a_line(value);
}

std::vector<std::string> run_argv(const InstanceSpec& spec) {
  // Variables neither environment= nor sh can take (`my-var` with a double quote) go through env(1).
  std::vector<std::string> argv;
  for (const auto& [name, value] : spec.environment)
    if (name != "PATH" && !fits_environment(name, value) && !s::is_shell_name(name))
      argv.push_back(name + "=" + value);
  if (!argv.empty()) argv.insert(argv.begin(), "/usr/bin/env");
  if (spec.nice) argv.insert(argv.end(), {"/usr/bin/nice", "-n", std::to_string(*spec.nice)});
  if (spec.kind == ProcessKind::daemon) {
    argv.push_back(spec.daemon_executable);
    argv.insert(argv.end(), spec.daemon_arguments.begin(), spec.daemon_arguments.end());
  } else {
    argv.push_back(spec.foreground_executable);
    argv.insert(argv.end(), spec.foreground_arguments.begin(), spec.foreground_arguments.end());
  }
  return argv;
}

bool needs_wrapper(const InstanceSpec& spec) {
  if (!spec.files.empty() || !spec.initialize.empty() || !spec.rlimits.empty() ||
      spec.kind == ProcessKind::daemon)
    return true;
  for (const auto& [name, value] : spec.environment)
    if (name != "PATH" && !fits_environment(name, value)) return true;
  const auto argv = run_argv(spec);
  return !std::all_of(argv.begin(), argv.end(), [](const std::string& word) { return fits_on_a_line(word); });
}

// ---- the wrapper script --------------------------------------------------------------------------

std::string wrapper_path(const InstanceSpec& spec) {
  return "conf.d/nixpm/" + spec.name + ".sh";
}

// The wrapper's part for a forking daemon: start it, then follow it through its pid file.
std::string follow_daemon(const InstanceSpec& spec, const GenerateOptions& options) {
  constexpr std::string_view kScript = R"(pidfile=@PIDFILE@
rm -f "$pidfile"
@COMMAND@
# supervisord supervises foreground processes only: wait for the daemon's pid file, then stay
# as long as the daemon lives and pass supervisord's stop signal on to it.
tries=0
until [ -s "$pidfile" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt @TRIES@ ]; then
    echo "@NAME@: no pid file $pidfile after @SECONDS@ s" >&2
    exit 1
  fi
  sleep 0.1
done
pid=$(cat "$pidfile")
stopping=
trap 'stopping=1; kill -@SIGNAL@ "$pid" 2>/dev/null || true' @SIGNAL@
while kill -0 "$pid" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done
# A daemon that ended without being asked to stop has failed.
[ -n "$stopping" ]
)";
  const double timeout = spec.supervision.start_timeout_seconds;
  return s::fill_template(kScript, {{"PIDFILE", s::shell_quote(s::pid_file(spec, options).string())},
                                    {"COMMAND", s::shell_command(run_argv(spec))},
                                    {"TRIES", std::to_string(std::max(1, static_cast<int>(timeout * 10)))},
                                    {"NAME", spec.name},
                                    {"SECONDS", s::format_seconds(timeout)},
                                    {"SIGNAL", s::signal_name(spec.supervision.stop_signal)}});
}

OutputFile wrapper_script(const InstanceSpec& spec, const GenerateOptions& options) {
  std::string script =
      "#!/bin/sh\n"
      "# Generated by nixpm (nixpmctl generate --manager supervisord): starts " +
      spec.name + " for supervisord.\n" + s::shellcheck_directive() + "set -e\n" +
      // As nixpmd does when it starts; supervisord itself needs the log directory before this runs.
      "mkdir -p " + s::shell_command(s::state_directories(options)) + "\n";
  for (const auto& [name, value] : spec.environment)
    if (!fits_environment(name, value) && name != "PATH" && s::is_shell_name(name))
      script += "export " + name + "=" + s::shell_quote(value) + "\n";
  if (!spec.files.empty()) script += s::write_files_script(spec, "");
  script += shell::resource_limits(spec, "", "");
  if (!spec.initialize.empty()) {
    script += "# initialize\n" + spec.initialize;
    if (!spec.initialize.ends_with('\n')) script += '\n';
  }
  if (spec.kind == ProcessKind::daemon) {
    script += follow_daemon(spec, options);
  } else {
    script += "exec " + s::shell_command(run_argv(spec)) + "\n";
  }
  return OutputFile{wrapper_path(spec), script, 0755};
}

// ---- the program section -------------------------------------------------------------------------

std::string autorestart(const InstanceSpec& spec) {
  switch (spec.supervision.restart) {
    case RestartPolicy::always:
      // A oneshot restarted after every success would run forever.
      return spec.supervision.type == config::ProcessType::oneshot ? "unexpected" : "true";
    case RestartPolicy::on_failure:
      return "unexpected";
    case RestartPolicy::never:
      return "false";
  }
  return "false";
}

std::string environment_setting(const InstanceSpec& spec) {
  std::vector<std::string> pairs;
  std::string path_base = "%(ENV_PATH)s";
  for (const auto& [name, value] : spec.environment) {
    if (name == "PATH") {
      path_base = escape_percent(value);
      continue;
    }
    if (fits_environment(name, value)) pairs.push_back(name + "=\"" + escape_percent(value) + "\"");
  }
  if (!spec.path.empty() || spec.environment.contains("PATH")) {
    std::string prefix;
    for (const auto& dir : spec.path) prefix += escape_percent(dir) + ":";
    pairs.push_back("PATH=\"" + prefix + path_base + "\"");
  }
  return s::join(pairs, ",");
}

void merge_overrides(IniDocument& conf, const std::string& section, const InstanceSpec& spec) {
  for (const auto& [key, value] : s::override_entries(spec, kManager)) {
    if (value->is_null())
      conf.set(section, key, {});
    else
      conf.set(section, key, {s::override_scalar(spec, kManager, key, *value)});
  }
}

OutputFile program_file(const InstanceSpec& spec, int depth, const GenerateOptions& options) {
  const auto& policy = spec.supervision;
  const std::string section = "program:" + spec.name;
  IniDocument conf;
  if (needs_wrapper(spec)) {
    conf.add(section, "command", "\"%(here)s/nixpm/" + escape_percent(spec.name) + ".sh\"");
  } else {
    std::string command;
    for (const auto& word : run_argv(spec))
      command += (command.empty() ? "" : " ") + escape_percent(s::shell_quote(word));
    conf.add(section, "command", command);
  }
  // supervisord starts lower priorities first; a level of the dependency graph is one step.
  conf.add(section, "priority", std::to_string(100 + 10 * depth));
  conf.add(section, "autostart", spec.autostart ? "true" : "false");
  conf.add(section, "autorestart", autorestart(spec));
  std::vector<std::string> codes;
  for (int code : policy.success_exit_codes) codes.push_back(std::to_string(code));
  conf.add(section, "exitcodes", s::join(codes, ","));
  if (policy.type == config::ProcessType::oneshot) {
    conf.add(section, "startsecs", "0");
  } else if (policy.stable_after_seconds != config::SupervisionPolicy{}.stable_after_seconds) {
    conf.add(section, "startsecs", s::format_seconds(policy.stable_after_seconds));
  }
  if (policy.restart_limit != config::SupervisionPolicy{}.restart_limit)
    conf.add(section, "startretries", std::to_string(policy.restart_limit));
  conf.add(section, "stopsignal", s::signal_name(policy.stop_signal));
  conf.add(section, "stopwaitsecs", s::format_seconds(policy.stop_timeout_seconds));
  // nixpmd signals the whole process group; so does supervisord with these.
  conf.add(section, "stopasgroup", "true");
  conf.add(section, "killasgroup", "true");
  conf.add(section, "directory", escape_percent(s::working_directory(spec, options).string()));
  if (spec.umask) conf.add(section, "umask", s::octal_umask(*spec.umask));
  if (s::switches_user(spec, options)) conf.add(section, "user", escape_percent(spec.user));
  if (const auto environment = environment_setting(spec); !environment.empty())
    conf.add(section, "environment", environment);
  // One log per instance, stdout and stderr together, rotated like nixpmd's (10 MiB, 3 kept).
  conf.add(section, "stdout_logfile", escape_percent(s::log_file(spec, options).string()));
  conf.add(section, "redirect_stderr", "true");
  conf.add(section, "stdout_logfile_maxbytes", "10MB");
  conf.add(section, "stdout_logfile_backups", "3");
  merge_overrides(conf, section, spec);
  return OutputFile{
      "conf.d/" + spec.name + ".conf",
      "; Generated by nixpm (nixpmctl generate --manager supervisord); regenerate rather than edit.\n"
      "; Native settings belong in the definitions' overrides.supervisord, which is merged last.\n" +
          conf.render(),
      0644};
}

OutputFile main_configuration(const GenerateOptions& options) {
  const std::string socket = escape_percent((s::runtime_dir(options) / "supervisord.sock").string());
  IniDocument conf;
  conf.add("unix_http_server", "file", socket);
  conf.add("unix_http_server", "chmod", "0700");
  conf.add("supervisord", "logfile", escape_percent((s::log_dir(options) / "supervisord.log").string()));
  conf.add("supervisord", "pidfile", escape_percent((s::runtime_dir(options) / "supervisord.pid").string()));
  conf.add("supervisord", "childlogdir", escape_percent(s::log_dir(options).string()));
  conf.add("rpcinterface:supervisor", "supervisor.rpcinterface_factory",
           "supervisor.rpcinterface:make_main_rpcinterface");
  conf.add("supervisorctl", "serverurl", "unix://" + socket);
  conf.add("include", "files", "conf.d/*.conf");
  return OutputFile{"supervisord.conf",
                    "; Generated by nixpm (nixpmctl generate --manager supervisord): a complete supervisord\n"
                    "; configuration for `supervisord -c supervisord.conf`. A system supervisord only needs\n"
                    "; the files in conf.d/ (with conf.d/nixpm/ beside them).\n" +
                        conf.render(),
                    0644};
}

class SupervisordAdapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "supervisord [program:x] sections (conf.d/) and a supervisord.conf to run them";
  }
  const std::vector<PropertySupport>& capabilities() const override { return supervisord_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    Generated generated;
    generated.files.push_back(main_configuration(options));
    const auto ordering = s::dependency_order(definitions);
    for (std::size_t index : ordering.start_order) {
      const auto& spec = definitions.instances[index];
      generated.files.push_back(program_file(spec, ordering.depth[index], options));
      if (needs_wrapper(spec)) generated.files.push_back(wrapper_script(spec, options));
      generated.start_order.push_back(spec.name);
    }
    generated.losses = s::losses_for(definitions, capabilities(), options, shell::ulimit_limit_check);
    return generated;
  }
};

}  // namespace

const ManagerAdapter& supervisord_adapter() {
  static const SupervisordAdapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
