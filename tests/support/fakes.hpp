#pragma once
// Fakes for the daemon's seams: a spawner that records requests and signals, and a scheduler whose
// clock only moves when the test says so.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "config/model.hpp"
#include "daemon/output_router.hpp"
#include "daemon/readiness_prober.hpp"
#include "daemon/scheduler.hpp"
#include "daemon/spawner.hpp"

namespace nixpm::testing {

// An instance running /bin/<name>, with optional dependencies and one optional argument.
inline config::InstanceSpec make_spec(const std::string& name, const std::vector<std::string>& dependencies = {},
                                      const std::string& argument = "") {
  config::InstanceSpec result;
  result.name = name;
  result.executable = "/bin/" + name;
  if (!argument.empty()) result.arguments.push_back(argument);
  for (const auto& d : dependencies) result.dependencies.push_back({d, {}});
  return result;
}

class FakeSpawner final : public daemon::Spawner {
 public:
  daemon::SpawnResult spawn(const daemon::SpawnRequest& request) override {
    requests.push_back(request);
    if (auto failure = failures.find(request.executable); failure != failures.end()) return {-1, failure->second};
    return {next_pid++, {}};
  }
  void signal_group(pid_t pid, int signal) override { signals.emplace_back(pid, signal); }

  // Executables whose spawn fails, with the error to report.
  std::map<std::string, std::string> failures;
  std::vector<daemon::SpawnRequest> requests;
  std::vector<std::pair<pid_t, int>> signals;
  pid_t next_pid = 1000;
};

// Hands out /dev/null and remembers whose output was asked for.
class FakeOutput final : public daemon::OutputRouter {
 public:
  int open_output(const std::string& instance, std::string&) override {
    instances.push_back(instance);
    return open("/dev/null", O_WRONLY | O_CLOEXEC);
  }
  std::vector<std::string> instances;
};

// Records which instances are being probed; the test decides when a probe passes.
class FakeProber final : public daemon::ReadinessProber {
 public:
  void start(std::size_t slot, const config::ReadinessCheck&, const std::string&) override { probing.insert(slot); }
  void cancel(std::size_t slot) override { probing.erase(slot); }
  bool supports(config::ReadinessKind kind) const override { return kind != config::ReadinessKind::notify; }
  void pass(std::size_t slot) {
    probing.erase(slot);
    ready(slot);
  }
  std::set<std::size_t> probing;
};

class FakeScheduler final : public daemon::Scheduler {
 public:
  TimePoint now() const override { return now_; }
  void arm(std::size_t slot, std::chrono::nanoseconds delay) override { deadlines_[slot] = now_ + delay; }
  void cancel(std::size_t slot) override { deadlines_.erase(slot); }

  bool armed(std::size_t slot) const { return deadlines_.contains(slot); }
  std::chrono::nanoseconds remaining(std::size_t slot) const { return deadlines_.at(slot) - now_; }

  // Moves the clock forward, firing every timer that falls due, in deadline order.
  void advance(std::chrono::nanoseconds by) {
    const auto target = now_ + by;
    for (;;) {
      auto next = deadlines_.end();
      for (auto it = deadlines_.begin(); it != deadlines_.end(); ++it)
        if (it->second <= target && (next == deadlines_.end() || it->second < next->second)) next = it;
      if (next == deadlines_.end()) break;
      now_ = next->second;
      const auto slot = next->first;
      deadlines_.erase(next);
      fire(slot);
    }
    now_ = target;
  }

 private:
  TimePoint now_{std::chrono::hours(1)};
  std::map<std::size_t, TimePoint> deadlines_;
};

}  // namespace nixpm::testing
