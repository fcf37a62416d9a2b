#include "supervisor.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>

#include <spdlog/spdlog.h>

#include <pwd.h>
#include <unistd.h>

#include "daemon/generated_files.hpp"
#include "daemon/platform.hpp"
#include "daemon/run_as.hpp"

namespace nixpm::daemon {
namespace {

double wall_clock_of(TimePoint steady_time, TimePoint steady_now) {
  const auto age = std::chrono::duration<double>(steady_now - steady_time).count();
  const auto wall_now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return wall_now - age;
}

// The daemon's environment with the instance's on top, and its `path` directories in front of PATH.
std::vector<std::string> merged_environment(const std::vector<std::string>& base, const config::InstanceSpec& spec) {
  const auto& overrides = spec.environment;
  std::vector<std::string> result;
  result.reserve(base.size() + overrides.size() + 1);
  std::string path_value = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& entry : base) {
    // Names are compared in place: this runs for every spawn, over the whole daemon environment.
    const std::string_view name = std::string_view(entry).substr(0, entry.find('='));
    if (name == "PATH") {
      path_value = entry.substr(5);
      continue;
    }
    if (overrides.empty() || !overrides.contains(std::string(name))) result.push_back(entry);
  }
  for (const auto& [name, value] : overrides) {
    if (name == "PATH") path_value = value;
    else result.push_back(name + "=" + value);
  }
  std::string prefix;
  for (const auto& dir : spec.path) prefix += dir + ":";
  result.push_back("PATH=" + prefix + path_value);
  return result;
}

// `initialize` runs in the same process just before the program replaces it (as nix-processmgmt's
// generated start scripts do): so the pid stays the managed process's own, the output goes to the
// instance's log, and a failing initialize (sh -e) fails the start with its exit status.
// With a `user` to become, initialize runs as root and nixpmd's own --run-as mode drops privileges
// right before the program (see daemon/run_as.hpp).
void wrap_in_initialize(const config::InstanceSpec& spec, const std::filesystem::path& self, SpawnRequest& request) {
  if (spec.initialize.empty()) return;
  std::vector<std::string> arguments{"-ec", spec.initialize + "\nexec \"$0\" \"$@\""};
  if (request.identity && !self.empty()) {
    arguments.push_back(self.string());
    arguments.push_back("--run-as");
    arguments.push_back(format_run_as({request.identity->uid, request.identity->gid, request.identity->groups}));
    arguments.push_back("--");
    request.identity.reset();
  }
  arguments.push_back(request.executable);
  arguments.insert(arguments.end(), request.arguments.begin(), request.arguments.end());
  request.executable = "/bin/sh";
  request.arguments = std::move(arguments);
}

std::optional<SpawnRequest::Identity> resolve_user(const std::string& name, std::string& error) {
  const struct passwd* entry = getpwnam(name.c_str());
  if (entry == nullptr) {
    error = "user '" + name + "' does not exist";
    return std::nullopt;
  }
  return SpawnRequest::Identity{entry->pw_uid, entry->pw_gid, platform::groups_of(entry->pw_name, entry->pw_gid)};
}

}  // namespace

Supervisor::Supervisor(Spawner& spawner, Scheduler& scheduler, OutputRouter& output, ReadinessProber& prober,
                       RuntimeDirectories directories, std::vector<std::string> base_environment)
    : spawner_(spawner),
      scheduler_(scheduler),
      output_(output),
      prober_(prober),
      directories_(std::move(directories)),
      base_environment_(std::move(base_environment)),
      graph_(config::Definitions{}) {
  scheduler_.set_callback([this](std::size_t slot) { timer_fired(slot); });
  prober_.set_callbacks([this](std::size_t slot) { probe_passed(slot); },
                        [this](std::size_t slot, const std::string& reason) { liveness_failed(slot, reason); });
}

void Supervisor::set_process_watch(ProcessWatch* watch) {
  watch_ = watch;
  if (watch_) watch_->set_callback([this](pid_t pid, std::optional<int> status) { watched_process_gone(pid, status); });
}

Supervisor::Instance Supervisor::make_instance(config::InstanceSpec spec) {
  if (!prober_.supports(spec.supervision.readiness.kind)) {
    spdlog::warn("{}: this readiness check is not supported yet; the instance counts as ready once started",
                 spec.name);
    spec.supervision.readiness.kind = config::ReadinessKind::started;
  }
  auto policy = spec.supervision;
  const bool forking = spec.kind == config::ProcessKind::daemon;
  return Instance{std::move(spec), InstanceMachine(policy, forking), next_slot_++};
}

void Supervisor::set_definitions(config::Definitions definitions) {
  graph_ = config::DependencyGraph(definitions);
  instances_.clear();
  by_slot_.clear();
  instances_.reserve(definitions.instances.size());
  for (auto& spec : definitions.instances) {
    instances_.push_back(make_instance(std::move(spec)));
    by_slot_[instances_.back().slot] = instances_.size() - 1;
  }
}

InstanceSnapshot Supervisor::snapshot(std::size_t index) const {
  const auto& instance = instances_[index];
  const auto& machine = instance.machine;
  const auto now = scheduler_.now();
  InstanceSnapshot snap;
  snap.name = instance.spec.name;
  snap.description = instance.spec.description;
  snap.state = machine.state();
  snap.pid = machine.pid();
  snap.wanted_up = instance.wanted_up;
  snap.autostart = instance.spec.autostart;
  snap.since_unix_seconds = wall_clock_of(machine.since(), now);
  if (machine.pid()) snap.uptime_seconds = std::chrono::duration<double>(now - machine.started_at()).count();
  snap.restarts = machine.restarts();
  snap.last_exit = machine.last_exit();
  snap.error = machine.error();
  for (const auto& dependency : instance.spec.dependencies) snap.dependencies.push_back(dependency.name);
  snap.readiness = instance.spec.supervision.readiness.kind;
  if (instance.wanted_up && (instance.held || machine.state() == InstanceState::stopped)) {
    for (auto dependency : graph_.dependencies(index)) {
      const auto& other = instances_[dependency];
      if (!is_ready(other.machine.state()) || other.held) snap.waiting_for.push_back(other.spec.name);
    }
  }
  return snap;
}

void Supervisor::start(const std::vector<std::size_t>& roots) {
  // A lookup table, not a search of `roots` per instance: starting all N names all N.
  const auto named = membership(roots);
  for (auto index : graph_.with_dependencies(roots)) {
    instances_[index].wanted_up = true;
    // A oneshot that is done stays done when it is only a dependency of what was named.
    instances_[index].machine.start_requested(named[index]);
    enqueue(index);
  }
  drain();
}

void Supervisor::stop(const std::vector<std::size_t>& roots) {
  const auto affected = graph_.with_dependents(roots);
  for (auto index : affected) {
    instances_[index].wanted_up = false;
    enqueue(index);
  }
  // An explicit stop wins over a restart in progress.
  if (!restart_groups_.empty()) {
    const auto stopped = membership(affected);
    for (auto& group : restart_groups_) std::erase_if(group, [&](std::size_t member) { return stopped[member]; });
  }
  drain();
}

void Supervisor::restart(const std::vector<std::size_t>& roots) {
  std::vector<std::size_t> group;
  const auto named = membership(roots);
  for (auto index : graph_.with_dependents(roots)) {
    if (named[index] || instances_[index].wanted_up) group.push_back(index);
  }
  for (auto index : group) {
    instances_[index].wanted_up = false;
    enqueue(index);
  }
  restart_groups_.push_back(std::move(group));
  drain();
}

void Supervisor::start_autostart() {
  std::vector<std::size_t> roots;
  for (std::size_t index = 0; index < instances_.size(); ++index)
    if (instances_[index].spec.autostart) roots.push_back(index);
  start(roots);
}

bool Supervisor::signal(std::size_t index, int signal) {
  const auto pid = instances_[index].machine.pid();
  if (!pid) return false;
  spawner_.signal_group(*pid, signal);
  return true;
}

void Supervisor::stop_all() {
  restart_groups_.clear();
  for (std::size_t index = 0; index < instances_.size(); ++index) {
    instances_[index].wanted_up = false;
    enqueue(index);
  }
  drain();
}

std::vector<bool> Supervisor::membership(const std::vector<std::size_t>& indices) const {
  std::vector<bool> member(instances_.size(), false);
  for (auto index : indices) member[index] = true;
  return member;
}

bool Supervisor::has_process(std::size_t index) const {
  const auto state = instances_[index].machine.state();
  return state == InstanceState::starting || state == InstanceState::running || state == InstanceState::stopping;
}

bool Supervisor::all_down() const {
  for (std::size_t index = 0; index < instances_.size(); ++index)
    if (has_process(index)) return false;
  return true;
}

void Supervisor::child_exited(pid_t pid, int wait_status) {
  const auto found = by_pid_.find(pid);
  if (found == by_pid_.end()) {
    // A check command, an orphan we adopted, or a child whose exec failed.
    prober_.child_exited(pid, wait_status);
    return;
  }
  const auto index = found->second;
  by_pid_.erase(found);
  if (watch_) watch_->unwatch(pid);
  auto& instance = instances_[index];
  const auto effects =
      instance.machine.exited(wait_status, instance.wanted_up && !instance.held, scheduler_.now());
  if (instance.machine.awaiting_pid()) {
    // A forking daemon's launcher finished; the daemon it left behind is looked for next.
    spdlog::debug("{}: launcher {} exited; waiting for {}", instance.spec.name, pid, instance.spec.pid_file);
    carry_out(index, effects);
    enqueue(index);
    drain();
    return;
  }
  // Whatever the instance left behind (escaped grandchildren) goes with it.
  if (containment_) containment_->kill_leftovers(instance.spec.name);
  const auto state = instance.machine.state();
  if (state == InstanceState::backoff || state == InstanceState::failed ||
      (state == InstanceState::stopped && instance.wanted_up)) {
    spdlog::warn("{}: process {} {}{}", instance.spec.name, pid, instance.machine.last_exit(),
                 state == InstanceState::failed ? "; giving up: " + instance.machine.error()
                 : state == InstanceState::backoff ? "; restarting after a delay"
                                                   : "; restarting");
  } else {
    spdlog::info("{}: process {} {}", instance.spec.name, pid, instance.machine.last_exit());
  }
  carry_out(index, effects);
  enqueue_with_neighbours(index);
  drain();
}

void Supervisor::timer_fired(std::size_t slot) {
  const auto found = by_slot_.find(slot);
  if (found == by_slot_.end()) return;  // the instance went away in a live switch
  const auto index = found->second;
  carry_out(index, instances_[index].machine.timer_fired(scheduler_.now()));
  enqueue_with_neighbours(index);
  drain();
}

void Supervisor::probe_passed(std::size_t slot) {
  const auto found = by_slot_.find(slot);
  if (found == by_slot_.end()) return;
  const auto index = found->second;
  if (instances_[index].machine.awaiting_pid()) {
    found_daemon(index);
  } else {
    carry_out(index, instances_[index].machine.became_ready(scheduler_.now()));
    spdlog::info("{}: ready", instances_[index].spec.name);
  }
  enqueue_with_neighbours(index);
  drain();
}

void Supervisor::found_daemon(std::size_t index) {
  auto& instance = instances_[index];
  const auto& pid_file = instance.spec.pid_file;
  std::ifstream in(pid_file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) {
    // Gone again between the check and now: keep looking until the start timeout.
    carry_out(index, {{Effect::Kind::watch_pid_file}});
    return;
  }
  const auto daemon_pid = static_cast<pid_t>(pid);
  spdlog::info("{}: daemon running, pid {} (from {})", instance.spec.name, daemon_pid, pid_file);
  by_pid_[daemon_pid] = index;
  if (watch_) watch_->watch(daemon_pid);
  carry_out(index, instance.machine.daemon_found(daemon_pid, scheduler_.now()));
}

void Supervisor::liveness_failed(std::size_t slot, const std::string& reason) {
  const auto found = by_slot_.find(slot);
  if (found == by_slot_.end()) return;
  const auto index = found->second;
  auto& instance = instances_[index];
  instance.liveness_active = false;
  spdlog::warn("{}: {}; killing it", instance.spec.name, reason);
  carry_out(index, instance.machine.liveness_failed(reason, scheduler_.now()));
  enqueue_with_neighbours(index);
  drain();
}

void Supervisor::watched_process_gone(pid_t pid, std::optional<int> wait_status) {
  if (!by_pid_.contains(pid)) return;  // the reaper reported it first
  child_exited(pid, wait_status.value_or(kUnknownWaitStatus));
}

void Supervisor::hold_dependents(std::size_t index) {
  // Everything that (transitively) needs this instance and has a process goes down, dependents first,
  // and comes back once its dependencies are ready again.
  for (auto dependent : graph_.with_dependents({index})) {
    if (dependent == index) continue;
    auto& instance = instances_[dependent];
    if (!instance.wanted_up || instance.held || !has_process(dependent)) continue;
    instance.held = true;
    spdlog::info("{}: stopping until {} is ready again", instance.spec.name, instances_[index].spec.name);
    enqueue(dependent);
  }
}

void Supervisor::note_readiness(std::size_t index) {
  auto& instance = instances_[index];
  const bool ready_now = is_ready(instance.machine.state());
  if (instance.was_ready && !ready_now) hold_dependents(index);
  instance.was_ready = ready_now;
}

void Supervisor::after_reconcile(std::size_t index) {
  auto& instance = instances_[index];
  const auto state = instance.machine.state();
  note_readiness(index);
  if (state != InstanceState::starting) prober_.cancel(instance.slot);
  const bool want_liveness = state == InstanceState::running && instance.spec.supervision.liveness.has_value();
  if (want_liveness && !instance.liveness_active) {
    prober_.start_liveness(instance.slot, *instance.spec.supervision.liveness, probe_target(instance));
    instance.liveness_active = true;
  } else if (!want_liveness && instance.liveness_active) {
    prober_.cancel_liveness(instance.slot);
    instance.liveness_active = false;
  }
}

void Supervisor::enqueue(std::size_t index) {
  if (instances_[index].queued) return;
  instances_[index].queued = true;
  queue_.push_back(index);
}

void Supervisor::enqueue_with_neighbours(std::size_t index) {
  enqueue(index);
  for (auto dependent : graph_.dependents(index)) enqueue(dependent);
  for (auto dependency : graph_.dependencies(index)) enqueue(dependency);
}

Context Supervisor::context_of(std::size_t index) const {
  Context context;
  context.wanted_up = instances_[index].wanted_up && !instances_[index].held;
  context.now = scheduler_.now();
  context.dependencies_ready = std::all_of(graph_.dependencies(index).begin(), graph_.dependencies(index).end(),
                                           [&](std::size_t d) {
                                             // One that is held down is on its way out.
                                             return is_ready(instances_[d].machine.state()) && !instances_[d].held;
                                           });
  context.dependents_down = std::none_of(graph_.dependents(index).begin(), graph_.dependents(index).end(),
                                         [&](std::size_t d) { return has_process(d); });
  return context;
}

void Supervisor::drain() {
  // Effects may queue more work; the outermost call settles everything, then tells the listener once.
  if (draining_) return;
  draining_ = true;
  do {
    while (!queue_.empty()) {
      const auto index = queue_.front();
      queue_.pop_front();
      auto& instance = instances_[index];
      instance.queued = false;
      if (instance.held && !has_process(index)) instance.held = false;
      // An exit or a timer may have changed the state since the last pass (and a restart may bring it
      // back within this very reconcile): dependents must see that it was down.
      note_readiness(index);
      const auto before = instance.machine.state();
      carry_out(index, instance.machine.reconcile(context_of(index)));
      const auto after = instance.machine.state();
      after_reconcile(index);
      if (after != before) enqueue_with_neighbours(index);
    }
    release_restart_groups();
    apply_pending_switch();
  } while (!queue_.empty());
  draining_ = false;
  if (on_change_) on_change_();
}

void Supervisor::release_restart_groups() {
  for (auto& group : restart_groups_) {
    if (std::any_of(group.begin(), group.end(), [&](std::size_t i) { return has_process(i); })) continue;
    for (auto index : group) {
      instances_[index].wanted_up = true;
      instances_[index].machine.start_requested();
      enqueue(index);
    }
    group.clear();
  }
  std::erase_if(restart_groups_, [](const auto& group) { return group.empty(); });
}

void Supervisor::carry_out(std::size_t index, const Effects& effects) {
  auto& instance = instances_[index];
  for (const auto& effect : effects) {
    switch (effect.kind) {
      case Effect::Kind::spawn:
        spawn(index);
        break;
      case Effect::Kind::signal_stop:
        if (auto pid = instance.machine.pid()) {
          // Escaped processes first: once the group's leader is dead, its children are re-parented and
          // no longer look like its descendants.
          if (containment_) containment_->signal_escaped(instance.spec.name, *pid, instance.spec.supervision.stop_signal);
          spawner_.signal_group(*pid, instance.spec.supervision.stop_signal);
        }
        break;
      case Effect::Kind::kill:
        if (auto pid = instance.machine.pid()) {
          if (instance.machine.state() == InstanceState::stopping)
            spdlog::warn("{}: still running after {}s; sending SIGKILL", instance.spec.name,
                         instance.spec.supervision.stop_timeout_seconds);
          if (containment_) containment_->signal_escaped(instance.spec.name, *pid, SIGKILL);
          spawner_.signal_group(*pid, SIGKILL);
        }
        break;
      case Effect::Kind::arm_timer:
        scheduler_.arm(instance.slot, effect.delay);
        break;
      case Effect::Kind::cancel_timer:
        scheduler_.cancel(instance.slot);
        break;
      case Effect::Kind::release:
        instance.wanted_up = false;
        break;
      case Effect::Kind::start_probe:
        prober_.start(instance.slot, instance.spec.supervision.readiness, probe_target(instance));
        break;
      case Effect::Kind::watch_pid_file: {
        config::ReadinessCheck pid_file_check;
        pid_file_check.kind = config::ReadinessKind::pid_file;
        prober_.start(instance.slot, pid_file_check, probe_target(instance));
        break;
      }
    }
  }
}

std::filesystem::path Supervisor::notify_socket_of(const Instance& instance) const {
  const auto base = directories_.runtime_dir.empty() ? directories_.state_dir / "run" : directories_.runtime_dir;
  return base / "notify" / instance.spec.name;
}

ProbeTarget Supervisor::probe_target(const Instance& instance) const {
  ProbeTarget target;
  target.pid_file = instance.spec.pid_file;
  target.environment = merged_environment(base_environment_, instance.spec);
  target.directory = instance.spec.directory.empty() ? directories_.state_dir
                                                      : std::filesystem::path(instance.spec.directory);
  if (instance.spec.supervision.readiness.kind == config::ReadinessKind::notify)
    target.notify_socket = notify_socket_of(instance);
  return target;
}

void Supervisor::spawn(std::size_t index) {
  auto& instance = instances_[index];
  const auto& spec = instance.spec;
  std::string error = write_generated_files(spec.files);
  if (error.empty() && spec.kind == config::ProcessKind::daemon && !spec.pid_file.empty()) {
    // A stale pid file from an earlier run would name the wrong process.
    std::error_code ignored;
    std::filesystem::remove(spec.pid_file, ignored);
  }
  // The target (with its merged environment) is only worth building for a check that uses it.
  if (error.empty())
    error = prober_.prepare(instance.slot, spec.supervision.readiness,
                            spec.supervision.readiness.kind == config::ReadinessKind::started ? ProbeTarget{}
                                                                                              : probe_target(instance));
  SpawnResult result;
  if (error.empty()) {
    SpawnRequest request;
    request.executable = spec.executable;
    request.arguments = spec.arguments;
    request.environment = merged_environment(base_environment_, spec);
    if (spec.supervision.readiness.kind == config::ReadinessKind::notify)
      request.environment.push_back("NOTIFY_SOCKET=" + notify_socket_of(instance).string());
    if (containment_) request.cgroup = containment_->cgroup_for(spec.name);
    if (spec.umask) request.umask = static_cast<mode_t>(*spec.umask);
    request.nice = spec.nice;
    request.rlimits = spec.rlimits;
    if (!spec.user.empty()) {
      if (directories_.may_change_user) {
        request.identity = resolve_user(spec.user, error);
      } else {
        spdlog::debug("{}: ignoring user '{}' (user changes are disabled in this mode)", spec.name, spec.user);
      }
    }
    wrap_in_initialize(spec, directories_.self_executable, request);
    request.directory = spec.directory.empty() ? directories_.state_dir : std::filesystem::path(spec.directory);
    if (error.empty()) request.output_fd = output_.open_output(spec.name, error);
    if (request.output_fd >= 0) {
      result = spawner_.spawn(request);
      close(request.output_fd);
      error = result.error;
    }
  }
  const auto now = scheduler_.now();
  if (!result.ok()) {
    spdlog::error("{}: cannot start: {}", spec.name, error);
    instance.machine.spawn_failed(error, now);
    return;
  }
  by_pid_[result.pid] = index;
  spdlog::info("{}: started, pid {}", spec.name, result.pid);
  carry_out(index, instance.machine.spawned(result.pid, now));
}

}  // namespace nixpm::daemon
