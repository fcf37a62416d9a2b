#include "instance_machine.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <sys/wait.h>

#include "common/signal_names.hpp"

namespace nixpm::daemon {
namespace {

std::chrono::nanoseconds seconds(double value) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(value));
}

// "0.5s", "60s": as written in the definitions.
std::string seconds_text(double value) {
  std::ostringstream text;
  text << value << 's';
  return text.str();
}

}  // namespace

std::string describe_wait_status(int wait_status) {
  if (wait_status == kUnknownWaitStatus) return "gone (not our child: exit status unknown)";
  if (WIFEXITED(wait_status)) return "exited " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    std::string text = "killed by " + signal_name(WTERMSIG(wait_status));
#ifdef WCOREDUMP
    if (WCOREDUMP(wait_status)) text += " (core dumped)";
#endif
    return text;
  }
  return "wait status " + std::to_string(wait_status);
}

void InstanceMachine::enter(InstanceState state, TimePoint now) {
  if (state_ != state) since_ = now;
  state_ = state;
}

Effects InstanceMachine::reconcile(const Context& context) {
  switch (state_) {
    case InstanceState::stopped:
      if (context.wanted_up && context.dependencies_ready) {
        enter(InstanceState::starting, context.now);
        return {{Effect::Kind::spawn}};
      }
      return {};
    case InstanceState::starting:
    case InstanceState::running:
      // Nothing to signal while a daemon's pid file is awaited; the start timer bounds that wait.
      if (phase_ == Phase::awaiting_pid) return {};
      if (!context.wanted_up && context.dependents_down) {
        enter(InstanceState::stopping, context.now);
        return {{Effect::Kind::signal_stop}, {Effect::Kind::arm_timer, seconds(policy_.stop_timeout_seconds)}};
      }
      return {};
    case InstanceState::backoff:
      if (!context.wanted_up) {
        enter(InstanceState::stopped, context.now);
        return {{Effect::Kind::cancel_timer}};
      }
      return {};
    case InstanceState::stopping:
    case InstanceState::failed:
    case InstanceState::done:
      return {};
  }
  return {};
}

void InstanceMachine::start_requested(bool rerun) {
  if (state_ == InstanceState::failed || (rerun && state_ == InstanceState::done)) state_ = InstanceState::stopped;
  quick_failures_ = 0;
  error_.clear();
}

Effects InstanceMachine::spawned(pid_t pid, TimePoint now) {
  pid_ = pid;
  started_at_ = now;
  start_timed_out_ = false;
  liveness_failed_ = false;
  error_.clear();
  if (forking_) {
    // The launcher runs; the daemon it leaves behind is found through the pid file once it exits.
    phase_ = Phase::launching;
    enter(InstanceState::starting, now);
    return {{Effect::Kind::arm_timer, seconds(policy_.start_timeout_seconds)}};
  }
  // A oneshot is ready (done) only when it exited successfully.
  if (policy_.type == config::ProcessType::oneshot) {
    enter(InstanceState::starting, now);
    return {};
  }
  // Readiness "started": the process counts as ready as soon as it runs.
  if (policy_.readiness.kind == config::ReadinessKind::started) {
    enter(InstanceState::running, now);
    return {};
  }
  enter(InstanceState::starting, now);
  return {{Effect::Kind::arm_timer, seconds(policy_.start_timeout_seconds)}, {Effect::Kind::start_probe}};
}

Effects InstanceMachine::daemon_found(pid_t pid, TimePoint now) {
  if (state_ != InstanceState::starting || phase_ != Phase::awaiting_pid) return {};
  phase_ = Phase::none;
  pid_ = pid;
  const auto kind = policy_.readiness.kind;
  if (kind == config::ReadinessKind::started || kind == config::ReadinessKind::pid_file) {
    enter(InstanceState::running, now);
    return {{Effect::Kind::cancel_timer}};
  }
  return {{Effect::Kind::start_probe}};
}

Effects InstanceMachine::liveness_failed(const std::string& reason, TimePoint /*now*/) {
  if (state_ != InstanceState::running || liveness_failed_) return {};
  liveness_failed_ = true;
  error_ = reason;
  return {{Effect::Kind::kill}};
}

Effects InstanceMachine::became_ready(TimePoint now) {
  if (state_ != InstanceState::starting || start_timed_out_) return {};
  enter(InstanceState::running, now);
  return {{Effect::Kind::cancel_timer}};
}

bool InstanceMachine::is_success(int wait_status) const {
  if (!WIFEXITED(wait_status)) return false;
  const int code = WEXITSTATUS(wait_status);
  return std::find(policy_.success_exit_codes.begin(), policy_.success_exit_codes.end(), code) !=
         policy_.success_exit_codes.end();
}

void InstanceMachine::spawn_failed(const std::string& reason, TimePoint now) {
  // The same failure would happen again at once (a missing file, a bad directory): give up visibly.
  pid_.reset();
  error_ = reason;
  last_exit_.clear();
  enter(InstanceState::failed, now);
}

Effects InstanceMachine::exited(int wait_status, bool wanted_up, TimePoint now) {
  pid_.reset();
  if (phase_ == Phase::launching && state_ == InstanceState::starting && wanted_up && is_success(wait_status) &&
      !start_timed_out_) {
    phase_ = Phase::awaiting_pid;
    return {{Effect::Kind::watch_pid_file}};
  }
  const bool launcher = phase_ == Phase::launching;
  phase_ = Phase::none;
  last_exit_ = (launcher ? "launcher " : "") + describe_wait_status(wait_status);
  switch (state_) {
    case InstanceState::stopping:
      enter(InstanceState::stopped, now);
      return {{Effect::Kind::cancel_timer}};
    case InstanceState::starting:
    case InstanceState::running: {
      if (!wanted_up) {
        enter(InstanceState::stopped, now);
        return {};
      }
      const bool success = is_success(wait_status) && !start_timed_out_ && !liveness_failed_ && !launcher;
      if (policy_.type == config::ProcessType::oneshot && success) {
        enter(InstanceState::done, now);
        return {};
      }
      return after_unexpected_exit(success, now);
    }
    default:
      return {};
  }
}

Effects InstanceMachine::after_unexpected_exit(bool success, TimePoint now) {
  using config::RestartPolicy;
  const bool restart = policy_.restart == RestartPolicy::always ||
                       (policy_.restart == RestartPolicy::on_failure && !success);
  if (!restart) {
    if (success) {
      enter(InstanceState::stopped, now);
      return {{Effect::Kind::release}};
    } else {
      error_ = start_timed_out_ || liveness_failed_ ? error_ + " (" + last_exit_ + ")" : last_exit_;
      enter(InstanceState::failed, now);
    }
    return {};
  }
  // Why it was killed belongs with how it ended.
  if (start_timed_out_ || liveness_failed_) last_exit_ += " (" + error_ + ")";
  if (now - started_at_ >= seconds(policy_.stable_after_seconds)) quick_failures_ = 0;
  ++quick_failures_;
  if (quick_failures_ > policy_.restart_limit) {
    error_ = "gave up after " + std::to_string(policy_.restart_limit) + " restarts in quick succession (last: " +
             last_exit_ + ")";
    enter(InstanceState::failed, now);
    return {};
  }
  ++restarts_;
  if (quick_failures_ == 1) {
    // Restart at once: the supervisor's next reconcile respawns it.
    enter(InstanceState::stopped, now);
    return {};
  }
  const double delay = std::min(policy_.restart_delay_seconds * std::pow(2.0, quick_failures_ - 2),
                                policy_.max_restart_delay_seconds);
  enter(InstanceState::backoff, now);
  return {{Effect::Kind::arm_timer, seconds(delay)}};
}

Effects InstanceMachine::timer_fired(TimePoint now) {
  switch (state_) {
    case InstanceState::backoff:
      enter(InstanceState::stopped, now);
      return {};
    case InstanceState::stopping:
      return {{Effect::Kind::kill}};
    case InstanceState::starting:
      return start_timer_fired(now);
    default:
      return {};
  }
}

Effects InstanceMachine::start_timer_fired(TimePoint now) {
  if (policy_.type == config::ProcessType::oneshot || start_timed_out_) return {};
  start_timed_out_ = true;
  error_ = "not ready within " + seconds_text(policy_.start_timeout_seconds);
  if (phase_ == Phase::awaiting_pid) {
    // No process to kill: the daemon never wrote a pid file naming a live process.
    phase_ = Phase::none;
    error_ = "no live pid in the pid file within " + seconds_text(policy_.start_timeout_seconds);
    last_exit_ = "launcher exited 0";
    return after_unexpected_exit(false, now);
  }
  return {{Effect::Kind::kill}};
}

}  // namespace nixpm::daemon
