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
//   starting  became ready                                  → cancel timer           running
//   starting  start timer fired (not ready in startTimeout) → SIGKILL; the exit is a failure
//   starting  (a oneshot) exited with a success code          →                        done
//   starting  spawn failed (exec stage + errno)             →                        failed
//   starting/ exited, wanted up, policy restarts:
//   running     first quick failure (or after a stable run) →                        stopped (respawned at once)
//               later quick failures                        → arm backoff timer      backoff
//               more than restartLimit quick failures       →                        failed
//   starting/ exited, policy does not restart               → release (on success)   stopped (success) / failed
//   running
//   starting/ reconcile, wanted down, all dependents down   → stop signal, arm grace stopping
//   running
//   stopping  grace timer fired                             → SIGKILL to the group   stopping
//   stopping  exited                                        → cancel timer           stopped
//   backoff   timer fired                                   →                        stopped (respawned if wanted)
//   backoff   reconcile, wanted down                        → cancel timer           stopped
//   failed/   start requested                               → (counters reset)       stopped
//   done
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
  };
  Kind kind;
  std::chrono::nanoseconds delay{0};
  bool operator==(const Effect&) const = default;
};

using Effects = std::vector<Effect>;

// Describes a wait status for people: "exited 1", "killed by SIGKILL".
std::string describe_wait_status(int wait_status);

class InstanceMachine {
 public:
  explicit InstanceMachine(config::SupervisionPolicy policy) : policy_(policy) {}

  // Moves towards the wanted state; call after anything in Context may have changed.
  Effects reconcile(const Context& context);
  // An explicit start request: clears `failed`/`done` and the failure count.
  void start_requested();

  Effects spawned(pid_t pid, TimePoint now);
  // The readiness check passed.
  Effects became_ready(TimePoint now);
  void spawn_failed(const std::string& reason, TimePoint now);
  Effects exited(int wait_status, bool wanted_up, TimePoint now);
  Effects timer_fired(TimePoint now);

  // Policies change on a live switch; the state is kept.
  void set_policy(const config::SupervisionPolicy& policy) { policy_ = policy; }

  InstanceState state() const { return state_; }
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
  bool start_timed_out_ = false;

  config::SupervisionPolicy policy_;
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
