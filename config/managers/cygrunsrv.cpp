// cygrunsrv: Windows services under Cygwin, one per instance (nixpm-<name>), as nix-processmgmt's
// cygrunsrv backend makes them. The output is the install parameters as a script, cygrunsrv.sh
// (install | start | stop | remove), with one `cygrunsrv --install` per instance in dependency order,
// and a <name>.sh wrapper next to it for instances whose start needs shell steps cygrunsrv lacks (files,
// initialize, path, umask, nice, or arguments its one-level quoting cannot hold). The Windows service
// manager orders dependencies itself (--dep) and stops dependents first.

#include <algorithm>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "config/managers/adapter_support.hpp"
#include "config/managers/adapters.hpp"
#include "config/managers/shell_steps.hpp"

namespace nixpm::managers {
namespace {

namespace s = support;
using config::InstanceSpec;

constexpr std::string_view kManager = "cygrunsrv";
constexpr std::string_view kScript = "cygrunsrv.sh";
// cygrunsrv's own limits (MAX_ENV and MAX_DEPS in its source).
constexpr std::size_t kMaxEnvironment = 255;
constexpr std::size_t kMaxDependencies = 16;

const std::vector<PropertySupport>& cygrunsrv_capabilities() {
  static const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::supported, "--path and --args"},
      {"daemon", Support::supported, "--pidfile: cygrunsrv follows the process the pid file names"},
      {"oneshot", Support::lost,
       "a service that stops when its program ends; dependents do not wait for its success"},
      {"environment", Support::supported, "--env"},
      {"path", Support::emulated, "PATH exported by the <name>.sh wrapper"},
      {"directory", Support::supported, "--chdir"},
      {"umask", Support::emulated, "umask in the <name>.sh wrapper"},
      {"nice", Support::emulated, "nice -n in the <name>.sh wrapper"},
      {"rlimits", Support::emulated, "ulimit in the <name>.sh wrapper"},
      {"user", Support::supported,
       "--user (cygrunsrv asks for the password, or give overrides.cygrunsrv.password)"},
      {"credentials", Support::lost, "cygrunsrv creates no Windows accounts"},
      {"dependencies", Support::supported, "--dep: the Windows service manager starts dependencies first"},
      {"initialize", Support::emulated,
       "/bin/sh -ec in the <name>.sh wrapper, which then execs the program (as --user, not root)"},
      {"files", Support::emulated, "written by the <name>.sh wrapper before every start"},
      {"restart", Support::lost, "cygrunsrv does not restart a program that exits"},
      {"restartDelay", Support::lost, "cygrunsrv does not restart"},
      {"maxRestartDelay", Support::lost, "cygrunsrv does not restart"},
      {"stableAfter", Support::lost, "cygrunsrv does not restart"},
      {"restartLimit", Support::lost, "cygrunsrv does not restart"},
      {"stopSignal", Support::supported, "--termsig"},
      {"stopTimeout", Support::lost, "cygrunsrv waits for the program without a SIGKILL deadline"},
      {"startTimeout", Support::lost, "the service counts as running once started"},
      {"successExitCodes", Support::lost, "cygrunsrv does not restart, so no exit code is told apart"},
      {"readiness.pidFile", Support::lost, "the service counts as running once started"},
      {"readiness.tcp", Support::lost, "the service counts as running once started"},
      {"readiness.command", Support::lost, "the service counts as running once started"},
      {"readiness.notify", Support::lost, "the service counts as running once started"},
      {"liveness", Support::lost, "cygrunsrv has no health probe"},
      {"autostart", Support::supported, "--type manual (and left out of cygrunsrv.sh start)"},
  };
  return table;
}

std::string service_name(std::string_view instance) {
  return "nixpm-" + std::string(instance);
}

bool is_daemon(const InstanceSpec& spec) {
  return spec.supervision.type != config::ProcessType::oneshot && spec.kind == config::ProcessKind::daemon;
}

// One argument as cygrunsrv splits --args: at spaces, with one level of '...' or "..." and no escapes.
std::optional<std::string> cygrunsrv_word(const std::string& word) {
  const bool plain =
      !word.empty() && word.find(' ') == std::string::npos && word.front() != '\'' && word.front() != '"';
  if (plain) return word;
  if (word.find('\'') == std::string::npos) return "'" + word + "'";
  if (word.find('"') == std::string::npos) return "\"" + word + "\"";
  return std::nullopt;
}

std::optional<std::string> cygrunsrv_args(const std::vector<std::string>& arguments) {
  std::vector<std::string> words;
  for (const auto& argument : arguments) {
    auto word = cygrunsrv_word(argument);
    if (!word) return std::nullopt;
    words.push_back(*word);
  }
  return s::join(words, " ");
}

// What one `cygrunsrv --install` says. Values are plain text; the script quotes them.
struct Install {
  std::string name;
  std::string path;
  std::string args;             // already in cygrunsrv's own quoting; "" for none
  bool args_are_shell = false;  // args is sh text (the wrapper's path, "$here" expanded by the script)
  std::string chdir;
  std::map<std::string, std::string> environment;
  std::vector<std::string> dependencies;
  std::map<std::string, std::string, std::less<>> options;  // --disp, --desc, --type, --user, --termsig, ...
  bool shutdown = true;
  std::vector<std::string> extra;
  bool autostart = true;
};

bool needs_wrapper(const InstanceSpec& spec, const std::vector<std::string>& arguments) {
  return !spec.files.empty() || !spec.initialize.empty() || !spec.path.empty() || spec.umask || spec.nice ||
         !spec.rlimits.empty() ||
         !cygrunsrv_args(arguments);
}

std::string wrapper(const InstanceSpec& spec) {
  std::string script = "#!/bin/sh\n";
  script += "# " + spec.name + ": " +
            shell::one_line(spec.description.empty() ? spec.name : spec.description) + "\n";
  script += "# Run by cygrunsrv as the Windows service " + service_name(spec.name) +
            ": the steps cygrunsrv lacks, then the program.\n";
  script += "# Generated by nixpm (nixpmctl generate --manager cygrunsrv): regenerate rather than edit.\n";
  script += s::write_files_script(spec, "");
  if (spec.umask) script += "umask " + s::octal_umask(*spec.umask) + "\n";
  script += shell::resource_limits(spec, "", " || exit 1");
  if (!spec.path.empty())
    script += "export PATH=" + s::shell_quote(s::join(spec.path, ":") + ":") + "\"$PATH\"\n";
  std::vector<std::string> words;
  if (spec.nice) words = {"nice", "-n", std::to_string(*spec.nice)};
  for (auto& word : shell::program_argv(spec)) words.push_back(std::move(word));
  return script + "exec " + s::shell_command(words) + "\n";
}

Install install_of(const InstanceSpec& spec, const GenerateOptions& options, bool wrapped) {
  const auto& policy = spec.supervision;
  Install install;
  install.name = service_name(spec.name);
  const bool daemon = is_daemon(spec);
  const auto& executable = daemon ? spec.daemon_executable : spec.foreground_executable;
  const auto& arguments = daemon ? spec.daemon_arguments : spec.foreground_arguments;
  if (wrapped) {
    install.path = "/bin/sh";
    // Windows file names cannot hold '"', so double quotes always keep the path one argument.
    install.args = "\"\\\"$here/" + spec.name + ".sh\\\"\"";
    install.args_are_shell = true;
  } else {
    install.path = executable;
    install.args = *cygrunsrv_args(arguments);
  }
  install.chdir = s::working_directory(spec, options).string();
  install.environment = spec.environment;
  install.dependencies = s::dependency_names(spec);
  for (auto& dependency : install.dependencies) dependency = service_name(dependency);
  install.options["disp"] = "nixpm " + spec.name;
  // The description defaults to the name, which --disp shows already.
  if (!spec.description.empty() && spec.description != spec.name)
    install.options["desc"] = shell::one_line(spec.description);
  if (!spec.autostart) install.options["type"] = "manual";
  if (s::switches_user(spec, options)) install.options["user"] = spec.user;
  if (policy.stop_signal != SIGTERM) install.options["termsig"] = s::signal_name(policy.stop_signal);
  if (daemon) install.options["pidfile"] = s::pid_file(spec, options).string();
  const std::string log = s::log_file(spec, options).string();
  install.options["stdout"] = log;
  install.options["stderr"] = log;
  install.autostart = spec.autostart;
  return install;
}

std::string text_override(const InstanceSpec& spec, const std::string& key, const nlohmann::json& value) {
  return s::override_scalar(spec, kManager, key, value);
}

std::vector<std::string> list_override(const InstanceSpec& spec, const std::string& key,
                                       const nlohmann::json& value) {
  if (!value.is_array())
    throw GenerateError("instance '" + spec.name + "': overrides.cygrunsrv." + key + " must be a list, not " +
                        value.type_name());
  std::vector<std::string> items;
  for (const auto& item : value) items.push_back(text_override(spec, key, item));
  return items;
}

// overrides.cygrunsrv, in the shape of nix-processmgmt's createCygrunsrvParams (applied last).
void apply_overrides(Install& install, const InstanceSpec& spec) {
  static const std::map<std::string, std::string, std::less<>> kOptions{
      {"displayName", "disp"}, {"description", "desc"},        {"type", "type"},      {"user", "user"},
      {"password", "passwd"},  {"terminateSignal", "termsig"}, {"stdin", "stdin"},    {"stdout", "stdout"},
      {"stderr", "stderr"},    {"pidFile", "pidfile"},         {"directory", "chdir"}};
  for (const auto& [key, value] : s::override_entries(spec, kManager)) {
    if (const auto option = kOptions.find(key); option != kOptions.end()) {
      if (value->is_null())
        install.options.erase(option->second);
      else
        install.options[option->second] = text_override(spec, key, *value);
    } else if (key == "path") {
      install.path = text_override(spec, key, *value);
    } else if (key == "args") {
      const auto arguments = cygrunsrv_args(list_override(spec, key, *value));
      if (!arguments)
        throw GenerateError("instance '" + spec.name +
                            "': overrides.cygrunsrv.args: an argument holds both ' and \" "
                            "and a space, which cygrunsrv cannot pass");
      install.args = *arguments;
      install.args_are_shell = false;
    } else if (key == "environment") {
      if (!value->is_object())
        throw GenerateError("instance '" + spec.name +
                            "': overrides.cygrunsrv.environment must be a map, not " + value->type_name());
      for (const auto& [name, setting] : value->items()) {
        if (setting.is_null())
          install.environment.erase(name);
        else
          install.environment[name] = text_override(spec, "environment." + name, setting);
      }
    } else if (key == "dependencies") {
      // Windows services to depend on besides the instance's own (e.g. Tcpip).
      for (auto& dependency : list_override(spec, key, *value))
        install.dependencies.push_back(std::move(dependency));
    } else if (key == "terminateOnShutdown") {
      if (!value->is_boolean())
        throw GenerateError("instance '" + spec.name +
                            "': overrides.cygrunsrv.terminateOnShutdown must be true or false");
      install.shutdown = value->get<bool>();
    } else if (key == "extraArguments") {
      install.extra = list_override(spec, key, *value);
    } else {
      throw GenerateError(
          "instance '" + spec.name + "': unknown key overrides.cygrunsrv." + key +
          " (known: args, dependencies, description, directory, displayName, environment, "
          "extraArguments, password, path, pidFile, stderr, stdin, stdout, terminateOnShutdown, "
          "terminateSignal, type, user)");
    }
  }
  if (install.environment.size() > kMaxEnvironment)
    throw GenerateError("instance '" + spec.name + "': cygrunsrv takes at most 255 environment variables");
  if (install.dependencies.size() > kMaxDependencies)
    throw GenerateError("instance '" + spec.name + "': cygrunsrv takes at most 16 dependencies");
}

std::string install_command(const Install& install) {
  std::vector<std::string> lines{"cygrunsrv --install " + s::shell_quote(install.name)};
  auto add = [&](std::string_view option, const std::string& value) {
    lines.push_back("--" + std::string(option) + " " + s::shell_quote(value));
  };
  add("path", install.path);
  if (install.args_are_shell)
    lines.push_back("--args " + install.args);
  else if (!install.args.empty())
    add("args", install.args);
  add("chdir", install.chdir);
  for (const auto& [name, value] : install.environment) add("env", name + "=" + value);
  for (const auto& dependency : install.dependencies) add("dep", dependency);
  // Options in a fixed order: naming, then account, stopping, tracking and output.
  for (std::string_view option :
       {"disp", "desc", "type", "user", "passwd", "termsig", "pidfile", "stdin", "stdout", "stderr"})
    if (const auto found = install.options.find(option); found != install.options.end())
      add(option, found->second);
  if (install.shutdown) lines.emplace_back("--shutdown");
  for (const auto& word : install.extra) lines.push_back(s::shell_quote(word));
  return "  " + s::join(lines, " \\\n    ") + "\n";
}

std::string script(const std::vector<Install>& installs, bool any_wrapper) {
  std::string text =
      "#!/bin/sh\n"
      "# Windows services for the nixpm instances, through Cygwin's cygrunsrv.\n"
      "# Generated by nixpm (nixpmctl generate --manager cygrunsrv): regenerate rather than edit, and put\n"
      "# native settings in the definitions' overrides.cygrunsrv.\n"
      "#\n"
      "#   sh cygrunsrv.sh install   install every service, dependencies first\n"
      "#   sh cygrunsrv.sh start     start the services that start by default, dependencies first\n"
      "#   sh cygrunsrv.sh stop      stop every service, dependents first\n"
      "#   sh cygrunsrv.sh remove    stop and remove every service, dependents first\n"
      "set -e\n";
  if (any_wrapper)
    text += "# The <name>.sh wrappers live next to this script.\nhere=$(cd \"$(dirname \"$0\")\" && pwd)\n";
  text += "\ninstall_services() {\n";
  for (const auto& install : installs) text += install_command(install);
  text += "}\n\nstart_services() {\n";
  bool any_start = false;
  for (const auto& install : installs) {
    if (!install.autostart) continue;
    text += "  cygrunsrv --start " + s::shell_quote(install.name) + "\n";
    any_start = true;
  }
  if (!any_start) text += "  :\n";
  text += "}\n\nstop_services() {\n  # A service that is not running is no error here.\n";
  for (auto it = installs.rbegin(); it != installs.rend(); ++it)
    text += "  cygrunsrv --stop " + s::shell_quote(it->name) + " 2>/dev/null || true\n";
  text += "}\n\nremove_services() {\n  stop_services\n";
  for (auto it = installs.rbegin(); it != installs.rend(); ++it)
    text += "  cygrunsrv --remove " + s::shell_quote(it->name) + "\n";
  text +=
      "}\n\n"
      "case \"${1:-}\" in\n"
      "  install) install_services ;;\n"
      "  start) start_services ;;\n"
      "  stop) stop_services ;;\n"
      "  remove) remove_services ;;\n"
      "  *) echo \"usage: $0 install|start|stop|remove\" >&2; exit 2 ;;\n"
      "esac\n";
  return text;
}

class CygrunsrvAdapter final : public ManagerAdapter {
 public:
  std::string_view name() const override { return kManager; }
  std::string_view description() const override {
    return "Cygwin cygrunsrv Windows services: cygrunsrv.sh install|start|stop|remove";
  }
  const std::vector<PropertySupport>& capabilities() const override { return cygrunsrv_capabilities(); }

  Generated generate(const config::Definitions& definitions, const GenerateOptions& options) const override {
    Generated generated;
    std::vector<Install> installs;
    bool any_wrapper = false;
    for (std::size_t index : s::dependency_order(definitions).start_order) {
      const auto& spec = definitions.instances[index];
      const bool wrapped =
          needs_wrapper(spec, is_daemon(spec) ? spec.daemon_arguments : spec.foreground_arguments);
      if (wrapped) generated.files.push_back({spec.name + ".sh", wrapper(spec), 0755});
      any_wrapper = any_wrapper || wrapped;
      installs.push_back(install_of(spec, options, wrapped));
      apply_overrides(installs.back(), spec);
      generated.start_order.push_back(installs.back().name);
    }
    generated.files.insert(generated.files.begin(),
                           OutputFile{std::string(kScript), script(installs, any_wrapper), 0755});
    generated.losses = s::losses_for(definitions, capabilities(), options, shell::ulimit_limit_check);
    return generated;
  }
};

}  // namespace

const ManagerAdapter& cygrunsrv_adapter() {
  static const CygrunsrvAdapter adapter;
  return adapter;
}

}  // namespace nixpm::managers
