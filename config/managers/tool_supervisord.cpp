// supervisord through supervisorctl. A deployment either brings its own supervisord.conf (the user
// scope, or any --root: deploy starts that supervisord when it is not running, and undeploy stops it
// again) or, in the system scope, adds conf.d/ to Debian's /etc/supervisor and keeps its configuration.

#include <sstream>

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

const fs::path kSystemRoot = "/etc/supervisor";

bool own_configuration(const ToolContext& context) { return context.root != kSystemRoot; }

// "1:02:03" or "2 days, 1:02:03" after "uptime ".
std::optional<double> uptime_after(std::string_view text) {
  const auto at = text.find("uptime ");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 7);
  double days = 0;
  if (const auto comma = rest.find(", "); comma != std::string_view::npos && rest.find("day") < comma) {
    days = static_cast<double>(tool::number_after(rest, "").value_or(0));
    rest = rest.substr(comma + 2);
  }
  int hours = 0, minutes = 0, secs = 0;
  if (std::sscanf(std::string(rest).c_str(), "%d:%d:%d", &hours, &minutes, &secs) != 3) return std::nullopt;
  return days * 86400 + hours * 3600 + minutes * 60 + secs;
}

ServiceStatus parse_line(std::string_view line) {
  ServiceStatus status;
  std::istringstream words{std::string(line)};
  std::string name, state;
  words >> name >> state;
  std::string detail;
  std::getline(words, detail);
  detail.erase(0, detail.find_first_not_of(' '));
  status.detail = detail;
  if (state == "RUNNING") {
    status.state = InstanceState::running;
    status.pid = tool::number_after(line, "pid ");
    status.uptime_seconds = uptime_after(line);
    status.detail.clear();
  } else if (state == "STARTING") {
    status.state = InstanceState::starting;
  } else if (state == "BACKOFF") {
    status.state = InstanceState::backoff;
  } else if (state == "STOPPING") {
    status.state = InstanceState::stopping;
  } else if (state == "FATAL" || state == "UNKNOWN") {
    status.state = InstanceState::failed;
    status.detail = state + (detail.empty() ? "" : ": " + detail);
  } else {  // STOPPED, EXITED
    status.state = InstanceState::stopped;
    if (state == "EXITED") status.detail = "exited " + detail;
    else status.detail.clear();
  }
  return status;
}

class SupervisordTool : public ManagerTool {
 public:
  std::string_view manager() const override { return "supervisord"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return kSystemRoot;
    const auto config = env("XDG_CONFIG_HOME");
    const fs::path base = config && !config->empty() ? fs::path(*config) : fs::path(env("HOME").value_or("/")) / ".config";
    return base / "nixpm" / "supervisord";
  }

  std::string owner_of(const fs::path& file, const std::vector<std::string>& services) const override {
    if (file == "supervisord.conf") return {};
    return ManagerTool::owner_of(file, services);
  }

  bool installs(const ToolContext& context, const fs::path& file) const override {
    return own_configuration(context) || file != "supervisord.conf";
  }

  ToolOutcome activate(const ToolContext& context, bool& started_manager) const override {
    started_manager = false;
    if (!answers(context)) {
      if (!own_configuration(context))
        return {"supervisord is not running (" + configuration(context).string() + "): start it first"};
      // supervisord opens its log and socket before anything else: their directories come first.
      std::error_code ignored;
      fs::create_directories(context.log_dir, ignored);
      fs::create_directories(context.runtime_dir, ignored);
      if (auto started = tool::outcome(context, {"supervisord", "-c", configuration(context).string()});
          !started.ok())
        return started;
      if (!tool::wait_until(context, [&] { return answers(context); }))
        return {"supervisord (" + configuration(context).string() + ") did not answer within " +
                tool::seconds(context) + " s"};
      started_manager = true;
    }
    return ctl(context, {"reread"});
  }

  ToolOutcome add(const ToolContext& context, const std::string& service) const override {
    const auto result = tool::run(context, ctl_argv(context, {"add", service}));
    // Already known: a supervisord that this deployment just started has read it at start-up.
    if (result.ok() || result.output.find("already active") != std::string::npos) return {};
    return {tool::failure({ctl_argv(context, {"add", service}), {}}, result)};
  }

  ToolOutcome refresh(const ToolContext& context, const std::string& service) const override {
    return ctl(context, {"update", service});
  }

  ToolOutcome remove(const ToolContext& context, const std::string& service) const override {
    return ctl(context, {"remove", service});
  }

  ToolOutcome start(const ToolContext& context, const std::string& service) const override {
    return ctl(context, {"start", service});
  }

  ToolOutcome stop(const ToolContext& context, const std::string& service) const override {
    return ctl(context, {"stop", service});
  }

  ToolOutcome restart(const ToolContext& context, const std::string& service) const override {
    return ctl(context, {"restart", service});
  }

  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& services) const override {
    std::vector<std::string> words{"status"};
    words.insert(words.end(), services.begin(), services.end());
    const auto result = tool::run(context, ctl_argv(context, words));
    std::vector<ServiceStatus> statuses(services.size());
    for (std::size_t i = 0; i < services.size(); ++i) {
      statuses[i].known = false;
      statuses[i].detail = result.failure.empty() ? "not known to supervisord" : result.failure;
    }
    std::istringstream lines(result.output);
    std::string line;
    while (std::getline(lines, line)) {
      for (std::size_t i = 0; i < services.size(); ++i) {
        const auto& name = services[i];
        if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
        if (line[name.size()] == ' ') statuses[i] = parse_line(line);
      }
    }
    return statuses;
  }

  ToolOutcome shutdown_manager(const ToolContext& context) const override {
    if (!answers(context)) return {};
    if (auto done = ctl(context, {"shutdown"}); !done.ok()) return done;
    if (!tool::wait_until(context, [&] { return !answers(context); }))
      return {"supervisord did not shut down within " + tool::seconds(context) + " s"};
    return {};
  }

 private:
  static fs::path configuration(const ToolContext& context) { return context.root / "supervisord.conf"; }

  static std::vector<std::string> ctl_argv(const ToolContext& context, std::vector<std::string> words) {
    std::vector<std::string> argv{"supervisorctl", "-c", configuration(context).string()};
    argv.insert(argv.end(), words.begin(), words.end());
    return argv;
  }

  static ToolOutcome ctl(const ToolContext& context, std::vector<std::string> words) {
    return tool::outcome(context, ctl_argv(context, std::move(words)));
  }

  static bool answers(const ToolContext& context) { return tool::run(context, ctl_argv(context, {"pid"})).ok(); }
};

}  // namespace

const ManagerTool& supervisord_tool() {
  static const SupervisordTool tool;
  return tool;
}

}  // namespace nixpm::managers
