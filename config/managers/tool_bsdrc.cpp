// FreeBSD rc.d scripts, run as they are with the one* verbs (which work whatever rc.conf enables):
// <root>/rc.d/<name> onestart|onestop|onerestart|onestatus. Command construction only is tested here.

#include <cctype>

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

class BsdrcTool : public ManagerTool {
 public:
  std::string_view manager() const override { return "bsdrc"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return "/usr/local/etc";
    const auto config = env("XDG_CONFIG_HOME");
    const fs::path base = config && !config->empty() ? fs::path(*config) : fs::path(env("HOME").value_or("/")) / ".config";
    return base / "nixpm" / "bsdrc";
  }

  // rc.d names are shell variable names, as the adapter makes them.
  std::string service_name(std::string_view instance) const override {
    std::string name(instance);
    for (char& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
    return name;
  }

  ToolOutcome start(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {script(context, service), "onestart"});
  }
  ToolOutcome stop(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {script(context, service), "onestop"});
  }
  ToolOutcome restart(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {script(context, service), "onerestart"});
  }

  // "<name> is running as pid 123." (0) or "<name> is not running." (1).
  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& services) const override {
    std::vector<ServiceStatus> statuses;
    for (const auto& service : services) {
      const auto result = tool::run(context, {script(context, service), "onestatus"});
      ServiceStatus status;
      if (!result.failure.empty()) {
        status.state = InstanceState::failed;
        status.detail = result.failure;
      } else if (result.exit_status == 0) {
        const bool oneshot = result.output.find(" has run") != std::string::npos;
        status.state = oneshot ? InstanceState::done : InstanceState::running;
        status.pid = tool::number_after(result.output, "as pid ");
      }
      statuses.push_back(status);
    }
    return statuses;
  }

 private:
  static std::string script(const ToolContext& context, const std::string& service) {
    return (context.root / "rc.d" / service).string();
  }
};

}  // namespace

const ManagerTool& bsdrc_tool() {
  static const BsdrcTool tool;
  return tool;
}

}  // namespace nixpm::managers
