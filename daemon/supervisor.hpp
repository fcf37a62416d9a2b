#pragma once
// The supervisor owns every instance's runtime record and carries out what their state machines ask
// for. Requests (start, stop, restart) only change which instances are *wanted* up and put them on
// the propagation queue; drain() then reconciles queued instances one at a time, queueing the
// neighbours of any instance whose state changed. Starting a chain of 10,000 never recurses.
//
// It runs on one thread (the daemon's loop) and holds no locks. All I/O goes through the Spawner and
// Scheduler seams, so unit tests drive it with fakes.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/paths.hpp"
#include "config/dependency_graph.hpp"
#include "config/model.hpp"
#include "daemon/containment.hpp"
#include "daemon/instance_machine.hpp"
#include "daemon/output_router.hpp"
#include "daemon/process_watch.hpp"
#include "daemon/readiness_prober.hpp"
#include "daemon/scheduler.hpp"
#include "daemon/spawner.hpp"
#include "daemon/switch_plan.hpp"

namespace nixpm::daemon {

// What status reports about one instance.
struct InstanceSnapshot {
  std::string name;
  std::string description;
  InstanceState state = InstanceState::stopped;
  std::optional<pid_t> pid;
  bool wanted_up = false;
  bool autostart = true;
  double since_unix_seconds = 0;        // when it entered `state`, wall clock
  std::optional<double> uptime_seconds;  // since the current process started, while it has one
  int restarts = 0;
  std::string last_exit;
  std::string error;
  std::vector<std::string> dependencies;
  config::ReadinessKind readiness = config::ReadinessKind::started;  // the check in effect
  // Wanted up but not started (or held down) because these dependencies are not ready.
  std::vector<std::string> waiting_for;
};

// The directories instances run with.
struct RuntimeDirectories {
  std::filesystem::path state_dir;  // the working directory of instances that name none
  // True only for a root daemon in system mode without --force-disable-user-change: then `user` is
  // honoured; otherwise it is ignored (with a note in the log), never an error.
  bool may_change_user = false;
  // Where instances' notify sockets go (notify/<name>); empty: <state_dir>/run.
  std::filesystem::path runtime_dir{};
  // nixpmd itself, for its --run-as mode (initialize as root, then the program as `user`); empty: the
  // whole start, initialize included, runs as `user`.
  std::filesystem::path self_executable{};
};

class Supervisor {
 public:
  Supervisor(Spawner& spawner, Scheduler& scheduler, OutputRouter& output, ReadinessProber& prober,
             RuntimeDirectories directories, std::vector<std::string> base_environment);

  // Optional seams (the daemon sets both; without them forking daemons are watched only through the
  // reaper, and nothing beyond the process group is signalled).
  void set_process_watch(ProcessWatch* watch);
  void set_containment(Containment* containment) { containment_ = containment; }

  // Installs the definitions to supervise. Only valid while nothing runs (at start-up).
  void set_definitions(config::Definitions definitions);

  using SwitchDone = std::function<void(const SwitchPlan&)>;
  // The live switch: stops what is removed or changed (and what depends on it), then installs the new
  // definitions and starts what is new or changed; untouched instances keep their process. `done`
  // runs once the new definitions are in place. Returns false (and does nothing) while another
  // switch is still waiting for its stops.
  bool switch_to(config::Definitions next, SwitchDone done);
  bool switch_pending() const { return pending_switch_.has_value(); }

  std::size_t size() const { return instances_.size(); }
  std::optional<std::size_t> index_of(std::string_view name) const { return graph_.index_of(name); }
  const config::DependencyGraph& graph() const { return graph_; }
  InstanceState state(std::size_t index) const { return instances_[index].machine.state(); }
  bool wanted_up(std::size_t index) const { return instances_[index].wanted_up; }
  InstanceSnapshot snapshot(std::size_t index) const;

  // Wants the roots and all their dependencies up.
  void start(const std::vector<std::size_t>& roots);
  // Wants the roots and all their dependents down.
  void stop(const std::vector<std::size_t>& roots);
  // Stops the roots and their running dependents, then starts all of them again.
  void restart(const std::vector<std::size_t>& roots);
  void start_autostart();
  // Sends `signal` to the instance's process group; false when it has no process.
  bool signal(std::size_t index, int signal);
  void stop_all();
  // True when no instance has a live process.
  bool all_down() const;

  // Feeds the reaper's report; pids that belong to no instance are ignored.
  void child_exited(pid_t pid, int wait_status);
  // Feeds the scheduler's callback.
  void timer_fired(std::size_t slot);
  // Feeds the prober's callbacks.
  void probe_passed(std::size_t slot);
  void liveness_failed(std::size_t slot, const std::string& reason);
  // Feeds the process watch: a forking daemon's process is gone (with its status when it was ours).
  void watched_process_gone(pid_t pid, std::optional<int> wait_status);

  // Called once after each batch of changes has settled.
  void set_change_listener(std::function<void()> listener) { on_change_ = std::move(listener); }

 private:
  struct Instance {
    config::InstanceSpec spec;
    InstanceMachine machine;
    std::size_t slot = 0;  // the instance's timer slot; unlike its index, it survives a live switch
    bool wanted_up = false;
    bool queued = false;
    // Held down because a dependency stopped being ready: it stops (dependents first), and starts again
    // once every dependency is ready. Cleared as soon as it has no process.
    bool held = false;
    bool was_ready = false;        // running or done when last reconciled
    bool liveness_active = false;  // the prober runs its liveness check
  };
  struct PendingSwitch {
    config::Definitions next;
    SwitchPlan plan;
    std::vector<std::string> wanted_before;  // of the instances being stopped for the switch
    SwitchDone done;
  };

  void enqueue(std::size_t index);
  void enqueue_with_neighbours(std::size_t index);
  void drain();
  Context context_of(std::size_t index) const;
  void carry_out(std::size_t index, const Effects& effects);
  void spawn(std::size_t index);
  ProbeTarget probe_target(const Instance& instance) const;
  std::filesystem::path notify_socket_of(const Instance& instance) const;
  void hold_dependents(std::size_t index);
  void found_daemon(std::size_t index);
  void note_readiness(std::size_t index);
  void after_reconcile(std::size_t index);
  void release_restart_groups();
  bool has_process(std::size_t index) const;
  // member[i] is true when i is among `indices`: set lookups in O(1) for requests naming all N.
  std::vector<bool> membership(const std::vector<std::size_t>& indices) const;
  Instance make_instance(config::InstanceSpec spec);
  void apply_pending_switch();

  Spawner& spawner_;
  Scheduler& scheduler_;
  OutputRouter& output_;
  ReadinessProber& prober_;
  ProcessWatch* watch_ = nullptr;
  Containment* containment_ = nullptr;
  RuntimeDirectories directories_;
  std::vector<std::string> base_environment_;
  std::vector<Instance> instances_;
  config::DependencyGraph graph_;
  std::unordered_map<pid_t, std::size_t> by_pid_;
  std::unordered_map<std::size_t, std::size_t> by_slot_;
  std::size_t next_slot_ = 0;
  std::optional<PendingSwitch> pending_switch_;
  std::deque<std::size_t> queue_;
  // Instances being restarted together: started again once none of them has a process.
  std::vector<std::vector<std::size_t>> restart_groups_;
  bool draining_ = false;
  std::function<void()> on_change_;
};

}  // namespace nixpm::daemon
