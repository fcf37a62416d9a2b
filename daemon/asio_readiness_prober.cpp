#include "asio_readiness_prober.hpp"

#include <cerrno>
#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <sys/wait.h>

#include "daemon/instance_machine.hpp"
#include "daemon/notify_socket.hpp"

namespace nixpm::daemon {
namespace {
constexpr auto kRetryInterval = std::chrono::milliseconds(100);
constexpr auto kCommandRetryInterval = std::chrono::milliseconds(250);

// The pid named in `path`, when the file exists and that process is alive.
bool pid_file_names_live_process(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return false;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::chrono::nanoseconds seconds(double value) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(value));
}
}  // namespace

struct AsioReadinessProber::Probe {
  Probe(boost::asio::io_context& io, std::size_t s, config::ReadinessCheck c, ProbeTarget t)
      : slot(s), check(std::move(c)), target(std::move(t)), timer(io), socket(io) {}
  std::size_t slot;
  config::ReadinessCheck check;
  ProbeTarget target;
  boost::asio::steady_timer timer;
  boost::asio::ip::tcp::socket socket;
  pid_t command_pid = -1;  // command checks: the attempt in flight
  bool cancelled = false;
};

struct AsioReadinessProber::Liveness {
  Liveness(boost::asio::io_context& io, std::size_t s, config::LivenessCheck c, ProbeTarget t)
      : slot(s), check(std::move(c)), target(std::move(t)), timer(io) {}
  std::size_t slot;
  config::LivenessCheck check;
  ProbeTarget target;
  boost::asio::steady_timer timer;  // the next check, or the running check's timeout
  pid_t pid = -1;
  bool cancelled = false;
};

AsioReadinessProber::~AsioReadinessProber() {
  for (auto& [slot, probe] : probes_) probe->cancelled = true;
  for (auto& [slot, liveness] : liveness_) liveness->cancelled = true;
}

bool AsioReadinessProber::supports(config::ReadinessKind) const { return true; }

bool AsioReadinessProber::child_exited(pid_t pid, int wait_status) { return commands_.child_exited(pid, wait_status); }

std::string AsioReadinessProber::prepare(std::size_t slot, const config::ReadinessCheck& check,
                                         const ProbeTarget& target) {
  cancel(slot);
  if (check.kind != config::ReadinessKind::notify) return {};
  auto notify = std::make_unique<NotifySocket>(io_, target.notify_socket);
  if (auto error = notify->open(); !error.empty()) return error;
  notify_sockets_[slot] = std::move(notify);
  return {};
}

void AsioReadinessProber::start(std::size_t slot, const config::ReadinessCheck& check, const ProbeTarget& target) {
  // A new check replaces the slot's earlier one (a forking daemon's pid-file wait, say), but not its
  // notify socket, which lives until the instance is no longer starting.
  cancel_probe(slot);
  auto probe = std::make_shared<Probe>(io_, slot, check, target);
  probes_[slot] = probe;
  if (check.kind == config::ReadinessKind::notify) {
    auto socket = notify_sockets_.find(slot);
    if (socket == notify_sockets_.end()) {
      spdlog::error("notify readiness started without a prepared socket");
      return;
    }
    socket->second->when_ready([this, probe] { boost::asio::post(io_, [this, probe] { passed(probe); }); });
    return;
  }
  boost::asio::post(io_, [this, probe] { attempt(probe); });
}

void AsioReadinessProber::cancel(std::size_t slot) {
  cancel_probe(slot);
  notify_sockets_.erase(slot);
}

void AsioReadinessProber::cancel_probe(std::size_t slot) {
  auto found = probes_.find(slot);
  if (found == probes_.end()) return;
  auto& probe = *found->second;
  probe.cancelled = true;
  boost::system::error_code ignored;
  probe.timer.cancel();
  probe.socket.close(ignored);
  if (probe.command_pid > 0) commands_.abandon(probe.command_pid);
  probes_.erase(found);
}

void AsioReadinessProber::passed(const std::shared_ptr<Probe>& probe) {
  if (probe->cancelled) return;
  auto found = probes_.find(probe->slot);
  if (found == probes_.end() || found->second != probe) return;
  probes_.erase(found);
  ready(probe->slot);
}

void AsioReadinessProber::attempt(const std::shared_ptr<Probe>& probe) {
  if (probe->cancelled) return;
  switch (probe->check.kind) {
    case config::ReadinessKind::pid_file:
      if (pid_file_names_live_process(probe->target.pid_file)) passed(probe);
      else retry_later(probe, kRetryInterval);
      return;
    case config::ReadinessKind::tcp:
      attempt_tcp(probe);
      return;
    case config::ReadinessKind::command:
      attempt_command(probe);
      return;
    case config::ReadinessKind::started:
      passed(probe);
      return;
    case config::ReadinessKind::notify:
      return;  // handled in start()
  }
}

void AsioReadinessProber::attempt_tcp(const std::shared_ptr<Probe>& probe) {
  boost::system::error_code error;
  const auto address =
      boost::asio::ip::make_address(probe->check.host == "localhost" ? "127.0.0.1" : probe->check.host, error);
  if (error) return;  // the loader validated the host; nothing sensible to retry
  boost::system::error_code ignored;
  probe->socket.close(ignored);
  probe->socket.async_connect(
      boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(probe->check.port)),
      [this, probe](const boost::system::error_code& connect_error) {
        if (probe->cancelled) return;
        boost::system::error_code ignored_close;
        probe->socket.close(ignored_close);
        if (!connect_error) passed(probe);
        else retry_later(probe, kRetryInterval);
      });
}

void AsioReadinessProber::attempt_command(const std::shared_ptr<Probe>& probe) {
  std::string error;
  probe->command_pid = commands_.run(
      probe->check.command, probe->target,
      [this, probe](int wait_status) {
        probe->command_pid = -1;
        if (probe->cancelled) return;
        if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) passed(probe);
        else retry_later(probe, kCommandRetryInterval);
      },
      error);
  if (probe->command_pid < 0) {
    // A command that cannot start now will not start later either; the start timeout reports it.
    spdlog::warn("readiness command: {}", error);
  }
}

void AsioReadinessProber::retry_later(const std::shared_ptr<Probe>& probe, std::chrono::milliseconds delay) {
  probe->timer.expires_after(delay);
  probe->timer.async_wait([this, probe](const boost::system::error_code& error) {
    if (!error) attempt(probe);
  });
}

void AsioReadinessProber::start_liveness(std::size_t slot, const config::LivenessCheck& check,
                                         const ProbeTarget& target) {
  cancel_liveness(slot);
  auto liveness = std::make_shared<Liveness>(io_, slot, check, target);
  liveness_[slot] = liveness;
  schedule_liveness(liveness);
}

void AsioReadinessProber::cancel_liveness(std::size_t slot) {
  auto found = liveness_.find(slot);
  if (found == liveness_.end()) return;
  found->second->cancelled = true;
  found->second->timer.cancel();
  if (found->second->pid > 0) commands_.abandon(found->second->pid);
  liveness_.erase(found);
}

void AsioReadinessProber::schedule_liveness(const std::shared_ptr<Liveness>& liveness) {
  liveness->timer.expires_after(seconds(liveness->check.interval_seconds));
  liveness->timer.async_wait([this, liveness](const boost::system::error_code& error) {
    if (!error && !liveness->cancelled) run_liveness(liveness);
  });
}

void AsioReadinessProber::run_liveness(const std::shared_ptr<Liveness>& liveness) {
  auto report = [this, liveness](const std::string& reason) {
    if (liveness->cancelled) return;
    liveness->cancelled = true;
    liveness_.erase(liveness->slot);
    unhealthy(liveness->slot, reason);
  };
  std::string error;
  liveness->pid = commands_.run(
      liveness->check.command, liveness->target,
      [this, liveness, report](int wait_status) {
        liveness->pid = -1;
        liveness->timer.cancel();
        if (liveness->cancelled) return;
        if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) schedule_liveness(liveness);
        else report("liveness check failed: " + describe_wait_status(wait_status));
      },
      error);
  if (liveness->pid < 0) {
    report("liveness check failed: " + error);
    return;
  }
  liveness->timer.expires_after(seconds(liveness->check.timeout_seconds));
  liveness->timer.async_wait([this, liveness, report](const boost::system::error_code& timer_error) {
    if (timer_error || liveness->cancelled || liveness->pid < 0) return;
    commands_.abandon(liveness->pid);
    liveness->pid = -1;
    std::ostringstream text;
    text << "liveness check did not answer within " << liveness->check.timeout_seconds << "s";
    report(text.str());
  });
}

}  // namespace nixpm::daemon
