#pragma once
// Readiness and liveness checks on the Asio loop:
//   tcp      tries to connect every 100 ms until a connection is accepted;
//   pidFile  looks for the pid file naming a live process every 100 ms;
//   command  runs the command until it exits 0 (again 250 ms after each failure);
//   notify   waits for READY=1 on the instance's own $NOTIFY_SOCKET (bound before the spawn);
//   liveness runs its command every `interval`; a non-zero exit or one slower than `timeout` is
//            reported as unhealthy.
// Results are always delivered through the loop (posted), never from inside start().

#include <memory>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "daemon/check_commands.hpp"
#include "daemon/notify_socket.hpp"
#include "daemon/posix_spawner.hpp"
#include "daemon/readiness_prober.hpp"

namespace nixpm::daemon {

class AsioReadinessProber final : public ReadinessProber {
 public:
  explicit AsioReadinessProber(boost::asio::io_context& io) : io_(io), commands_(spawner_) {}
  ~AsioReadinessProber() override;
  std::string prepare(std::size_t slot, const config::ReadinessCheck& check, const ProbeTarget& target) override;
  void start(std::size_t slot, const config::ReadinessCheck& check, const ProbeTarget& target) override;
  void cancel(std::size_t slot) override;
  void start_liveness(std::size_t slot, const config::LivenessCheck& check, const ProbeTarget& target) override;
  void cancel_liveness(std::size_t slot) override;
  bool supports(config::ReadinessKind kind) const override;
  bool child_exited(pid_t pid, int wait_status) override;

 private:
  struct Probe;
  struct Liveness;
  void cancel_probe(std::size_t slot);
  void attempt(const std::shared_ptr<Probe>& probe);
  void attempt_tcp(const std::shared_ptr<Probe>& probe);
  void attempt_command(const std::shared_ptr<Probe>& probe);
  void retry_later(const std::shared_ptr<Probe>& probe, std::chrono::milliseconds delay);
  void passed(const std::shared_ptr<Probe>& probe);
  void schedule_liveness(const std::shared_ptr<Liveness>& liveness);
  void run_liveness(const std::shared_ptr<Liveness>& liveness);

  boost::asio::io_context& io_;
  PosixSpawner spawner_;  // check commands only; instances are spawned by the supervisor's spawner
  CheckCommands commands_;
  std::unordered_map<std::size_t, std::shared_ptr<Probe>> probes_;
  std::unordered_map<std::size_t, std::unique_ptr<NotifySocket>> notify_sockets_;  // bound in prepare()
  std::unordered_map<std::size_t, std::shared_ptr<Liveness>> liveness_;
};

}  // namespace nixpm::daemon
