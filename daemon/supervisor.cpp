#include "supervisor.hpp"

#include <algorithm>
#include <csignal>
#include <map>

#include <spdlog/spdlog.h>

#include <pwd.h>
#include <unistd.h>

#include "daemon/generated_files.hpp"
#include "daemon/platform.hpp"

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
    const auto name = entry.substr(0, entry.find('='));
    if (name == "PATH") path_value = entry.substr(5);
    if (!overrides.contains(name) && name != "PATH") result.push_back(entry);
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
void wrap_in_initialize(const config::InstanceSpec& spec, SpawnRequest& request) {
  if (spec.initialize.empty()) return;
  std::vector<std::string> arguments{"-ec", spec.initialize + "\nexec \"$0\" \"$@\"", request.executable};
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
  prober_.set_callback([this](std::size_t slot) { probe_passed(slot); });
}

Supervisor::Instance Supervisor::make_instance(config::InstanceSpec spec) {
  if (!prober_.supports(spec.supervision.readiness.kind)) {
    spdlog::warn("{}: this readiness check is not supported yet; the instance counts as ready once started",
                 spec.name);
    spec.supervision.readiness.kind = config::ReadinessKind::started;
  }
  auto policy = spec.supervision;
  return Instance{std::move(spec), InstanceMachine(policy), next_slot_++};
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
  return snap;
}

void Supervisor::start(const std::vector<std::size_t>& roots) {
  for (auto index : graph_.with_dependencies(roots)) {
    instances_[index].wanted_up = true;
    instances_[index].machine.start_requested();
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
  for (auto& group : restart_groups_)
    std::erase_if(group, [&](std::size_t member) {
      return std::find(affected.begin(), affected.end(), member) != affected.end();
    });
  drain();
}

void Supervisor::restart(const std::vector<std::size_t>& roots) {
  std::vector<std::size_t> group;
  for (auto index : graph_.with_dependents(roots)) {
    const bool root = std::find(roots.begin(), roots.end(), index) != roots.end();
    if (root || instances_[index].wanted_up) group.push_back(index);
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
  if (found == by_pid_.end()) return;  // an orphan we adopted, or a child whose exec failed
  const auto index = found->second;
  by_pid_.erase(found);
  auto& instance = instances_[index];
  const auto effects = instance.machine.exited(wait_status, instance.wanted_up, scheduler_.now());
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
  carry_out(index, instances_[index].machine.became_ready(scheduler_.now()));
  spdlog::info("{}: ready", instances_[index].spec.name);
  enqueue_with_neighbours(index);
  drain();
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
  context.wanted_up = instances_[index].wanted_up;
  context.now = scheduler_.now();
  context.dependencies_ready = std::all_of(graph_.dependencies(index).begin(), graph_.dependencies(index).end(),
                                           [&](std::size_t d) { return is_ready(instances_[d].machine.state()); });
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
      instances_[index].queued = false;
      const auto before = instances_[index].machine.state();
      carry_out(index, instances_[index].machine.reconcile(context_of(index)));
      const auto after = instances_[index].machine.state();
      if (after != InstanceState::starting) prober_.cancel(instances_[index].slot);
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
        if (auto pid = instance.machine.pid()) spawner_.signal_group(*pid, instance.spec.supervision.stop_signal);
        break;
      case Effect::Kind::kill:
        if (auto pid = instance.machine.pid()) {
          spdlog::warn("{}: still running after {}s; sending SIGKILL", instance.spec.name,
                       instance.spec.supervision.stop_timeout_seconds);
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
        prober_.start(instance.slot, instance.spec.supervision.readiness, instance.spec.pid_file);
        break;
    }
  }
}

void Supervisor::spawn(std::size_t index) {
  auto& instance = instances_[index];
  const auto& spec = instance.spec;
  // Until pid-file tracking lands, a forking daemon would escape supervision: refuse it visibly.
  std::string error = spec.kind == config::ProcessKind::daemon
                          ? "forking daemons (only 'daemon' given) are not supported by nixpmd yet; give "
                            "'process' or 'foregroundProcess'"
                          : write_generated_files(spec.files);
  SpawnResult result;
  if (error.empty()) {
    SpawnRequest request;
    request.executable = spec.executable;
    request.arguments = spec.arguments;
    request.environment = merged_environment(base_environment_, spec);
    if (spec.umask) request.umask = static_cast<mode_t>(*spec.umask);
    request.nice = spec.nice;
    if (!spec.user.empty()) {
      if (directories_.may_change_user) {
        request.identity = resolve_user(spec.user, error);
      } else {
        spdlog::debug("{}: ignoring user '{}' (user changes are disabled in this mode)", spec.name, spec.user);
      }
    }
    wrap_in_initialize(spec, request);
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
