#pragma once
// The dependency graph of a set of instances: one pure module used by the daemon (start and stop
// order), `nixpmctl check` and the native adapters. Instances are addressed by their index in
// Definitions::instances. Every operation is linear in instances + edges.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/model.hpp"

namespace nixpm::config {

// Unknown dependencies (at the position where they are named) and cycles, each named as
// "a -> b -> c -> a". Empty when the graph is sound.
Diagnostics validate_dependencies(const Definitions& definitions);

class DependencyGraph {
 public:
  // Precondition: validate_dependencies(definitions) is empty.
  explicit DependencyGraph(const Definitions& definitions);

  std::size_t size() const { return names_.size(); }
  const std::string& name(std::size_t index) const { return names_[index]; }
  std::optional<std::size_t> index_of(std::string_view name) const;

  const std::vector<std::size_t>& dependencies(std::size_t index) const { return dependencies_[index]; }
  const std::vector<std::size_t>& dependents(std::size_t index) const { return dependents_[index]; }

  // Levels that may start in parallel: level 0 has no dependencies, level k depends only on levels < k.
  // Within a level, declaration order.
  std::vector<std::vector<std::size_t>> start_levels() const;

  // The roots and everything they depend on, transitively (each once), dependencies before dependents.
  std::vector<std::size_t> with_dependencies(const std::vector<std::size_t>& roots) const;
  // The roots and everything that depends on them, transitively (each once), dependents first.
  std::vector<std::size_t> with_dependents(const std::vector<std::size_t>& roots) const;

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::vector<std::size_t>> dependencies_;
  std::vector<std::vector<std::size_t>> dependents_;
};

}  // namespace nixpm::config
