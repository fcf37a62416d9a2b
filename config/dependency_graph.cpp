#include "config/dependency_graph.hpp"

#include <algorithm>
#include <limits>

#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

using Adjacency = std::vector<std::vector<std::size_t>>;
constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

struct Frame {
  std::size_t node;
  std::size_t next_edge;
};

// First declaration wins, so a duplicated name still resolves the same way everywhere.
std::unordered_map<std::string, std::size_t> index_names(const Definitions& definitions) {
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < definitions.instances.size(); ++i)
    index.emplace(definitions.instances[i].name, i);
  return index;
}

// Edges point from an instance to the instances it depends on; unknown names are skipped and a
// dependency named twice gives one edge.
Adjacency dependency_edges(const Definitions& definitions,
                           const std::unordered_map<std::string, std::size_t>& index) {
  const std::size_t n = definitions.instances.size();
  Adjacency edges(n);
  std::vector<std::size_t> last_added_by(n, kNone);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& dependency : definitions.instances[i].dependencies) {
      auto it = index.find(dependency.name);
      if (it == index.end() || last_added_by[it->second] == i) continue;
      last_added_by[it->second] = i;
      edges[i].push_back(it->second);
    }
  }
  return edges;
}

// Tarjan's algorithm with an explicit stack; returns the component id of every node.
std::vector<std::size_t> strongly_connected_components(const Adjacency& edges) {
  const std::size_t n = edges.size();
  std::vector<std::size_t> order(n, kNone), low(n, 0), component(n, kNone);
  std::vector<bool> on_stack(n, false);
  std::vector<std::size_t> open;
  std::vector<Frame> frames;
  std::size_t counter = 0;
  std::size_t components = 0;

  auto enter = [&](std::size_t v) {
    order[v] = low[v] = counter++;
    open.push_back(v);
    on_stack[v] = true;
    frames.push_back({v, 0});
  };

  for (std::size_t root = 0; root < n; ++root) {
    if (order[root] != kNone) continue;
    enter(root);
    while (!frames.empty()) {
      const std::size_t v = frames.back().node;
      if (frames.back().next_edge < edges[v].size()) {
        const std::size_t w = edges[v][frames.back().next_edge++];
        if (order[w] == kNone) {
          enter(w);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], order[w]);
        }
        continue;
      }
      if (low[v] == order[v]) {
        std::size_t w = kNone;
        do {
          w = open.back();
          open.pop_back();
          on_stack[w] = false;
          component[w] = components;
        } while (w != v);
        ++components;
      }
      frames.pop_back();
      if (!frames.empty()) {
        const std::size_t parent = frames.back().node;
        low[parent] = std::min(low[parent], low[v]);
      }
    }
  }
  return component;
}

// A shortest cycle through `start` that stays inside its component, as node indices ending in
// `start` again; empty if there is none (a single node without a self-edge).
std::vector<std::size_t> cycle_through(std::size_t start, const Adjacency& edges,
                                       const std::vector<std::size_t>& component,
                                       std::vector<std::size_t>& parent) {
  std::vector<std::size_t> queue{start};
  std::vector<std::size_t> touched{start};
  parent[start] = start;
  std::size_t last = kNone;
  for (std::size_t head = 0; head < queue.size() && last == kNone; ++head) {
    const std::size_t u = queue[head];
    for (std::size_t w : edges[u]) {
      if (w == start) {
        last = u;
        break;
      }
      if (component[w] != component[start] || parent[w] != kNone) continue;
      parent[w] = u;
      touched.push_back(w);
      queue.push_back(w);
    }
  }
  std::vector<std::size_t> path;
  if (last != kNone) {
    for (std::size_t v = last; v != start; v = parent[v]) path.push_back(v);
    path.push_back(start);
    std::reverse(path.begin(), path.end());
    path.push_back(start);
  }
  for (std::size_t v : touched) parent[v] = kNone;  // keeps the scratch array reusable in O(touched)
  return path;
}

// Visits everything reachable from `roots` along `edges` and lists it in post-order, so every node
// comes after all the nodes it points to.
std::vector<std::size_t> post_order(const Adjacency& edges, const std::vector<std::size_t>& roots) {
  std::vector<std::size_t> out;
  std::vector<bool> seen(edges.size(), false);
  std::vector<Frame> frames;
  for (std::size_t root : roots) {
    if (root >= edges.size() || seen[root]) continue;
    seen[root] = true;
    frames.push_back({root, 0});
    while (!frames.empty()) {
      Frame& top = frames.back();
      if (top.next_edge < edges[top.node].size()) {
        const std::size_t w = edges[top.node][top.next_edge++];
        if (!seen[w]) {
          seen[w] = true;
          frames.push_back({w, 0});
        }
        continue;
      }
      out.push_back(top.node);
      frames.pop_back();
    }
  }
  return out;
}

}  // namespace

Diagnostics validate_dependencies(const Definitions& definitions) {
  Diagnostics diagnostics;
  const auto& instances = definitions.instances;
  const auto index = index_names(definitions);

  std::vector<std::string> names;
  names.reserve(instances.size());
  for (const auto& instance : instances) names.push_back(instance.name);

  for (std::size_t i = 0; i < instances.size(); ++i) {
    if (index.at(instances[i].name) != i)
      diagnostics.push_back({instances[i].position, "instance '" + instances[i].name + "' is defined twice"});
    for (const auto& dependency : instances[i].dependencies) {
      if (index.contains(dependency.name)) continue;
      diagnostics.push_back({dependency.position, "unknown dependency '" + dependency.name +
                                                      "' of instance '" + instances[i].name + "'" +
                                                      did_you_mean(dependency.name, names)});
    }
  }

  // One report per strongly connected component: naming every elementary cycle could take
  // exponential time, and breaking one cycle of a tangle is what the user does next anyway.
  const Adjacency edges = dependency_edges(definitions, index);
  const std::vector<std::size_t> component = strongly_connected_components(edges);
  std::vector<bool> reported(instances.size(), false);
  std::vector<std::size_t> parent(instances.size(), kNone);
  for (std::size_t i = 0; i < instances.size(); ++i) {
    // Scanning in declaration order makes i the first-declared member of its component.
    if (reported[component[i]]) continue;
    reported[component[i]] = true;
    const auto cycle = cycle_through(i, edges, component, parent);
    if (cycle.empty()) continue;
    std::string text;
    for (std::size_t v : cycle) text += (text.empty() ? "" : " -> ") + instances[v].name;
    diagnostics.push_back({instances[i].position, "dependency cycle: " + text});
  }
  return diagnostics;
}

DependencyGraph::DependencyGraph(const Definitions& definitions)
    : index_(index_names(definitions)), dependencies_(dependency_edges(definitions, index_)) {
  names_.reserve(definitions.instances.size());
  for (const auto& instance : definitions.instances) names_.push_back(instance.name);
  dependents_.resize(names_.size());
  for (std::size_t i = 0; i < dependencies_.size(); ++i)
    for (std::size_t d : dependencies_[i]) dependents_[d].push_back(i);
}

std::optional<std::size_t> DependencyGraph::index_of(std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::vector<std::size_t>> DependencyGraph::start_levels() const {
  // Kahn's algorithm; a node's level is one more than its deepest dependency's.
  const std::size_t n = size();
  std::vector<std::size_t> waiting_for(n), level(n, 0), ready;
  for (std::size_t i = 0; i < n; ++i) {
    waiting_for[i] = dependencies_[i].size();
    if (waiting_for[i] == 0) ready.push_back(i);
  }
  std::size_t depth = 0;
  for (std::size_t head = 0; head < ready.size(); ++head) {
    const std::size_t v = ready[head];
    depth = std::max(depth, level[v] + 1);
    for (std::size_t w : dependents_[v]) {
      level[w] = std::max(level[w], level[v] + 1);
      if (--waiting_for[w] == 0) ready.push_back(w);
    }
  }
  std::vector<std::vector<std::size_t>> levels(depth);
  // Nodes on a cycle never become ready; the precondition excludes them, so they are just left out.
  for (std::size_t i = 0; i < n; ++i)
    if (waiting_for[i] == 0) levels[level[i]].push_back(i);
  return levels;
}

std::vector<std::size_t> DependencyGraph::with_dependencies(const std::vector<std::size_t>& roots) const {
  return post_order(dependencies_, roots);
}

std::vector<std::size_t> DependencyGraph::with_dependents(const std::vector<std::size_t>& roots) const {
  return post_order(dependents_, roots);
}

}  // namespace nixpm::config
