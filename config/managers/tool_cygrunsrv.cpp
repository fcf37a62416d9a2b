// cygrunsrv (Windows services under Cygwin). The install parameters live in the generated cygrunsrv.sh;
// a service is installed by running that script's own `cygrunsrv --install` command for it (so the
// quoting stays the adapter's), then driven with cygrunsrv --start/--stop/--query/--remove.
// Command construction only is tested here.

#include <fstream>

#include "config/managers/manager_tools.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kPrefix = "nixpm-";

// The `cygrunsrv --install <service> \ ...` command of the generated script, continuation lines joined.
std::string install_command(const fs::path& script, const std::string& service) {
  std::ifstream in(script);
  std::string line, command;
  bool inside = false;
  while (std::getline(in, line)) {
    const auto text = line.substr(std::min(line.find_first_not_of(' '), line.size()));
    if (!inside && text == "cygrunsrv --install " + service + " \\") inside = true;
    if (!inside) continue;
    const bool continued = !text.empty() && text.back() == '\\';
    command += (continued ? text.substr(0, text.size() - 1) : text);
    if (!continued) break;
  }
  return command;
}

class CygrunsrvTool : public ManagerTool {
 public:
  std::string_view manager() const override { return "cygrunsrv"; }

  fs::path default_root(Scope scope, const EnvLookup& env) const override {
    if (scope == Scope::system) return "/usr/local/lib/nixpm/cygrunsrv";
    const auto config = env("XDG_CONFIG_HOME");
    const fs::path base = config && !config->empty() ? fs::path(*config) : fs::path(env("HOME").value_or("/")) / ".config";
    return base / "nixpm" / "cygrunsrv";
  }

  std::string service_name(std::string_view instance) const override { return std::string(kPrefix) + std::string(instance); }

  // <name>.sh is the service's wrapper; cygrunsrv.sh is shared.
  std::string owner_of(const fs::path& file, const std::vector<std::string>& services) const override {
    const auto name = std::string(kPrefix) + file.stem().string();
    for (const auto& service : services)
      if (service == name && file != "cygrunsrv.sh") return service;
    return {};
  }

  ToolOutcome add(const ToolContext& context, const std::string& service) const override {
    const auto script = context.root / "cygrunsrv.sh";
    const auto command = install_command(script, service);
    if (command.empty()) return {script.string() + " has no install command for " + service};
    // `here` is what the script calls its own directory.
    return tool::outcome(context, {"/bin/sh", "-c", "here=\"$1\"; " + command, "sh", context.root.string()});
  }
  ToolOutcome refresh(const ToolContext& context, const std::string& service) const override {
    if (auto removed = remove(context, service); !removed.ok()) return removed;
    return add(context, service);
  }
  ToolOutcome remove(const ToolContext& context, const std::string& service) const override {
    if (!installed(context, service)) return {};
    return tool::outcome(context, {"cygrunsrv", "--remove", service});
  }
  ToolOutcome start(const ToolContext& context, const std::string& service) const override {
    return tool::outcome(context, {"cygrunsrv", "--start", service});
  }
  ToolOutcome stop(const ToolContext& context, const std::string& service) const override {
    if (!installed(context, service)) return {};
    const auto result = tool::run(context, {"cygrunsrv", "--query", service});
    if (result.output.find("Stopped") != std::string::npos) return {};
    return tool::outcome(context, {"cygrunsrv", "--stop", service});
  }

  // "Current State       : Running".
  std::vector<ServiceStatus> status(const ToolContext& context,
                                    const std::vector<std::string>& services) const override {
    std::vector<ServiceStatus> statuses;
    for (const auto& service : services) {
      ServiceStatus status;
      const auto result = tool::run(context, {"cygrunsrv", "--query", "--verbose", service});
      if (!result.ok()) {
        status.known = false;
        status.detail = "not installed";
      } else if (result.output.find(": Running") != std::string::npos) {
        status.state = InstanceState::running;
        status.pid = tool::number_after(result.output, "Process ID          : ");
      } else if (result.output.find(": Start Pending") != std::string::npos) {
        status.state = InstanceState::starting;
      } else if (result.output.find(": Stop Pending") != std::string::npos) {
        status.state = InstanceState::stopping;
      }
      statuses.push_back(status);
    }
    return statuses;
  }

 private:
  static bool installed(const ToolContext& context, const std::string& service) {
    return tool::run(context, {"cygrunsrv", "--query", service}).ok();
  }
};

}  // namespace

const ManagerTool& cygrunsrv_tool() {
  static const CygrunsrvTool tool;
  return tool;
}

}  // namespace nixpm::managers
