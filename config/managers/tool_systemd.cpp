// systemd through systemctl (with --user for user units). Command construction only is tested here:
// this machine does not run systemd as PID 1.

#include <map>
#include <sstream>

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

class SystemdTool : public ManagerTool {
 public:
  std::string_view manager() const override { return "systemd"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return "/etc/systemd/system";
    const auto config = env("XDG_CONFIG_HOME");
    const fs::path base = config && !config->empty() ? fs::path(*config) : fs::path(env("HOME").value_or("/")) / ".config";
    return base / "systemd" / "user";
  }

  // As the adapter names units: "@" would make a template instance of it.
  std::string service_name(std::string_view instance) const override {
    std::string name;
    for (char c : instance) name += c == '@' ? std::string("\\x40") : std::string(1, c);
    return name + ".service";
  }

  // <unit>, sysusers.d/<name>.conf and tmpfiles.d/<name>.conf; nixpm.target is shared.
  std::string owner_of(const fs::path& file, const std::vector<std::string>& services) const override {
    const auto name = file.filename().string();
    const auto stem = file.stem().string() + ".service";
    for (const auto& service : services)
      if (service == name || (file.has_parent_path() && service == stem)) return service;
    return {};
  }

  ToolOutcome activate(const ToolContext& context, bool& started_manager) const override {
    started_manager = false;
    return tool::outcome(context, ctl(context, {"daemon-reload"}));
  }
  ToolOutcome start(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, ctl(context, {"start", service}));
  }
  ToolOutcome stop(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, ctl(context, {"stop", service}));
  }
  ToolOutcome restart(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, ctl(context, {"restart", service}));
  }

  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& services) const override {
    std::vector<ServiceStatus> statuses;
    for (const auto& service : services) {
      const auto result =
          tool::run(context, ctl(context, {"show", "--property=LoadState,ActiveState,SubState,MainPID", service}));
      statuses.push_back(parse(result));
    }
    return statuses;
  }

  fs::path log_path(const ToolContext&, const std::string&) const override { return {}; }
  std::string log_hint(const ToolContext& context, const std::string& instance) const override {
    return std::string("systemd keeps the output in the journal: journalctl ") +
           (context.scope == Scope::user ? "--user " : "") + "-u " + service_name(instance);
  }

  // "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=123".
  static ServiceStatus parse(const ToolResult& result) {
    ServiceStatus status;
    if (!result.ok()) {
      status.state = InstanceState::failed;
      status.detail = result.failure.empty() ? result.output : result.failure;
      return status;
    }
    std::map<std::string, std::string> properties;
    std::istringstream lines(result.output);
    std::string line;
    while (std::getline(lines, line))
      if (const auto equals = line.find('='); equals != std::string::npos)
        properties[line.substr(0, equals)] = line.substr(equals + 1);
    if (properties["LoadState"] == "not-found") {
      status.known = false;
      status.detail = "no such unit";
      return status;
    }
    const auto& active = properties["ActiveState"];
    if (active == "active") {
      status.state = properties["SubState"] == "exited" ? InstanceState::done : InstanceState::running;
    } else if (active == "activating" || active == "reloading") {
      status.state = properties["SubState"] == "auto-restart" ? InstanceState::backoff : InstanceState::starting;
    } else if (active == "deactivating") {
      status.state = InstanceState::stopping;
    } else if (active == "failed") {
      status.state = InstanceState::failed;
      status.detail = "failed (" + properties["SubState"] + ")";
    } else {
      status.state = InstanceState::stopped;
    }
    if (const auto pid = tool::number_after(properties["MainPID"], ""); pid && *pid > 0) status.pid = pid;
    return status;
  }

 private:
  static std::vector<std::string> ctl(const ToolContext& context, std::vector<std::string> words) {
    std::vector<std::string> argv{"systemctl"};
    if (context.scope == Scope::user) argv.emplace_back("--user");
    argv.insert(argv.end(), words.begin(), words.end());
    return argv;
  }
};

}  // namespace

const ManagerTool& systemd_tool() {
  static const SystemdTool tool;
  return tool;
}

}  // namespace nixpm::managers
