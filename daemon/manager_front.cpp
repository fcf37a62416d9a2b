#include "daemon/manager_front.hpp"

#include <csignal>

#include <spdlog/spdlog.h>

#include <unistd.h>

#include "common/exit_codes.hpp"
#include "config/managers/generated_output.hpp"

namespace nixpm::daemon {
namespace fs = std::filesystem;

namespace {

managers::ToolContext tool_context(const Paths& paths, const managers::ManagerTool& tool, const fs::path& root,
                                   managers::CommandRunner& runner) {
  managers::ToolContext context;
  context.scope = paths.mode == Mode::user ? managers::Scope::user : managers::Scope::system;
  context.root = root.empty() ? tool.default_root(context.scope, process_environment()) : fs::absolute(root);
  context.state_dir = paths.state_dir;
  context.runtime_dir = paths.runtime_dir;
  context.log_dir = paths.log_dir;
  context.uid = getuid();
  context.runner = &runner;
  return context;
}

}  // namespace

ManagerFront::ManagerFront(Paths paths, DefinitionsSource source, config::Definitions definitions,
                           const managers::ManagerAdapter& adapter, const managers::ManagerTool& tool, fs::path root,
                           SocketAccess socket_access)
    : paths_(std::move(paths)),
      source_(std::move(source)),
      runner_(),
      handler_(std::make_unique<ManagerFrontHandler>(
          io_, adapter, tool, tool_context(paths_, tool, root, runner_),
          ManagerFrontHandler::Environment{
              paths_.mode == Mode::user ? "user" : "system", [this] { begin_shutdown("shutdown requested"); },
              [this] { return source_.load(); },
              [this](const config::LoadResult& accepted) {
                if (auto error = source_.accept(accepted); !error.empty())
                  spdlog::error("cannot save id assignments: {}", error);
              },
              managers::deployment_record_path(paths_.state_dir), managers::generate_options(paths_)})),
      server_(io_, *handler_),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      socket_access_(socket_access),
      initial_definitions_(std::move(definitions)) {}

int ManagerFront::run() {
  std::signal(SIGPIPE, SIG_IGN);
  for (const auto& dir : {paths_.state_dir, paths_.runtime_dir, paths_.log_dir, paths_.tmp_dir, paths_.lib_dir,
                          paths_.cache_dir}) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) throw std::runtime_error("cannot create " + dir.string() + ": " + error.message());
  }
  server_.listen(paths_.socket, paths_.mode == Mode::user, socket_access_);
  wait_for_signals();
  spdlog::info("nixpmd listening on {}; fronting a native manager", paths_.socket.string());
  handler_->deploy(initial_definitions_, [this](const std::string& problems) {
    if (problems.empty()) {
      spdlog::info("deployed");
      return;
    }
    spdlog::error("deploy: {}", problems);
    if (problems.find("undeploy it first") != std::string::npos) {
      // Another deployment is not ours to take down: leave at once.
      exit_status_ = exit_code::usage;
      shutting_down_ = true;
      server_.close();
      signals_.cancel();
      io_.stop();
    }
  });
  io_.run();
  spdlog::info("nixpmd stopped");
  return exit_status_;
}

void ManagerFront::wait_for_signals() {
  signals_.async_wait([this](const boost::system::error_code& error, int signal) {
    if (error) return;
    if (signal == SIGHUP) {
      if (!shutting_down_) handler_->reload();
    } else {
      begin_shutdown(signal == SIGINT ? "SIGINT" : "SIGTERM");
    }
    wait_for_signals();
  });
}

void ManagerFront::begin_shutdown(const char* why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  spdlog::info("{}: stopping and removing the deployment", why);
  handler_->begin_shutdown();
  handler_->undeploy([this] {
    // Let the last replies go out, then leave the loop.
    boost::asio::post(io_, [this] {
      server_.close();
      signals_.cancel();
      io_.stop();
    });
  });
}

}  // namespace nixpm::daemon
