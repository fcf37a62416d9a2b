// nixpmd: arguments, definitions, then the daemon. The only top-level catch is here.

#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <grp.h>
#include <unistd.h>

#include <nixpm/version.hpp>

#include "common/exit_codes.hpp"
#include "common/logging.hpp"
#include "common/paths.hpp"
#include "config/loader.hpp"
#include "config/managers/manager_adapter.hpp"
#include "config/managers/manager_tool.hpp"
#include "config/spelling.hpp"
#include "daemon/daemon.hpp"
#include "daemon/daemon_lock.hpp"
#include "daemon/manager_front.hpp"
#include "daemon/run_as.hpp"

namespace {

struct Options {
  nixpm::PathOverrides overrides;
  bool user = false;
  bool system = false;
  std::string log_level = "info";
  nixpm::daemon::LogOptions log;
  std::string socket_group;
  std::string socket_group_access = "read";
  bool no_cgroups = false;
  std::string manager;              // --manager: front this native manager instead of supervising
  std::filesystem::path manager_root;  // --root: where its files go instead of its usual place
};

void add_path_option(CLI::App& app, const std::string& name, std::optional<std::filesystem::path>& target,
                     const std::string& help) {
  app.add_option_function<std::string>(
         name, [&target](const std::string& value) { target = value; }, help)
      ->type_name("DIR");
}

}  // namespace

int main(int argc, char** argv) {
  // The internal privilege-dropping step of a start (daemon/run_as.hpp), before any option parsing.
  if (nixpm::daemon::is_run_as_invocation(argc, argv)) return nixpm::daemon::run_as_main(argc, argv);
  Options options;
  CLI::App app{"nixpmd: the nixpm supervisor daemon. It starts the instances of a definitions file in\n"
               "dependency order, restarts them when they fail, captures their logs and serves nixpmctl.",
               "nixpmd"};
  app.set_version_flag("-V,--version", std::string("nixpmd ") + nixpm::kVersionString);
  app.add_option_function<std::string>(
         "-c,--config", [&](const std::string& v) { options.overrides.config_file = v; },
         "Definitions file (default: $XDG_CONFIG_HOME/nixpm/processes.yaml, or /etc/nixpm/processes.yaml as root)")
      ->type_name("FILE");
  app.add_option_function<std::string>(
         "--socket", [&](const std::string& v) { options.overrides.socket = v; },
         "Control socket path (env NIXPM_SOCKET)")
      ->type_name("PATH");
  auto* user = app.add_flag("--user", options.user, "User mode (the default when not root)");
  app.add_flag("--system", options.system, "System mode (the default as root)")->excludes(user);
  add_path_option(app, "--state-dir", options.overrides.state_dir, "State directory (env NIXPROC_STATE_DIR)");
  add_path_option(app, "--runtime-dir", options.overrides.runtime_dir, "Runtime directory (env NIXPROC_RUNTIME_DIR)");
  add_path_option(app, "--log-dir", options.overrides.log_dir, "Log directory (env NIXPROC_LOG_DIR)");
  add_path_option(app, "--tmp-dir", options.overrides.tmp_dir, "Temporary directory (env NIXPROC_TMP_DIR)");
  add_path_option(app, "--cache-dir", options.overrides.cache_dir, "Cache directory (env NIXPROC_CACHE_DIR)");
  app.add_flag("--force-disable-user-change", options.overrides.force_disable_user_change,
               "Ignore `user` and `credentials` (always so in user mode)");
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  app.add_option("--log-max-size", options.log.rotation.max_bytes,
                 "Rotate an instance's log when it would grow past this many bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40));
  app.add_option("--log-keep", options.log.rotation.keep,
                 "Rotated logs kept per instance (0: truncate instead)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  app.add_flag("--no-cgroups", options.no_cgroups,
               "Find escaped processes through the process table, never a cgroup per instance");
  app.add_flag("--log-timestamps", options.log.timestamps,
               "Start each line of an instance's log with the UTC time it arrived (ISO 8601)");

  app.add_option("--socket-group", options.socket_group,
                 "Also let members of this group use the control socket (see --socket-group-access)")
      ->type_name("GROUP");
  app.add_option("--socket-group-access", options.socket_group_access,
                 "What the group may do: read (status, list, logs, watch) or full")
      ->check(CLI::IsMember({"read", "full"}))
      ->capture_default_str();

  app.add_option("--manager", options.manager,
                 "Front this native process manager instead of supervising: deploy the definitions onto it and "
                 "carry out nixpmctl's verbs through its own tool (systemd, supervisord, sysvinit, bsdrc, launchd, "
                 "cygrunsrv, s6-rc, runit, s6)")
      ->type_name("NAME");
  app.add_option_function<std::string>(
         "--root", [&](const std::string& v) { options.manager_root = v; },
         "With --manager: install its files here instead of its usual place")
      ->type_name("DIR");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? nixpm::exit_code::ok : nixpm::exit_code::usage;
  }

  if (!nixpm::setup_logging("nixpmd", options.log_level)) {
    std::cerr << "nixpmd: unknown log level '" << options.log_level << "'\n";
    return nixpm::exit_code::usage;
  }
  if (options.user) options.overrides.mode = nixpm::Mode::user;
  if (options.system) options.overrides.mode = nixpm::Mode::system;
  const auto paths = nixpm::resolve_paths(options.overrides, nixpm::process_environment(), getuid());

  nixpm::daemon::SocketAccess socket_access;
  if (!options.socket_group.empty()) {
    const struct group* entry = getgrnam(options.socket_group.c_str());
    if (entry == nullptr) {
      std::cerr << "nixpmd: --socket-group: no group named '" << options.socket_group << "'\n";
      return nixpm::exit_code::usage;
    }
    socket_access.group = entry->gr_gid;
    socket_access.group_may_change = options.socket_group_access == "full";
  }

  const nixpm::managers::ManagerAdapter* adapter = nullptr;
  const nixpm::managers::ManagerTool* tool = nullptr;
  if (!options.manager.empty()) {
    adapter = nixpm::managers::find_manager(options.manager);
    tool = nixpm::managers::find_tool(options.manager);
    if (adapter == nullptr || tool == nullptr) {
      std::vector<std::string> names;
      for (const auto* known : nixpm::managers::all_managers()) names.emplace_back(known->name());
      std::cerr << "nixpmd: --manager: unknown process manager '" << options.manager << "'"
                << nixpm::config::did_you_mean(options.manager, names)
                << "; known managers: " << nixpm::managers::known_manager_names() << '\n';
      return nixpm::exit_code::usage;
    }
  } else if (!options.manager_root.empty()) {
    std::cerr << "nixpmd: --root needs --manager\n";
    return nixpm::exit_code::usage;
  }

  // Before anything is loaded or written: a second daemon on the same socket stops here.
  nixpm::daemon::DaemonLock lock;
  if (auto error = lock.acquire(paths.socket); !error.empty()) {
    std::cerr << "nixpmd: " << error << '\n';
    return nixpm::exit_code::failed;
  }

  // Loaded before the daemon (and its SIGCHLD reaper) exists: a processes.nix is evaluated by a child
  // process that the loader waits for itself.
  nixpm::daemon::DefinitionsSource source(paths);
  auto loaded = source.load();
  if (!loaded.ok()) {
    std::cerr << loaded.report();
    std::cerr << "nixpmd: " << paths.config_file.string() << " has errors; nothing was started\n";
    return nixpm::exit_code::usage;
  }
  if (loaded.has_warnings()) std::cerr << loaded.report();
  if (auto error = source.accept(loaded); !error.empty()) {
    std::cerr << "nixpmd: cannot save id assignments: " << error << '\n';
    return nixpm::exit_code::failed;
  }

  if (adapter != nullptr) {
    try {
      nixpm::daemon::ManagerFront front(paths, source, std::move(*loaded.definitions), *adapter, *tool,
                                        options.manager_root, socket_access);
      return front.run();
    } catch (const std::exception& error) {
      spdlog::critical("{}", error.what());
      return nixpm::exit_code::failed;
    }
  }

  try {
    nixpm::daemon::Daemon daemon(paths, source, std::move(*loaded.definitions), options.log,
                                 socket_access);
    if (options.no_cgroups) daemon.disable_cgroups();
    return daemon.run();
  } catch (const std::exception& error) {
    spdlog::critical("{}", error.what());
    return nixpm::exit_code::failed;
  }
}
