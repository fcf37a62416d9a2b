// Supervisor's live switch (`reload`). See switch_plan.hpp for what changes and supervisor.hpp for
// the promise; this file carries it out in two steps: stop, then swap and start.

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "daemon/supervisor.hpp"

namespace nixpm::daemon {

bool Supervisor::switch_to(config::Definitions next, SwitchDone done) {
  if (pending_switch_) return false;
  std::vector<const config::InstanceSpec*> current;
  current.reserve(instances_.size());
  for (const auto& instance : instances_) current.push_back(&instance.spec);
  auto plan = plan_switch(current, graph_, next);

  // Restarting an instance that is neither wanted nor running would start nothing: call it unchanged.
  std::erase_if(plan.restarted, [&](const std::string& name) {
    const auto index = *graph_.index_of(name);
    if (instances_[index].wanted_up || has_process(index)) return false;
    plan.unchanged.push_back(name);
    return true;
  });

  PendingSwitch pending{std::move(next), std::move(plan), {}, std::move(done)};
  for (auto index : pending.plan.to_stop) {
    if (instances_[index].wanted_up) pending.wanted_before.push_back(instances_[index].spec.name);
    instances_[index].wanted_up = false;
    enqueue(index);
  }
  // An explicit restart in progress is overtaken by the switch.
  restart_groups_.clear();
  spdlog::info("reload: {} added, {} removed, {} changed, {} restarted as dependents, {} unchanged",
               pending.plan.added.size(), pending.plan.removed.size(), pending.plan.changed.size(),
               pending.plan.restarted.size(), pending.plan.unchanged.size());
  pending_switch_ = std::move(pending);
  drain();
  return true;
}

void Supervisor::apply_pending_switch() {
  if (!pending_switch_) return;
  auto& plan = pending_switch_->plan;
  if (std::any_of(plan.to_stop.begin(), plan.to_stop.end(), [&](std::size_t i) { return has_process(i); })) return;

  PendingSwitch pending = std::move(*pending_switch_);
  pending_switch_.reset();

  std::unordered_set<std::size_t> replaced(pending.plan.to_stop.begin(), pending.plan.to_stop.end());
  std::unordered_map<std::string, std::size_t> kept;  // name -> current index, for untouched instances
  for (std::size_t index = 0; index < instances_.size(); ++index) {
    if (replaced.contains(index)) {
      scheduler_.cancel(instances_[index].slot);  // e.g. a backoff that was under way
    } else {
      kept.emplace(instances_[index].spec.name, index);
    }
  }

  std::vector<Instance> old = std::move(instances_);
  instances_.clear();
  instances_.reserve(pending.next.instances.size());
  std::unordered_set<std::string> start_again(pending.wanted_before.begin(), pending.wanted_before.end());
  std::vector<std::size_t> to_start;
  std::unordered_set<std::string> added(pending.plan.added.begin(), pending.plan.added.end());
  for (const auto& spec : pending.next.instances) {
    if (auto found = kept.find(spec.name); found != kept.end()) {
      Instance instance = std::move(old[found->second]);
      instance.spec = spec;  // same behaviour; description and autostart may have changed
      instance.queued = false;
      instances_.push_back(std::move(instance));
    } else {
      instances_.push_back(make_instance(spec));
      if (start_again.contains(spec.name) || (added.contains(spec.name) && spec.autostart))
        to_start.push_back(instances_.size() - 1);
    }
  }

  graph_ = config::DependencyGraph(pending.next);
  by_pid_.clear();
  by_slot_.clear();
  queue_.clear();
  for (std::size_t index = 0; index < instances_.size(); ++index) {
    auto& instance = instances_[index];
    by_slot_[instance.slot] = index;
    if (auto pid = instance.machine.pid()) by_pid_[*pid] = index;
    enqueue(index);
  }
  for (auto index : graph_.with_dependencies(to_start)) {
    instances_[index].wanted_up = true;
    instances_[index].machine.start_requested();
  }
  if (pending.done) pending.done(pending.plan);
}

}  // namespace nixpm::daemon
