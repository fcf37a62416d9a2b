// s6: the service directories go into the scan directory of a running s6-svscan (the root), which
// `s6-svscanctl -a` makes look at once; s6-svc and s6-svstat drive and read them. A service leaves by
// being renamed to a dot name (s6-svscan ignores those) and `s6-svscanctl -an`, which ends the
// supervisors of directories that are gone.

#include <sstream>

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

fs::path directory(const ToolContext& context, const std::string& service) { return context.root / service; }
fs::path leaving(const ToolContext& context, const std::string& service) {
  return context.root / ("." + service + ".nixpm-removed");
}
std::string milliseconds(const ToolContext& context) { return std::to_string(context.timeout.count() * 1000); }
bool signals_readiness(const ToolContext& context, const std::string& service) {
  return fs::exists(directory(context, service) / "notification-fd");
}

class S6Tool : public ManagerTool {
 public:
  std::string_view manager() const override { return "s6"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return "/run/service";
    const auto config = env("XDG_CONFIG_HOME");
    const fs::path base = config && !config->empty() ? fs::path(*config) : fs::path(env("HOME").value_or("/")) / ".config";
    return base / "nixpm" / "s6";
  }

  std::vector<fs::path> service_directories(const ToolContext& context, const std::string& service) const override {
    return {directory(context, service), leaving(context, service)};
  }

  ToolOutcome activate(const ToolContext& context, bool& started_manager) const override {
    started_manager = false;
    const auto rescan = tool::run(context, {"s6-svscanctl", "-a", context.root.string()});
    if (rescan.ok()) return {};
    return {tool::failure({{"s6-svscanctl", "-a", context.root.string()}, {}}, rescan) +
            " (is s6-svscan running on " + context.root.string() + "?)"};
  }

  ToolOutcome start(const ToolContext& context, const std::string& service) const override {
    const auto dir = directory(context, service).string();
    if (!tool::wait_until(context, [&] { return supervised(context, dir); }))
      return {"no s6-supervise runs " + dir + " after " + tool::seconds(context) + " s: is s6-svscan running on " +
              context.root.string() + "?"};
    return tool::outcome(context, {"s6-svc", "-u", signals_readiness(context, service) ? "-wU" : "-wu", "-T",
                                   milliseconds(context), dir});
  }

  ToolOutcome stop(const ToolContext& context, const std::string& service) const override {
    const auto dir = directory(context, service).string();
    if (!supervised(context, dir)) return {};
    return tool::outcome(context, {"s6-svc", "-d", "-wD", "-T", milliseconds(context), dir});
  }

  ToolOutcome restart(const ToolContext& context, const std::string& service) const override {
    const auto dir = directory(context, service).string();
    if (!supervised(context, dir)) return start(context, service);
    return tool::outcome(context, {"s6-svc", "-r", signals_readiness(context, service) ? "-wR" : "-wr", "-T",
                                   milliseconds(context), dir});
  }

  ToolOutcome remove(const ToolContext& context, const std::string& service) const override {
    std::error_code error;
    fs::remove_all(leaving(context, service), error);
    fs::rename(directory(context, service), leaving(context, service), error);
    if (error) return {"cannot move " + directory(context, service).string() + " away: " + error.message()};
    if (auto nuked = tool::outcome(context, {"s6-svscanctl", "-an", context.root.string()}); !nuked.ok()) return nuked;
    const auto moved = leaving(context, service).string();
    if (!tool::wait_until(context, [&] { return !supervised(context, moved) && !supervised(context, moved + "/log"); }))
      return {"the supervisors of " + moved + " did not exit within " + tool::seconds(context) + " s"};
    return {};
  }

  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& services) const override {
    std::vector<ServiceStatus> statuses;
    for (const auto& service : services) {
      ServiceStatus status;
      const auto dir = directory(context, service).string();
      if (!fs::is_directory(dir)) {
        status.known = false;
        status.detail = "no service directory " + dir;
      } else if (!supervised(context, dir)) {
        status.detail = "s6-supervise is not running for it";
      } else {
        status = parse(tool::run(context, {"s6-svstat", "-o", "up,wantedup,ready,pid,updownfor", dir}),
                       signals_readiness(context, service));
      }
      statuses.push_back(status);
    }
    return statuses;
  }

  fs::path log_path(const ToolContext& context, const std::string& instance) const override {
    return context.log_dir / instance / "current";
  }

 private:
  static bool supervised(const ToolContext& context, const std::string& dir) {
    return tool::run(context, {"s6-svok", dir}).ok();
  }

  // "true true true 1234 42": up, wanted up, ready, pid, seconds in the current state.
  static ServiceStatus parse(const ToolResult& result, bool with_readiness) {
    ServiceStatus status;
    if (!result.ok()) {
      status.state = InstanceState::failed;
      status.detail = result.failure.empty() ? result.output : result.failure;
      return status;
    }
    std::istringstream words(result.output);
    std::string up, wanted, ready;
    long long pid = -1, seconds = 0;
    words >> up >> wanted >> ready >> pid >> seconds;
    if (up == "true") {
      status.pid = pid > 0 ? std::optional<long long>(pid) : std::nullopt;
      status.uptime_seconds = static_cast<double>(seconds);
      if (wanted != "true") status.state = InstanceState::stopping;
      else if (with_readiness && ready != "true") status.state = InstanceState::starting;
      else status.state = InstanceState::running;
    } else {
      status.state = wanted == "true" ? InstanceState::backoff : InstanceState::stopped;
    }
    return status;
  }
};

}  // namespace

const ManagerTool& s6_tool() {
  static const S6Tool tool;
  return tool;
}

}  // namespace nixpm::managers
