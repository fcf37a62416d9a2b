// Every transition of the per-instance state table (daemon/instance_machine.hpp), with a hand-moved clock.

#include <catch2/catch.hpp>

#include <csignal>

#include <sys/wait.h>

#include "daemon/instance_machine.hpp"

using nixpm::InstanceState;
using nixpm::daemon::Context;
using nixpm::daemon::Effect;
using nixpm::daemon::Effects;
using nixpm::daemon::InstanceMachine;
using nixpm::daemon::TimePoint;
using namespace std::chrono_literals;

namespace {

int exit_status(int code) { return code << 8; }  // what waitpid reports for exit(code)
int signal_status(int signal) { return signal; }  // ... and for death by `signal`

const TimePoint t0{std::chrono::hours(10)};

Context wanting_up(TimePoint now, bool dependencies_ready = true) {
  return Context{true, dependencies_ready, true, now};
}
Context wanting_down(TimePoint now, bool dependents_down = true) { return Context{false, true, dependents_down, now}; }

InstanceMachine running_machine(nixpm::config::SupervisionPolicy policy = {}) {
  InstanceMachine machine(policy);
  REQUIRE(machine.reconcile(wanting_up(t0)) == Effects{{Effect::Kind::spawn}});
  machine.spawned(42, t0);
  return machine;
}

}  // namespace

TEST_CASE("wait statuses are described for people", "[machine]") {
  CHECK(nixpm::daemon::describe_wait_status(exit_status(0)) == "exited 0");
  CHECK(nixpm::daemon::describe_wait_status(exit_status(3)) == "exited 3");
  CHECK(nixpm::daemon::describe_wait_status(signal_status(SIGKILL)) == "killed by SIGKILL");
}

TEST_CASE("a stopped instance spawns only when wanted and its dependencies are ready", "[machine]") {
  InstanceMachine machine({});
  CHECK(machine.reconcile(Context{false, true, true, t0}).empty());
  CHECK(machine.reconcile(wanting_up(t0, false)).empty());
  CHECK(machine.state() == InstanceState::stopped);
  CHECK(machine.reconcile(wanting_up(t0)) == Effects{{Effect::Kind::spawn}});
  CHECK(machine.state() == InstanceState::starting);
}

TEST_CASE("spawned means running (readiness: started), with pid and start time", "[machine]") {
  auto machine = running_machine();
  CHECK(machine.state() == InstanceState::running);
  CHECK(machine.pid() == 42);
  CHECK(machine.started_at() == t0);
}

TEST_CASE("a spawn failure is a visible failure with its reason, not a retry loop", "[machine]") {
  InstanceMachine machine({});
  machine.reconcile(wanting_up(t0));
  machine.spawn_failed("exec /nope: No such file or directory", t0);
  CHECK(machine.state() == InstanceState::failed);
  CHECK(machine.error() == "exec /nope: No such file or directory");
  CHECK(machine.reconcile(wanting_up(t0 + 1s)).empty());
  machine.start_requested();
  CHECK(machine.state() == InstanceState::stopped);
  CHECK(machine.error().empty());
  CHECK(machine.reconcile(wanting_up(t0 + 2s)) == Effects{{Effect::Kind::spawn}});
}

TEST_CASE("stopping waits for dependents, signals, arms the grace timer, then kills", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.stop_timeout_seconds = 5;
  auto machine = running_machine(policy);
  CHECK(machine.reconcile(wanting_down(t0 + 1s, false)).empty());
  CHECK(machine.state() == InstanceState::running);
  CHECK(machine.reconcile(wanting_down(t0 + 1s)) ==
        Effects{{Effect::Kind::signal_stop}, {Effect::Kind::arm_timer, 5s}});
  CHECK(machine.state() == InstanceState::stopping);
  CHECK(machine.timer_fired(t0 + 6s) == Effects{{Effect::Kind::kill}});
  CHECK(machine.state() == InstanceState::stopping);
  CHECK(machine.exited(signal_status(SIGKILL), false, t0 + 6s) == Effects{{Effect::Kind::cancel_timer}});
  CHECK(machine.state() == InstanceState::stopped);
  CHECK(machine.last_exit() == "killed by SIGKILL");
  CHECK_FALSE(machine.pid().has_value());
}

TEST_CASE("a process that exits during its stop is stopped, and the grace timer is cancelled", "[machine]") {
  auto machine = running_machine();
  machine.reconcile(wanting_down(t0 + 1s));
  CHECK(machine.exited(signal_status(SIGTERM), false, t0 + 2s) == Effects{{Effect::Kind::cancel_timer}});
  CHECK(machine.state() == InstanceState::stopped);
}

TEST_CASE("the first crash after a stable run restarts at once", "[machine]") {
  auto machine = running_machine();
  CHECK(machine.exited(signal_status(SIGKILL), true, t0 + 60s).empty());
  CHECK(machine.state() == InstanceState::stopped);
  CHECK(machine.restarts() == 1);
  CHECK(machine.reconcile(wanting_up(t0 + 60s)) == Effects{{Effect::Kind::spawn}});
}

TEST_CASE("quick crashes back off exponentially up to the cap, then fail at the limit", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.restart_delay_seconds = 1;
  policy.max_restart_delay_seconds = 3;
  policy.restart_limit = 4;
  InstanceMachine machine(policy);
  auto now = t0;
  auto crash = [&] {
    machine.reconcile(wanting_up(now));
    machine.spawned(7, now);
    now += 100ms;
    return machine.exited(exit_status(1), true, now);
  };
  CHECK(crash().empty());  // 1st quick failure: at once
  CHECK(machine.state() == InstanceState::stopped);
  CHECK(crash() == Effects{{Effect::Kind::arm_timer, 1s}});  // 2nd
  CHECK(machine.state() == InstanceState::backoff);
  CHECK(machine.timer_fired(now).empty());
  CHECK(machine.state() == InstanceState::stopped);
  CHECK(crash() == Effects{{Effect::Kind::arm_timer, 2s}});  // 3rd
  machine.timer_fired(now);
  CHECK(crash() == Effects{{Effect::Kind::arm_timer, 3s}});  // 4th: capped
  machine.timer_fired(now);
  CHECK(crash().empty());  // 5th: over the limit
  CHECK(machine.state() == InstanceState::failed);
  CHECK(machine.error() == "gave up after 4 restarts in quick succession (last: exited 1)");
  CHECK(machine.restarts() == 4);
}

TEST_CASE("a stable run resets the backoff", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.stable_after_seconds = 10;
  InstanceMachine machine(policy);
  auto now = t0;
  auto run_for = [&](std::chrono::seconds duration) {
    machine.reconcile(wanting_up(now));
    machine.spawned(7, now);
    now += duration;
    auto effects = machine.exited(exit_status(1), true, now);
    if (machine.state() == InstanceState::backoff) machine.timer_fired(now);
    return effects;
  };
  run_for(1s);
  CHECK_FALSE(run_for(1s).empty());  // second quick failure is delayed
  CHECK(run_for(11s).empty());       // after a stable run: immediate again
}

TEST_CASE("restart policies decide what an exit means", "[machine]") {
  using nixpm::config::RestartPolicy;
  nixpm::config::SupervisionPolicy policy;

  SECTION("on-failure: a clean exit is a stop") {
    policy.restart = RestartPolicy::on_failure;
    auto machine = running_machine(policy);
    // The supervisor stops wanting it up, so it is not started again.
    CHECK(machine.exited(exit_status(0), true, t0 + 1s) == Effects{{Effect::Kind::release}});
    CHECK(machine.state() == InstanceState::stopped);
    CHECK(machine.restarts() == 0);
  }
  SECTION("never: a failure is final") {
    policy.restart = RestartPolicy::never;
    auto machine = running_machine(policy);
    machine.exited(exit_status(2), true, t0 + 1s);
    CHECK(machine.state() == InstanceState::failed);
    CHECK(machine.error() == "exited 2");
  }
  SECTION("always: a clean exit restarts too") {
    policy.restart = RestartPolicy::always;
    auto machine = running_machine(policy);
    machine.exited(exit_status(0), true, t0 + 30s);
    CHECK(machine.state() == InstanceState::stopped);
    CHECK(machine.restarts() == 1);
  }
}

TEST_CASE("an exit while not wanted is a plain stop", "[machine]") {
  auto machine = running_machine();
  machine.exited(exit_status(1), false, t0 + 1s);
  CHECK(machine.state() == InstanceState::stopped);
  CHECK(machine.restarts() == 0);
}

TEST_CASE("a backoff ends at once when the instance is no longer wanted", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  InstanceMachine machine(policy);
  for (int i = 0; i < 2; ++i) {
    machine.reconcile(wanting_up(t0));
    machine.spawned(7, t0);
    machine.exited(exit_status(1), true, t0);
  }
  REQUIRE(machine.state() == InstanceState::backoff);
  CHECK(machine.reconcile(wanting_down(t0)) == Effects{{Effect::Kind::cancel_timer}});
  CHECK(machine.state() == InstanceState::stopped);
}

TEST_CASE("successExitCodes decide what counts as a failure", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.success_exit_codes = {0, 143};
  auto machine = running_machine(policy);
  CHECK(machine.exited(exit_status(143), true, t0 + 1s) == Effects{{Effect::Kind::release}});
  CHECK(machine.state() == InstanceState::stopped);  // on-failure: a success is a plain stop
  CHECK(machine.restarts() == 0);
  auto other = running_machine(policy);
  other.exited(exit_status(1), true, t0 + 1s);
  CHECK(other.restarts() == 1);
}

TEST_CASE("a oneshot is starting while it runs and done after a successful exit", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.type = nixpm::config::ProcessType::oneshot;
  InstanceMachine machine(policy);
  machine.reconcile(wanting_up(t0));
  machine.spawned(9, t0);
  CHECK(machine.state() == InstanceState::starting);
  CHECK_FALSE(nixpm::is_ready(machine.state()));
  machine.exited(exit_status(0), true, t0 + 1s);
  CHECK(machine.state() == InstanceState::done);
  CHECK(nixpm::is_ready(machine.state()));
  CHECK(machine.reconcile(wanting_up(t0 + 2s)).empty());  // not run again by itself
  machine.start_requested();
  CHECK(machine.reconcile(wanting_up(t0 + 3s)) == Effects{{Effect::Kind::spawn}});
}

TEST_CASE("a failing oneshot follows the restart policy", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.type = nixpm::config::ProcessType::oneshot;
  policy.restart = nixpm::config::RestartPolicy::never;
  InstanceMachine machine(policy);
  machine.reconcile(wanting_up(t0));
  machine.spawned(9, t0);
  machine.exited(exit_status(4), true, t0 + 1s);
  CHECK(machine.state() == InstanceState::failed);
  CHECK(machine.error() == "exited 4");
}

TEST_CASE("with a readiness check, an instance is starting until the check passes", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.readiness.kind = nixpm::config::ReadinessKind::tcp;
  policy.start_timeout_seconds = 30;
  InstanceMachine machine(policy);
  machine.reconcile(wanting_up(t0));
  CHECK(machine.spawned(5, t0) == Effects{{Effect::Kind::arm_timer, 30s}, {Effect::Kind::start_probe}});
  CHECK(machine.state() == InstanceState::starting);
  CHECK(machine.became_ready(t0 + 1s) == Effects{{Effect::Kind::cancel_timer}});
  CHECK(machine.state() == InstanceState::running);
  CHECK(machine.became_ready(t0 + 2s).empty());  // only once
}

TEST_CASE("not ready within startTimeout: killed, and the exit counts as a failure", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.readiness.kind = nixpm::config::ReadinessKind::tcp;
  policy.start_timeout_seconds = 0.5;
  policy.restart = nixpm::config::RestartPolicy::never;
  InstanceMachine machine(policy);
  machine.reconcile(wanting_up(t0));
  machine.spawned(5, t0);
  CHECK(machine.timer_fired(t0 + 500ms) == Effects{{Effect::Kind::kill}});
  CHECK(machine.became_ready(t0 + 600ms).empty());  // too late
  machine.exited(exit_status(0), true, t0 + 600ms);
  CHECK(machine.state() == InstanceState::failed);
  CHECK(machine.error() == "not ready within 0.5s (exited 0)");
}

namespace {

nixpm::config::SupervisionPolicy daemon_policy() {
  nixpm::config::SupervisionPolicy policy;
  policy.readiness.kind = nixpm::config::ReadinessKind::pid_file;
  policy.start_timeout_seconds = 20;
  return policy;
}

}  // namespace

TEST_CASE("a forking daemon: launcher, then its pid file, then the daemon is supervised", "[machine]") {
  InstanceMachine machine(daemon_policy(), /*forking=*/true);
  machine.reconcile(wanting_up(t0));
  CHECK(machine.spawned(5, t0) == Effects{{Effect::Kind::arm_timer, 20s}});
  CHECK(machine.state() == InstanceState::starting);
  CHECK(machine.pid() == 5);
  // The launcher exiting 0 is no crash: now the pid file is awaited.
  CHECK(machine.exited(exit_status(0), true, t0 + 1s) == Effects{{Effect::Kind::watch_pid_file}});
  CHECK(machine.state() == InstanceState::starting);
  CHECK(machine.awaiting_pid());
  CHECK_FALSE(machine.pid());
  CHECK(machine.last_exit().empty());
  // Nothing to stop while awaiting the pid file.
  CHECK(machine.reconcile(wanting_down(t0 + 1s)).empty());
  CHECK(machine.daemon_found(77, t0 + 2s) == Effects{{Effect::Kind::cancel_timer}});
  CHECK(machine.state() == InstanceState::running);
  CHECK(machine.pid() == 77);
  CHECK_FALSE(machine.awaiting_pid());
  // From here on it is an ordinary supervised process: its death is a crash.
  machine.exited(signal_status(SIGKILL), true, t0 + 60s);
  CHECK(machine.state() == InstanceState::stopped);
  CHECK(machine.last_exit() == "killed by SIGKILL");
  CHECK(machine.restarts() == 1);
}

TEST_CASE("a forking daemon whose launcher fails is a failure", "[machine]") {
  auto policy = daemon_policy();
  policy.restart = nixpm::config::RestartPolicy::never;
  InstanceMachine machine(policy, true);
  machine.reconcile(wanting_up(t0));
  machine.spawned(5, t0);
  CHECK(machine.exited(exit_status(1), true, t0 + 1s).empty());
  CHECK(machine.state() == InstanceState::failed);
  CHECK(machine.error() == "launcher exited 1");
}

TEST_CASE("a forking daemon that writes no pid file fails at the start timeout", "[machine]") {
  auto policy = daemon_policy();
  policy.restart = nixpm::config::RestartPolicy::never;
  InstanceMachine machine(policy, true);
  machine.reconcile(wanting_up(t0));
  machine.spawned(5, t0);
  machine.exited(exit_status(0), true, t0 + 1s);
  CHECK(machine.timer_fired(t0 + 20s).empty());
  CHECK(machine.state() == InstanceState::failed);
  CHECK(machine.error() == "no live pid in the pid file within 20s (launcher exited 0)");
  CHECK(machine.daemon_found(77, t0 + 21s).empty());  // too late
}

TEST_CASE("a forking daemon with a readiness check besides its pid file is probed after it is found", "[machine]") {
  auto policy = daemon_policy();
  policy.readiness.kind = nixpm::config::ReadinessKind::tcp;
  InstanceMachine machine(policy, true);
  machine.reconcile(wanting_up(t0));
  machine.spawned(5, t0);
  machine.exited(exit_status(0), true, t0 + 1s);
  CHECK(machine.daemon_found(77, t0 + 2s) == Effects{{Effect::Kind::start_probe}});
  CHECK(machine.state() == InstanceState::starting);
  CHECK(machine.became_ready(t0 + 3s) == Effects{{Effect::Kind::cancel_timer}});
  CHECK(machine.state() == InstanceState::running);
}

TEST_CASE("a forking daemon's launcher can be stopped while it runs", "[machine]") {
  InstanceMachine machine(daemon_policy(), true);
  machine.reconcile(wanting_up(t0));
  machine.spawned(5, t0);
  CHECK(machine.reconcile(wanting_down(t0 + 1s)) ==
        Effects{{Effect::Kind::signal_stop}, {Effect::Kind::arm_timer, 10s}});
  machine.exited(exit_status(0), false, t0 + 2s);
  CHECK(machine.state() == InstanceState::stopped);
  CHECK_FALSE(machine.awaiting_pid());
}

TEST_CASE("a failed liveness check kills a running instance and the exit counts as a failure", "[machine]") {
  auto machine = running_machine();
  CHECK(machine.liveness_failed("liveness check failed: exited 1", t0 + 30s) == Effects{{Effect::Kind::kill}});
  CHECK(machine.liveness_failed("again", t0 + 31s).empty());  // one kill is enough
  machine.exited(exit_status(0), true, t0 + 31s);  // even a clean exit: it had stopped answering
  CHECK(machine.state() == InstanceState::stopped);  // restarted at once (the run was stable)
  CHECK(machine.restarts() == 1);
  CHECK(machine.last_exit() == "exited 0 (liveness check failed: exited 1)");
  // The next run starts with a clean slate.
  machine.reconcile(wanting_up(t0 + 31s));
  machine.spawned(43, t0 + 31s);
  CHECK(machine.error().empty());
  CHECK(machine.liveness_failed("x", t0 + 32s) == Effects{{Effect::Kind::kill}});
}

TEST_CASE("liveness failures outside running are ignored", "[machine]") {
  InstanceMachine machine(nixpm::config::SupervisionPolicy{});
  CHECK(machine.liveness_failed("x", t0).empty());
}

TEST_CASE("a start request re-runs a done oneshot only when it is named itself", "[machine]") {
  nixpm::config::SupervisionPolicy policy;
  policy.type = nixpm::config::ProcessType::oneshot;
  InstanceMachine machine(policy);
  machine.reconcile(wanting_up(t0));
  machine.spawned(5, t0);
  machine.exited(exit_status(0), true, t0 + 1s);
  REQUIRE(machine.state() == InstanceState::done);
  machine.start_requested(/*rerun=*/false);
  CHECK(machine.state() == InstanceState::done);
  machine.start_requested(true);
  CHECK(machine.state() == InstanceState::stopped);
}
