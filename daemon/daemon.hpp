#pragma once
// The daemon object: owns the one io_context and everything that runs on it (signals, the reaper,
// the supervisor, the control server). No globals; main() builds one and runs it.

#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "common/paths.hpp"
#include "config/model.hpp"
#include "daemon/asio_process_watch.hpp"
#include "daemon/asio_readiness_prober.hpp"
#include "daemon/asio_scheduler.hpp"
#include "daemon/child_reaper.hpp"
#include "daemon/command_handler.hpp"
#include "daemon/control_server.hpp"
#include "daemon/definitions_source.hpp"
#include "daemon/output_capture.hpp"
#include "daemon/posix_spawner.hpp"
#include "daemon/process_containment.hpp"
#include "daemon/supervisor.hpp"

namespace nixpm::daemon {

class Daemon {
 public:
  // `definitions` were loaded (and accepted) through `source`, which also serves reloads.
  Daemon(Paths paths, DefinitionsSource source, config::Definitions definitions, LogOptions log_options,
         SocketAccess socket_access = {});

  // Listens, starts the autostart instances and runs until shut down. Returns the exit status.
  // Throws std::runtime_error for start-up failures (socket in use, directories not writable).
  int run();
  // --no-cgroups: escaped processes are found through the process table only.
  void disable_cgroups() { containment_.disable_cgroups(); }

 private:
  void prepare_directories();
  // Whether instances may run as other users and get their `credentials` created: a root daemon in
  // system mode without --force-disable-user-change.
  bool may_change_user() const;
  // Creates the missing groups and users of `definitions` (or, when that is not allowed, says in the
  // log that they are ignored). Failures are logged; the instances concerned then fail to start.
  void provision_credentials(const config::Definitions& definitions);
  void wait_for_signals();
  void begin_shutdown(const char* why);
  void check_shutdown_complete();

  Paths paths_;
  DefinitionsSource source_;
  boost::asio::io_context io_;
  AsioScheduler scheduler_;
  PosixSpawner spawner_;
  OutputCapture output_;
  AsioReadinessProber prober_;
  AsioProcessWatch process_watch_;
  ProcessContainment containment_;
  Supervisor supervisor_;
  ChildReaper reaper_;
  CommandHandler handler_;
  ControlServer server_;
  boost::asio::signal_set signals_;
  SocketAccess socket_access_;
  // The definitions loaded by main(), until run() hands them to the supervisor.
  std::optional<config::Definitions> initial_definitions_;
  bool shutting_down_ = false;
};

}  // namespace nixpm::daemon
