#pragma once
// What a live switch (`nixpmctl reload`, SIGHUP) does, decided before anything is touched: which
// instances are new, removed, changed, restarted because something they depend on changed, and
// untouched. Pure, so the rules are unit-tested without processes.

#include <string>
#include <vector>

#include "config/dependency_graph.hpp"
#include "config/model.hpp"

namespace nixpm::daemon {

struct SwitchPlan {
  std::vector<std::string> added;      // only in the new definitions
  std::vector<std::string> removed;    // only in the current ones: stopped, then forgotten
  std::vector<std::string> changed;    // in both, with a different behaviour: restarted with the new one
  std::vector<std::string> restarted;  // unchanged, but depend on a changed or removed one
  std::vector<std::string> unchanged;  // left alone: same process, same pid

  // Indices (in the current definitions) that must have no process before the switch is applied:
  // the changed, removed and restarted instances.
  std::vector<std::size_t> to_stop;

  bool changes_anything() const { return !added.empty() || !removed.empty() || !changed.empty(); }
};

// `current` are the running specs, indexed as in `current_graph`.
SwitchPlan plan_switch(const std::vector<const config::InstanceSpec*>& current,
                       const config::DependencyGraph& current_graph, const config::Definitions& next);

}  // namespace nixpm::daemon
