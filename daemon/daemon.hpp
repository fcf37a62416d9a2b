#pragma once
// The daemon object: owns the one io_context and everything that runs on it (signals, the reaper,
// the supervisor, the control server). No globals; main() builds one and runs it.

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "common/paths.hpp"
#include "config/model.hpp"
#include "daemon/asio_readiness_prober.hpp"
#include "daemon/asio_scheduler.hpp"
#include "daemon/child_reaper.hpp"
#include "daemon/command_handler.hpp"
#include "daemon/control_server.hpp"
#include "daemon/definitions_source.hpp"
#include "daemon/output_capture.hpp"
#include "daemon/posix_spawner.hpp"
#include "daemon/supervisor.hpp"

namespace nixpm::daemon {

class Daemon {
 public:
  // `definitions` were loaded (and accepted) through `source`, which also serves reloads.
  Daemon(Paths paths, DefinitionsSource source, config::Definitions definitions, LogRotation log_rotation,
         SocketAccess socket_access = {});

  // Listens, starts the autostart instances and runs until shut down. Returns the exit status.
  // Throws std::runtime_error for start-up failures (socket in use, directories not writable).
  int run();

 private:
  void prepare_directories();
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
  Supervisor supervisor_;
  ChildReaper reaper_;
  CommandHandler handler_;
  ControlServer server_;
  boost::asio::signal_set signals_;
  SocketAccess socket_access_;
  bool shutting_down_ = false;
};

}  // namespace nixpm::daemon
