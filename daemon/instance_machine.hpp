#pragma once
// The lifecycle of one instance, as a pure state machine: events in, effects out. It does no I/O and
// reads no clock; the supervisor feeds it events (with the time they happened) and carries out the
// effects it returns. That is what lets every transition be unit-tested with a fake clock.
//
// Two things are kept apart (as dinit does): the *state* below, and whether the instance is *wanted*
// up, which the supervisor owns and passes in through Context. Requests only change what is wanted;
// reconcile() moves the state towards it.
//
// State table (event → effects, next state):
//
//   stopped   reconcile, wanted up, dependencies ready     → spawn                  starting
//   stopped   spawned (readiness "started")                 →                        running
//   stopped   spawned (another readiness check)             → arm start timer, probe starting
//   stopped   spawned (a forking daemon's launcher)         → arm start timer        starting (launching)
//   starting  launcher exited with a success code           → watch the pid file     starting (awaiting pid)
//   starting  pid file names a live process (daemon found)  → cancel timer           running
//             ... or, with a readiness check besides it    → probe                  starting
//   starting  became ready                                  → cancel timer           running
//   starting  start timer fired (not ready in startTimeout) → SIGKILL; the exit is a failure
//             ... while awaiting the pid file (no process)  → counts as a failure at once
//   starting  (a oneshot) exited with a success code          →                        done
//   starting  spawn failed (exec stage + errno)             →                        failed
//   running   liveness check failed                         → SIGKILL; the exit is a failure
//   starting/ exited, wanted up, policy restarts:
//   running     first quick failure (or after a stable run) →                        stopped (respawned at once)
//               later quick failures                        → arm backoff timer      backoff
//               more than restartLimit quick failures       →                        failed
//   starting/ exited, policy does not restart               → release (on success)   stopped (success) / failed
//   running
//   starting/ reconcile, wanted down, all dependents down   → stop signal, arm grace stopping
//   running   (not while awaiting a daemon's pid file: that ends in startTimeout either way)
//   stopping  grace timer fired                             → SIGKILL to the group   stopping
//   stopping  exited                                        → cancel timer           stopped
//   backoff   timer fired                                   →                        stopped (respawned if wanted)
//   backoff   reconcile, wanted down                        → cancel timer           stopped
//   failed    start requested                               → (counters reset)       stopped
//   done      start requested of this very instance         → (counters reset)       stopped (runs again)
//
// "Wanted down" includes an instance whose dependency stopped being ready: the supervisor holds it
// down (its Context says not wanted) until it has stopped, and it starts again once every dependency
// is ready again. See docs/lifecycle.md.
//
// "Quick" means the run lasted less than stableAfter; a stable run resets the count, so a process that
// had been up restarts with no delay. The delay of the k-th consecutive quick failure (k >= 2) is
// restartDelay * 2^(k-2), capped at maxRestartDelay.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "common/instance_state.hpp"
#include "config/model.hpp"

namespace nixpm::daemon {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// What the supervisor knows about the instance's surroundings when it asks the machine to reconcile.
struct Context {
  bool wanted_up = false;
  bool dependencies_ready = false;  // every dependency is running or done
  bool dependents_down = false;     // no dependent has a live process
  TimePoint now{};
};

struct Effect {
  enum class Kind {
    spawn,         // start the process; answer with spawned() or spawn_failed()
    signal_stop,   // send the stop signal to the process group
    kill,          // send SIGKILL to the process group
    arm_timer,     // (re)arm this instance's timer to fire after `delay`
    cancel_timer,  // cancel this instance's timer
    release,       // it finished on its own (a clean exit that is not restarted): stop wanting it up
    start_probe,   // begin checking readiness; answer with became_ready()
    watch_pid_file,  // a forking daemon's launcher is done: wait for its pid file; answer with daemon_found()
  };
  Kind kind;
  std::chrono::nanoseconds delay{0};
  bool operator==(const Effect&) const = default;
};

using Effects = std::vector<Effect>;

// The wait status given for a watched process that was not our child: it is gone, how is unknown.
// (A "stopped" status, which nixpmd never asks waitpid for, so it cannot be mistaken for a real one.)
inline constexpr int kUnknownWaitStatus = 0x7f7f;

// Describes a wait status for people: "exited 1", "killed by SIGKILL".
std::string describe_wait_status(int wait_status);

class InstanceMachine {
 public:
  // `forking`: the command is a launcher that daemonizes (ProcessKind::daemon); the supervised process is
  // the one its pid file names.
  explicit InstanceMachine(config::SupervisionPolicy policy, bool forking = false)
      : policy_(policy), forking_(forking) {}

  // Moves towards the wanted state; call after anything in Context may have changed.
  Effects reconcile(const Context& context);
  // An explicit start request: clears `failed` and the failure count; `done` only when `rerun` (the
  // oneshot itself was named, not merely a dependency of what was).
  void start_requested(bool rerun = true);

  Effects spawned(pid_t pid, TimePoint now);
  // The readiness check passed.
  Effects became_ready(TimePoint now);
  void spawn_failed(const std::string& reason, TimePoint now);
  // A forking daemon's pid file named this live process, which is supervised from now on.
  Effects daemon_found(pid_t pid, TimePoint now);
  // The liveness check of a running instance failed: it is killed and the exit counts as a failure.
  Effects liveness_failed(const std::string& reason, TimePoint now);
  Effects exited(int wait_status, bool wanted_up, TimePoint now);
  Effects timer_fired(TimePoint now);

  // Policies change on a live switch; the state is kept.
  void set_policy(const config::SupervisionPolicy& policy) { policy_ = policy; }

  InstanceState state() const { return state_; }
  bool awaiting_pid() const { return phase_ == Phase::awaiting_pid; }
  bool forking() const { return forking_; }
  std::optional<pid_t> pid() const { return pid_; }
  TimePoint since() const { return since_; }
  TimePoint started_at() const { return started_at_; }
  int restarts() const { return restarts_; }
  const std::string& last_exit() const { return last_exit_; }
  const std::string& error() const { return error_; }

 private:
  void enter(InstanceState state, TimePoint now);
  Effects after_unexpected_exit(bool success, TimePoint now);
  bool is_success(int wait_status) const;
  Effects start_timer_fired(TimePoint now);

  // Where a starting forking daemon is: its launcher runs, or the launcher is done and its pid file is
  // awaited. `none` for everything else.
  enum class Phase { none, launching, awaiting_pid };

  config::SupervisionPolicy policy_;
  bool forking_ = false;
  Phase phase_ = Phase::none;
  bool start_timed_out_ = false;
  bool liveness_failed_ = false;
  InstanceState state_ = InstanceState::stopped;
  std::optional<pid_t> pid_;
  TimePoint since_{};
  TimePoint started_at_{};
  int quick_failures_ = 0;
  int restarts_ = 0;
  std::string last_exit_;
  std::string error_;
};

}  // namespace nixpm::daemon
