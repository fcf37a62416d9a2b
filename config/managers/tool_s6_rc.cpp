// s6-rc: the source definitions go to <root>/source; activation compiles them into a new
// <root>/compiled-<n> and switches the live state to it with s6-rc-update; s6-rc -u/-d change starts and
// stops a service with its dependencies. Command construction only is tested here (Debian 12 has no
// s6-rc package).

#include <sstream>

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

fs::path live_directory(const ToolContext& context) {
  return context.scope == Scope::system ? fs::path("/run/s6-rc") : context.runtime_dir / "s6-rc";
}

class S6RcTool : public ManagerTool {
 public:
  std::string_view manager() const override { return "s6-rc"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return "/etc/s6-rc/nixpm";
    const auto config = env("XDG_CONFIG_HOME");
    const fs::path base = config && !config->empty() ? fs::path(*config) : fs::path(env("HOME").value_or("/")) / ".config";
    return base / "nixpm" / "s6-rc";
  }

  fs::path install_path(const fs::path& file) const override { return fs::path("source") / file; }

  // <name>-srv/..., <name>-log/... and a oneshot's <name>/...; the `nixpm` bundle is shared.
  std::string owner_of(const fs::path& file, const std::vector<std::string>& services) const override {
    const auto first = file.begin() == file.end() ? std::string() : file.begin()->string();
    for (const auto& service : services)
      if (first == service || first == service + "-srv" || first == service + "-log") return service;
    return {};
  }

  ToolOutcome activate(const ToolContext& context, bool& started_manager) const override {
    started_manager = false;
    int generation = 1;
    while (fs::exists(context.root / ("compiled-" + std::to_string(generation)))) ++generation;
    const auto compiled = (context.root / ("compiled-" + std::to_string(generation))).string();
    if (auto built = tool::outcome(context, {"s6-rc-compile", compiled, (context.root / "source").string()});
        !built.ok())
      return built;
    if (!fs::exists(live_directory(context)))
      return {"s6-rc is not running on " + live_directory(context).string() + ": start it with s6-rc-init -c " +
              compiled + " -l " + live_directory(context).string() + " <scandir>, then deploy again"};
    return tool::outcome(context, {"s6-rc-update", "-l", live_directory(context).string(), compiled});
  }

  ToolOutcome start(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {"s6-rc", "-l", live_directory(context).string(), "-t",
                                   std::to_string(context.timeout.count() * 1000), "-u", "change", service});
  }
  ToolOutcome stop(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {"s6-rc", "-l", live_directory(context).string(), "-t",
                                   std::to_string(context.timeout.count() * 1000), "-d", "change", service});
  }

  // `s6-rc -a list` names the active atomic services: <name>-srv for a longrun, <name> for a oneshot.
  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& services) const override {
    const auto result = tool::run(context, {"s6-rc", "-l", live_directory(context).string(), "-a", "list"});
    std::vector<std::string> active;
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);) active.push_back(line);
    std::vector<ServiceStatus> statuses;
    for (const auto& service : services) {
      ServiceStatus status;
      if (!result.ok()) {
        status.state = InstanceState::failed;
        status.detail = tool::failure({{"s6-rc", "-a", "list"}, {}}, result);
      } else {
        for (const auto& name : active) {
          if (name == service + "-srv") status.state = InstanceState::running;
          if (name == service) status.state = InstanceState::done;
        }
      }
      statuses.push_back(status);
    }
    return statuses;
  }

  fs::path log_path(const ToolContext& context, const std::string& instance) const override {
    return context.log_dir / instance / "current";
  }
};

}  // namespace

const ManagerTool& s6_rc_tool() {
  static const S6RcTool tool;
  return tool;
}

}  // namespace nixpm::managers
