#pragma once
// The tool layer: for each native manager, where generated files are installed and how its own tool
// starts, stops and reports a service (supervisorctl, sv, s6-svc, the init scripts themselves,
// systemctl, launchctl, rc.d scripts, cygrunsrv, s6-rc). `nixpmctl deploy` and `nixpmd --manager` are
// built on it.
//
// Every tool runs through the CommandRunner in the ToolContext: with a fake runner, unit tests check
// the exact commands (and feed the tools' output back) for managers this machine does not have.
//
// Names: operations take the manager-side service name (what Generated::start_order holds: the
// program, script or directory name, `nginx.service`, `org.nixpm.nginx`, `nixpm-nginx`);
// service_name() maps an instance to it.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "common/instance_state.hpp"
#include "common/paths.hpp"
#include "config/managers/command_runner.hpp"
#include "config/managers/manager_adapter.hpp"

namespace nixpm::managers {

// Where one deployment lives, and how its tools are run.
struct ToolContext {
  Scope scope = Scope::system;
  std::filesystem::path root;  // where the generated files are installed (the manager's place, or --root)
  std::filesystem::path state_dir;
  std::filesystem::path runtime_dir;
  std::filesystem::path log_dir;
  uid_t uid = 0;                          // launchd's gui/<uid> domain
  std::chrono::seconds timeout{60};       // for each operation that waits (start, stop)
  CommandRunner* runner = nullptr;
};

// What a manager says about one service, in nixpm's states.
struct ServiceStatus {
  bool known = true;  // false: the manager does not know the service (not deployed, or gone)
  InstanceState state = InstanceState::stopped;
  std::optional<long long> pid;
  std::optional<double> uptime_seconds;
  std::string detail;  // the tool's own words when they say more than the state (FATAL, exit status)
};

// Success, or what went wrong (naming the command and quoting the tool).
struct ToolOutcome {
  std::string error;
  bool ok() const { return error.empty(); }
};

class ManagerTool {
 public:
  virtual ~ManagerTool() = default;
  virtual std::string_view manager() const = 0;  // the adapter's name

  // The manager's place for generated files when no --root is given.
  virtual std::filesystem::path default_root(Scope scope, const EnvLookup& env) const = 0;
  // The manager-side name of an instance.
  virtual std::string service_name(std::string_view instance) const { return std::string(instance); }
  // The service (of `services`) a generated file belongs to, "" for a file the deployment shares.
  // The default: the first path component, or the file name without its extension.
  virtual std::string owner_of(const std::filesystem::path& file, const std::vector<std::string>& services) const;
  // Where a generated file (relative, as the adapter names it) goes under the root.
  virtual std::filesystem::path install_path(const std::filesystem::path& file) const { return file; }
  // Whether a generated file is installed at all (a system supervisord keeps its own supervisord.conf).
  virtual bool installs(const ToolContext&, const std::filesystem::path&) const { return true; }
  // Directories that belong wholly to a service (with what the manager wrote there) and go with it.
  virtual std::vector<std::filesystem::path> service_directories(const ToolContext&, const std::string&) const {
    return {};
  }

  // After files were written or removed: the manager takes note (daemon-reload, reread, a rescan); a
  // manager the deployment owns is started first, and `started_manager` set.
  virtual ToolOutcome activate(const ToolContext&, bool& started_manager) const;
  // A new service's files are in place: register it (it may start at once when the manager does that).
  virtual ToolOutcome add(const ToolContext&, const std::string&) const { return {}; }
  // A stopped service's files changed: the manager takes the new ones.
  virtual ToolOutcome refresh(const ToolContext&, const std::string&) const { return {}; }
  // A stopped service is leaving; its files are still there.
  virtual ToolOutcome remove(const ToolContext&, const std::string&) const { return {}; }

  // Start (waiting until it runs, as far as the tool can tell) and stop (waiting until it is down).
  virtual ToolOutcome start(const ToolContext&, const std::string& service) const = 0;
  virtual ToolOutcome stop(const ToolContext&, const std::string& service) const = 0;
  virtual ToolOutcome restart(const ToolContext& context, const std::string& service) const;
  // One status per service, in the same order.
  virtual std::vector<ServiceStatus> status(const ToolContext&, const std::vector<std::string>& services) const = 0;
  // The file holding an instance's output; empty when the manager keeps it elsewhere (the journal).
  virtual std::filesystem::path log_path(const ToolContext&, const std::string& instance) const;
  // Where the output is when log_path is empty, for the error message.
  virtual std::string log_hint(const ToolContext&, const std::string&) const { return {}; }
  // Stops the manager itself; only called when the deployment started it.
  virtual ToolOutcome shutdown_manager(const ToolContext&) const { return {}; }
};

// Every tool, one per adapter; nullptr for a manager without one.
const ManagerTool* find_tool(std::string_view manager);

// ---- for the tools' implementations ------------------------------------------------------------

namespace tool {
// Runs argv through the context's runner, bounded by the context's timeout plus a margin.
ToolResult run(const ToolContext& context, std::vector<std::string> argv,
               std::vector<std::pair<std::string, std::string>> environment = {});
// "supervisorctl ... start nginx: exited 1: nginx: ERROR (no such process)".
std::string failure(const ToolCommand& command, const ToolResult& result);
ToolOutcome outcome(const ToolContext& context, std::vector<std::string> argv,
                    std::vector<std::pair<std::string, std::string>> environment = {});
// Seconds as a tool argument ("60").
std::string seconds(const ToolContext& context);
// The first integer after `marker` in `text` ("pid 123," -> 123).
std::optional<long long> number_after(std::string_view text, std::string_view marker);
// Polls `condition` (which runs tools) until it holds, at most the context's timeout.
bool wait_until(const ToolContext& context, const std::function<bool()>& condition);
}  // namespace tool

}  // namespace nixpm::managers
