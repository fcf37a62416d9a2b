#pragma once
// Fakes for the daemon's seams: a spawner that records requests and signals, and a scheduler whose
// clock only moves when the test says so.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "config/model.hpp"
#include "daemon/containment.hpp"
#include "daemon/output_router.hpp"
#include "daemon/process_watch.hpp"
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

// Records which instances are being probed; the test decides when a probe passes or a liveness check fails.
class FakeProber final : public daemon::ReadinessProber {
 public:
  std::string prepare(std::size_t slot, const config::ReadinessCheck& check, const daemon::ProbeTarget& target) override {
    if (check.kind == config::ReadinessKind::notify) prepared[slot] = target.notify_socket;
    return prepare_error;
  }
  void start(std::size_t slot, const config::ReadinessCheck& check, const daemon::ProbeTarget& target) override {
    probing[slot] = check.kind;
    targets[slot] = target;
  }
  void cancel(std::size_t slot) override {
    probing.erase(slot);
    prepared.erase(slot);
  }
  void start_liveness(std::size_t slot, const config::LivenessCheck&, const daemon::ProbeTarget&) override {
    liveness.insert(slot);
  }
  void cancel_liveness(std::size_t slot) override { liveness.erase(slot); }
  bool supports(config::ReadinessKind) const override { return true; }
  bool child_exited(pid_t pid, int) override {
    exits.push_back(pid);
    return false;
  }
  void pass(std::size_t slot) {
    probing.erase(slot);
    ready(slot);
  }
  void fail_liveness(std::size_t slot, const std::string& reason) {
    liveness.erase(slot);
    unhealthy(slot, reason);
  }
  bool is_probing(std::size_t slot) const { return probing.contains(slot); }
  std::map<std::size_t, config::ReadinessKind> probing;
  std::map<std::size_t, daemon::ProbeTarget> targets;
  std::map<std::size_t, std::filesystem::path> prepared;
  std::set<std::size_t> liveness;
  std::vector<pid_t> exits;  // pids handed on as unknown to the supervisor
  std::string prepare_error;
};

// Remembers which processes are watched; the test says when one is gone.
class FakeProcessWatch final : public daemon::ProcessWatch {
 public:
  void watch(pid_t pid) override { watched.insert(pid); }
  void unwatch(pid_t pid) override { watched.erase(pid); }
  void vanish(pid_t pid, std::optional<int> status = std::nullopt) {
    watched.erase(pid);
    gone(pid, status);
  }
  std::set<pid_t> watched;
};

// Records what the supervisor asks of containment.
class FakeContainment final : public daemon::Containment {
 public:
  std::filesystem::path cgroup_for(const std::string& instance) override { return "/cgroup/" + instance; }
  void signal_escaped(const std::string& instance, pid_t, int signal) override {
    escaped_signals.emplace_back(instance, signal);
  }
  void kill_leftovers(const std::string& instance) override { leftovers_killed.push_back(instance); }
  std::vector<std::pair<std::string, int>> escaped_signals;
  std::vector<std::string> leftovers_killed;
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
