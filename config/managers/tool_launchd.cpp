// launchd through launchctl's domain commands: jobs are bootstrapped into system (LaunchDaemons) or
// gui/<uid> (LaunchAgents) and addressed as <domain>/<label>. Command construction only is tested here.

#include <sstream>

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

std::string domain(const ToolContext& context) {
  return context.scope == Scope::system ? "system" : "gui/" + std::to_string(context.uid);
}
std::string target(const ToolContext& context, const std::string& label) { return domain(context) + "/" + label; }
std::string plist(const ToolContext& context, const std::string& label) {
  return (context.root / (context.scope == Scope::system ? "LaunchDaemons" : "LaunchAgents") / (label + ".plist"))
      .string();
}

class LaunchdTool : public ManagerTool {
 public:
  std::string_view manager() const override { return "launchd"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return "/Library";
    return fs::path(env("HOME").value_or("/")) / "Library";
  }

  std::string service_name(std::string_view instance) const override { return "org.nixpm." + std::string(instance); }

  ToolOutcome add(const ToolContext& context, const std::string& label) const override {
    return tool::outcome(context, {"launchctl", "bootstrap", domain(context), plist(context, label)});
  }
  ToolOutcome refresh(const ToolContext& context, const std::string& label) const override {
    return add(context, label);  // stop booted it out; bootstrap reads the new plist
  }
  ToolOutcome remove(const ToolContext&, const std::string&) const override {
    return {};  // stop booted it out already
  }
  // A job with KeepAlive comes back after a kill: booting it out is what stops it.
  ToolOutcome stop(const ToolContext& context, const std::string& label) const override {
    if (!loaded(context, label)) return {};
    return tool::outcome(context, {"launchctl", "bootout", target(context, label)});
  }
  ToolOutcome start(const ToolContext& context, const std::string& label) const override {
    if (!loaded(context, label))
      if (auto added = add(context, label); !added.ok()) return added;
    return tool::outcome(context, {"launchctl", "kickstart", target(context, label)});
  }
  ToolOutcome restart(const ToolContext& context, const std::string& label) const override {
    if (!loaded(context, label)) return start(context, label);
    return tool::outcome(context, {"launchctl", "kickstart", "-k", target(context, label)});
  }

  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& labels) const override {
    std::vector<ServiceStatus> statuses;
    for (const auto& label : labels) {
      const auto result = tool::run(context, {"launchctl", "print", target(context, label)});
      ServiceStatus status;
      if (!result.ok()) {
        status.detail = "not loaded";  // launchctl print fails for a job that is not bootstrapped
      } else if (result.output.find("state = running") != std::string::npos) {
        status.state = InstanceState::running;
        status.pid = tool::number_after(result.output, "pid = ");
      } else {
        status.detail = result.output.find("last exit code = ") != std::string::npos
                            ? "last exit code " + std::to_string(tool::number_after(result.output, "last exit code = ").value_or(0))
                            : "";
      }
      statuses.push_back(status);
    }
    return statuses;
  }

 private:
  static bool loaded(const ToolContext& context, const std::string& label) {
    return tool::run(context, {"launchctl", "print", target(context, label)}).ok();
  }
};

}  // namespace

const ManagerTool& launchd_tool() {
  static const LaunchdTool tool;
  return tool;
}

}  // namespace nixpm::managers
