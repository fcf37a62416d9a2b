// LSB init scripts, run as they are: <root>/init.d/<name> start|stop|restart|status (the rc<N>.d links
// are installed beside them for update-rc.d-style boots). The scripts wait for readiness on start and
// for the process to end on stop, so their exit status is the outcome.

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

class SysvinitTool : public ManagerTool {
 public:
  std::string_view manager() const override { return "sysvinit"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return "/etc";
    const auto config = env("XDG_CONFIG_HOME");
    const fs::path base = config && !config->empty() ? fs::path(*config) : fs::path(env("HOME").value_or("/")) / ".config";
    return base / "nixpm" / "sysvinit";
  }

  // init.d/<name>, and rc<N>.d/S<NN><name> or K<NN><name>.
  std::string owner_of(const fs::path& file, const std::vector<std::string>& services) const override {
    const auto directory = file.parent_path().string();
    std::string name = file.filename().string();
    if (directory.starts_with("rc") && directory.ends_with(".d") && name.size() > 3) name = name.substr(3);
    for (const auto& service : services)
      if (service == name) return service;
    return {};
  }

  ToolOutcome start(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {script(context, service), "start"});
  }
  ToolOutcome stop(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {script(context, service), "stop"});
  }
  ToolOutcome restart(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {script(context, service), "restart"});
  }

  // LSB status codes: 0 running (or a oneshot that has run), 1 dead with a pid file, 3 not running.
  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& services) const override {
    std::vector<ServiceStatus> statuses;
    for (const auto& service : services) {
      ServiceStatus status;
      const auto path = script(context, service);
      if (!fs::exists(path)) {
        status.known = false;
        status.detail = "no init script " + path;
        statuses.push_back(status);
        continue;
      }
      const auto result = tool::run(context, {path, "status"});
      if (!result.failure.empty()) {
        status.state = InstanceState::failed;
        status.detail = result.failure;
      } else if (result.exit_status == 0) {
        const bool oneshot = result.output.find(" has run") != std::string::npos;
        status.state = oneshot ? InstanceState::done : InstanceState::running;
        status.pid = tool::number_after(result.output, "(pid ");
      } else if (result.exit_status == 1 || result.exit_status == 2) {
        status.state = InstanceState::failed;
        status.detail = "dead, but its pid file remains";
      } else {
        status.state = InstanceState::stopped;
      }
      statuses.push_back(status);
    }
    return statuses;
  }

 private:
  static std::string script(const ToolContext& context, const std::string& service) {
    return (context.root / "init.d" / service).string();
  }
};

}  // namespace

const ManagerTool& sysvinit_tool() {
  static const SysvinitTool tool;
  return tool;
}

}  // namespace nixpm::managers
