// runit: the service directories go straight into runsvdir's directory (the root), which starts a runsv
// for each within five seconds; `sv` drives them. A service leaves by being renamed to a dot name
// (runsvdir ignores those) and told to exit, so that runsvdir does not start it again.

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

fs::path directory(const ToolContext& context, const std::string& service) { return context.root / service; }
fs::path leaving(const ToolContext& context, const std::string& service) {
  return context.root / ("." + service + ".nixpm-removed");
}

// The first "<state>: <dir>: ..." part of `sv status`, before the log's.
ServiceStatus parse_status(const ToolResult& result) {
  ServiceStatus status;
  const std::string& text = result.output;
  const auto main_part = text.substr(0, text.find("; "));
  if (!result.failure.empty()) {
    status.state = InstanceState::failed;
    status.detail = result.failure;
  } else if (main_part.starts_with("run: ")) {
    status.state = main_part.find("want down") != std::string::npos ? InstanceState::stopping : InstanceState::running;
    status.pid = tool::number_after(main_part, "(pid ");
    if (const auto close = main_part.find(") "); close != std::string::npos)
      status.uptime_seconds = static_cast<double>(tool::number_after(main_part.substr(close + 2), "").value_or(0));
  } else if (main_part.starts_with("finish: ")) {
    status.state = InstanceState::stopping;
  } else if (main_part.starts_with("down: ")) {
    status.state = main_part.find("want up") != std::string::npos ? InstanceState::starting : InstanceState::stopped;
  } else {
    // "warning: ...: unable to open supervise/ok": no runsv (yet) for this directory.
    status.state = InstanceState::stopped;
    status.detail = "runsv is not running for it";
  }
  return status;
}

class RunitTool : public ManagerTool {
 public:
  std::string_view manager() const override { return "runit"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return "/etc/service";
    const auto config = env("XDG_CONFIG_HOME");
    const fs::path base = config && !config->empty() ? fs::path(*config) : fs::path(env("HOME").value_or("/")) / ".config";
    return base / "nixpm" / "runit";
  }

  std::vector<fs::path> service_directories(const ToolContext& context, const std::string& service) const override {
    return {directory(context, service), leaving(context, service)};
  }

  ToolOutcome start(const ToolContext& context, const std::string& service) const override {
    const auto dir = directory(context, service).string();
    // runsvdir notices a new directory on its next scan: wait for its runsv before asking it.
    if (!tool::wait_until(context, [&] { return supervised(context, dir); }))
      return {"no runsv answers for " + dir + " within " + tool::seconds(context) +
              " s: is runsvdir running on " + context.root.string() + "?"};
    return tool::outcome(context, {"sv", "-w", tool::seconds(context), "start", dir});
  }

  ToolOutcome stop(const ToolContext& context, const std::string& service) const override {
    const auto dir = directory(context, service).string();
    if (!supervised(context, dir)) return {};  // no runsv: nothing runs
    return tool::outcome(context, {"sv", "-w", tool::seconds(context), "down", dir});
  }

  ToolOutcome restart(const ToolContext& context, const std::string& service) const override {
    const auto dir = directory(context, service).string();
    if (!supervised(context, dir)) return start(context, service);
    return tool::outcome(context, {"sv", "-w", tool::seconds(context), "restart", dir});
  }

  ToolOutcome remove(const ToolContext& context, const std::string& service) const override {
    std::error_code error;
    fs::remove_all(leaving(context, service), error);
    fs::rename(directory(context, service), leaving(context, service), error);
    if (error) return {"cannot move " + directory(context, service).string() + " away: " + error.message()};
    const auto moved = leaving(context, service).string();
    if (!supervised(context, moved)) return {};
    // runsv exits once the service is down, taking its logger with it.
    return tool::outcome(context, {"sv", "exit", moved});
  }

  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& services) const override {
    std::vector<ServiceStatus> statuses;
    for (const auto& service : services) {
      const auto dir = directory(context, service);
      if (!fs::is_directory(dir)) {
        ServiceStatus unknown;
        unknown.known = false;
        unknown.detail = "no service directory " + dir.string();
        statuses.push_back(unknown);
        continue;
      }
      statuses.push_back(parse_status(tool::run(context, {"sv", "status", dir.string()})));
    }
    return statuses;
  }

  fs::path log_path(const ToolContext& context, const std::string& instance) const override {
    return context.log_dir / instance / "current";
  }

 private:
  static bool supervised(const ToolContext& context, const std::string& dir) {
    const auto result = tool::run(context, {"sv", "status", dir});
    return result.ok() && !result.output.starts_with("warning:") && !result.output.starts_with("fail:");
  }
};

}  // namespace

const ManagerTool& runit_tool() {
  static const RunitTool tool;
  return tool;
}

}  // namespace nixpm::managers
