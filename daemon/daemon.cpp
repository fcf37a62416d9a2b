#include "daemon.hpp"

#include <csignal>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include <unistd.h>

#include "daemon/platform.hpp"

extern char** environ;

namespace nixpm::daemon {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> current_environment() {
  std::vector<std::string> result;
  for (char** entry = environ; entry && *entry; ++entry) {
    // NOTIFY_SOCKET and LISTEN_* belong to whoever started nixpmd, not to the processes it runs.
    std::string_view text(*entry);
    if (text.starts_with("NOTIFY_SOCKET=") || text.starts_with("LISTEN_")) continue;
    result.emplace_back(text);
  }
  return result;
}

}  // namespace

Daemon::Daemon(Paths paths, DefinitionsSource source, config::Definitions definitions, LogRotation log_rotation,
               SocketAccess socket_access)
    : paths_(std::move(paths)),
      source_(std::move(source)),
      scheduler_(io_),
      output_(io_, paths_.log_dir, log_rotation),
      prober_(io_),
      supervisor_(spawner_, scheduler_, output_, prober_, RuntimeDirectories{paths_.state_dir, paths_.mode == Mode::system && getuid() == 0 &&
                                                                                 !paths_.force_disable_user_change}, current_environment()),
      reaper_(io_, [this](pid_t pid, int status) { supervisor_.child_exited(pid, status); }),
      handler_(io_, supervisor_,
               CommandHandler::Environment{
                   paths_.mode == Mode::user ? "user" : "system", paths_.log_dir,
                   [this] { begin_shutdown("shutdown requested"); },
                   [this] {
                     auto loaded = source_.load();
                     for (const auto& diagnostic : loaded.diagnostics)
                       if (diagnostic.severity == config::Severity::warning) spdlog::warn("{}", diagnostic.to_string());
                     return loaded;
                   },
                   [this](const config::LoadResult& accepted) {
                     if (auto error = source_.accept(accepted); !error.empty())
                       spdlog::error("cannot save id assignments: {}", error);
                   }}),
      server_(io_, handler_),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      socket_access_(socket_access) {
  supervisor_.set_definitions(std::move(definitions));
  supervisor_.set_change_listener([this] {
    handler_.supervisor_changed();
    check_shutdown_complete();
  });
}

void Daemon::prepare_directories() {
  for (const auto& dir : {paths_.state_dir, paths_.runtime_dir, paths_.log_dir, paths_.tmp_dir, paths_.lib_dir,
                          paths_.cache_dir}) {
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) throw std::runtime_error("cannot create " + dir.string() + ": " + error.message());
  }
}

int Daemon::run() {
  // A client that disconnects mid-reply must not kill the daemon.
  std::signal(SIGPIPE, SIG_IGN);
  prepare_directories();
  server_.listen(paths_.socket, paths_.mode == Mode::user, socket_access_);
  if (platform::become_child_subreaper()) spdlog::debug("reaping orphaned descendants as a subreaper");
  wait_for_signals();
  spdlog::info("nixpmd listening on {}; state in {}", paths_.socket.string(), paths_.state_dir.string());
  supervisor_.start_autostart();
  reaper_.reap_now();
  io_.run();
  spdlog::info("nixpmd stopped");
  return 0;
}

void Daemon::wait_for_signals() {
  signals_.async_wait([this](const boost::system::error_code& error, int signal) {
    if (error) return;
    if (signal == SIGHUP) {
      spdlog::info("SIGHUP: reloading {}", paths_.config_file.string());
      if (!shutting_down_)
        handler_.reload([](const protocol::Json& body, bool ok) {
          if (!ok) spdlog::error("reload refused: {}", body.value("message", std::string()));
        });
    } else {
      begin_shutdown(signal == SIGINT ? "SIGINT" : "SIGTERM");
    }
    wait_for_signals();
  });
}

void Daemon::begin_shutdown(const char* why) {
  if (shutting_down_) {
    spdlog::info("{}: already stopping", why);
    return;
  }
  shutting_down_ = true;
  spdlog::info("{}: stopping every instance", why);
  handler_.begin_shutdown();
  server_.close();
  supervisor_.stop_all();
  check_shutdown_complete();
}

void Daemon::check_shutdown_complete() {
  if (!shutting_down_ || !supervisor_.all_down()) return;
  // Let the last replies (e.g. to `shutdown`) go out, then leave the loop.
  boost::asio::post(io_, [this] {
    signals_.cancel();
    io_.stop();
  });
}

}  // namespace nixpm::daemon
