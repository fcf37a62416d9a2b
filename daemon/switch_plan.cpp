#include "switch_plan.hpp"

#include <unordered_map>
#include <unordered_set>

namespace nixpm::daemon {

SwitchPlan plan_switch(const std::vector<const config::InstanceSpec*>& current,
                       const config::DependencyGraph& current_graph, const config::Definitions& next) {
  SwitchPlan plan;
  std::unordered_map<std::string_view, const config::InstanceSpec*> next_by_name;
  for (const auto& spec : next.instances) next_by_name.emplace(spec.name, &spec);

  std::vector<std::size_t> roots;  // changed or removed, in the current indexing
  std::unordered_set<std::size_t> changed_or_removed;
  for (std::size_t index = 0; index < current.size(); ++index) {
    const auto found = next_by_name.find(current[index]->name);
    if (found == next_by_name.end()) {
      plan.removed.push_back(current[index]->name);
    } else if (!current[index]->same_behaviour(*found->second)) {
      plan.changed.push_back(current[index]->name);
    } else {
      continue;
    }
    roots.push_back(index);
    changed_or_removed.insert(index);
  }
  plan.to_stop = current_graph.with_dependents(roots);
  std::unordered_set<std::string_view> restarted;
  for (auto index : plan.to_stop) {
    if (!changed_or_removed.contains(index)) {
      plan.restarted.push_back(current[index]->name);
      restarted.insert(current[index]->name);
    }
  }

  std::unordered_set<std::string_view> current_names;
  for (const auto* spec : current) current_names.insert(spec->name);
  for (const auto& spec : next.instances) {
    if (!current_names.contains(spec.name)) {
      plan.added.push_back(spec.name);
    } else if (!restarted.contains(spec.name) && current_graph.index_of(spec.name) &&
               !changed_or_removed.contains(*current_graph.index_of(spec.name))) {
      plan.unchanged.push_back(spec.name);
    }
  }
  return plan;
}

}  // namespace nixpm::daemon
