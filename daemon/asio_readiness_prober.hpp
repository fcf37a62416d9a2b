#pragma once
// Readiness checks on the Asio loop: "tcp" tries to connect every 100 ms until a connection is
// accepted; "pidFile" looks for the pid file naming a live process every 100 ms.

#include <memory>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "daemon/readiness_prober.hpp"

namespace nixpm::daemon {

class AsioReadinessProber final : public ReadinessProber {
 public:
  explicit AsioReadinessProber(boost::asio::io_context& io) : io_(io) {}
  ~AsioReadinessProber() override;
  void start(std::size_t slot, const config::ReadinessCheck& check, const std::string& pid_file) override;
  void cancel(std::size_t slot) override;
  bool supports(config::ReadinessKind kind) const override;

 private:
  struct Probe;
  void attempt(const std::shared_ptr<Probe>& probe);
  void retry_later(const std::shared_ptr<Probe>& probe);

  boost::asio::io_context& io_;
  std::unordered_map<std::size_t, std::shared_ptr<Probe>> probes_;
};

}  // namespace nixpm::daemon
