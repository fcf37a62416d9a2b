#pragma once
// nixpmd --manager M: the daemon object when nixpmd fronts a native manager instead of supervising
// itself. It deploys the definitions onto M at start (config/managers/deployment.hpp), serves nixpmctl
// through a ManagerFrontHandler, and undeploys on shutdown (SIGTERM, SIGINT, `nixpmctl shutdown`), so
// that, as with the built-in supervisor, what nixpmd started ends with it. SIGHUP redeploys.

#include <filesystem>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "common/paths.hpp"
#include "config/managers/command_runner.hpp"
#include "config/model.hpp"
#include "daemon/control_server.hpp"
#include "daemon/definitions_source.hpp"
#include "daemon/manager_front_handler.hpp"

namespace nixpm::daemon {

class ManagerFront {
 public:
  // `root`: where M's files go (empty: M's usual place for the mode).
  ManagerFront(Paths paths, DefinitionsSource source, config::Definitions definitions,
               const managers::ManagerAdapter& adapter, const managers::ManagerTool& tool, std::filesystem::path root,
               SocketAccess socket_access = {});

  // Listens, deploys, and runs until shut down. Returns the exit status (2 when another deployment is
  // recorded, 1 when the first deployment failed). Throws std::runtime_error for start-up failures.
  int run();

 private:
  void wait_for_signals();
  void begin_shutdown(const char* why);

  Paths paths_;
  DefinitionsSource source_;
  boost::asio::io_context io_;
  managers::ProcessRunner runner_;
  std::unique_ptr<ManagerFrontHandler> handler_;
  ControlServer server_;
  boost::asio::signal_set signals_;
  SocketAccess socket_access_;
  config::Definitions initial_definitions_;
  bool shutting_down_ = false;
  int exit_status_ = 0;
};

}  // namespace nixpm::daemon
