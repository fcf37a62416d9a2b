#include "daemon.hpp"

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include <unistd.h>

#include "daemon/credentials_provisioner.hpp"
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

Daemon::Daemon(Paths paths, DefinitionsSource source, config::Definitions definitions, LogOptions log_options,
               SocketAccess socket_access)
    : paths_(std::move(paths)),
      source_(std::move(source)),
      scheduler_(io_),
      output_(io_, paths_.log_dir, log_options),
      prober_(io_),
      process_watch_(io_),
      supervisor_(spawner_, scheduler_, output_, prober_, RuntimeDirectories{paths_.state_dir, may_change_user(), paths_.runtime_dir, platform::self_executable()},
                  current_environment()),
      reaper_(io_, [this](pid_t pid, int status) { supervisor_.child_exited(pid, status); }),
      handler_(io_, supervisor_,
               CommandHandler::Environment{
                   paths_.mode == Mode::user ? "user" : "system", paths_.log_dir,
                   [this] { begin_shutdown("shutdown requested"); },
                   [this] {
                     auto loaded = source_.load();
                     for (const auto& diagnostic : loaded.diagnostics)
                       if (diagnostic.severity == config::Severity::warning) spdlog::warn("{}", diagnostic.to_string());
                     // Before the switch starts anything: new instances find their users in place.
                     if (loaded.ok()) provision_credentials(*loaded.definitions);
                     return loaded;
                   },
                   [this](const config::LoadResult& accepted) {
                     if (auto error = source_.accept(accepted); !error.empty())
                       spdlog::error("cannot save id assignments: {}", error);
                   }}),
      server_(io_, handler_),
      signals_(io_, SIGTERM, SIGINT, SIGHUP),
      socket_access_(socket_access),
      initial_definitions_(std::move(definitions)) {
  supervisor_.set_change_listener([this] {
    handler_.supervisor_changed();
    check_shutdown_complete();
  });
}

bool Daemon::may_change_user() const {
  return paths_.mode == Mode::system && getuid() == 0 && !paths_.force_disable_user_change;
}

void Daemon::provision_credentials(const config::Definitions& definitions) {
  const bool any = std::any_of(definitions.instances.begin(), definitions.instances.end(), [](const auto& spec) {
    return !spec.credentials.groups.empty() || !spec.credentials.users.empty();
  });
  if (!any) return;
  if (!may_change_user()) {
    spdlog::info("credentials are not created: {}",
                 paths_.mode == Mode::user ? "user mode"
                 : getuid() != 0           ? "nixpmd does not run as root"
                                           : "--force-disable-user-change");
    return;
  }
  SystemAccountTools tools;
  const auto report = daemon::provision_credentials(definitions.instances, tools);
  for (const auto& account : report.created) spdlog::info("credentials: created {}", account);
  for (const auto& failure : report.failures) {
    std::string names;
    for (const auto& name : failure.instances) names += (names.empty() ? "" : ", ") + name;
    spdlog::error("credentials: cannot create {} (for {}): {}", failure.account, names, failure.message);
  }
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
  // Accounts first: the first instances may run as users that only their credentials create.
  provision_credentials(*initial_definitions_);
  supervisor_.set_process_watch(&process_watch_);
  supervisor_.set_containment(&containment_);
  supervisor_.set_definitions(std::move(*initial_definitions_));
  initial_definitions_.reset();
  if (platform::become_child_subreaper()) spdlog::debug("reaping orphaned descendants as a subreaper");
  spdlog::debug("escaped processes are found through: {}", containment_.mechanism());
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
