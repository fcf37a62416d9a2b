#include "asio_readiness_prober.hpp"

#include <cerrno>
#include <chrono>
#include <fstream>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <signal.h>

namespace nixpm::daemon {
namespace {
constexpr auto kRetryInterval = std::chrono::milliseconds(100);

// The pid named in `path`, when the file exists and that process is alive.
bool pid_file_names_live_process(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return false;
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}
}  // namespace

struct AsioReadinessProber::Probe {
  Probe(boost::asio::io_context& io, std::size_t s, config::ReadinessCheck c, std::string p)
      : slot(s), check(std::move(c)), pid_file(std::move(p)), timer(io), socket(io) {}
  std::size_t slot;
  config::ReadinessCheck check;
  std::string pid_file;
  boost::asio::steady_timer timer;
  boost::asio::ip::tcp::socket socket;
  bool cancelled = false;
};

AsioReadinessProber::~AsioReadinessProber() {
  for (auto& [slot, probe] : probes_) probe->cancelled = true;
}

bool AsioReadinessProber::supports(config::ReadinessKind kind) const {
  return kind == config::ReadinessKind::started || kind == config::ReadinessKind::tcp ||
         kind == config::ReadinessKind::pid_file;
}

void AsioReadinessProber::start(std::size_t slot, const config::ReadinessCheck& check, const std::string& pid_file) {
  cancel(slot);
  auto probe = std::make_shared<Probe>(io_, slot, check, pid_file);
  probes_[slot] = probe;
  attempt(probe);
}

void AsioReadinessProber::cancel(std::size_t slot) {
  auto found = probes_.find(slot);
  if (found == probes_.end()) return;
  found->second->cancelled = true;
  boost::system::error_code ignored;
  found->second->timer.cancel();
  found->second->socket.close(ignored);
  probes_.erase(found);
}

void AsioReadinessProber::attempt(const std::shared_ptr<Probe>& probe) {
  if (probe->cancelled) return;
  if (probe->check.kind == config::ReadinessKind::pid_file) {
    if (pid_file_names_live_process(probe->pid_file)) {
      probes_.erase(probe->slot);
      ready(probe->slot);
    } else {
      retry_later(probe);
    }
    return;
  }
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
        if (!connect_error) {
          probes_.erase(probe->slot);
          ready(probe->slot);
        } else {
          retry_later(probe);
        }
      });
}

void AsioReadinessProber::retry_later(const std::shared_ptr<Probe>& probe) {
  probe->timer.expires_after(kRetryInterval);
  probe->timer.async_wait([this, probe](const boost::system::error_code& error) {
    if (!error) attempt(probe);
  });
}

}  // namespace nixpm::daemon
