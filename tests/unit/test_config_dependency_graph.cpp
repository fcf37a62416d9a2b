#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "config/dependency_graph.hpp"

using namespace nixpm::config;

namespace {

// Instance i is declared at line i+1, column 3; its k-th dependency is named at column 20+k.
Definitions make(const std::vector<std::pair<std::string, std::vector<std::string>>>& graph) {
  Definitions definitions;
  definitions.source = "graph.yaml";
  int line = 1;
  for (const auto& [name, dependencies] : graph) {
    InstanceSpec spec;
    spec.name = name;
    spec.position = {"graph.yaml", line, 3};
    int column = 20;
    for (const auto& dependency : dependencies)
      spec.dependencies.push_back({dependency, {"graph.yaml", line, column++}});
    definitions.instances.push_back(std::move(spec));
    ++line;
  }
  return definitions;
}

std::vector<std::string> messages(const Diagnostics& diagnostics) {
  std::vector<std::string> lines;
  for (const auto& diagnostic : diagnostics) lines.push_back(diagnostic.to_string());
  return lines;
}

std::vector<std::string> names(const DependencyGraph& graph, const std::vector<std::size_t>& indices) {
  std::vector<std::string> result;
  for (auto i : indices) result.push_back(graph.name(i));
  return result;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("a sound graph validates cleanly") {
  CHECK(validate_dependencies(make({})).empty());
  CHECK(validate_dependencies(make({{"a", {}}, {"b", {"a"}}, {"c", {"a", "b"}}})).empty());
  // Naming a dependency twice is harmless.
  CHECK(validate_dependencies(make({{"a", {}}, {"b", {"a", "a"}}})).empty());
}

TEST_CASE("unknown dependencies are reported where they are named, with a suggestion") {
  auto definitions = make({{"webapp1", {}}, {"webapp2", {}}, {"nginx", {"webapp1", "webap2", "database"}}});
  CHECK(
      messages(validate_dependencies(definitions)) ==
      Names{
          "graph.yaml:3:21: error: unknown dependency 'webap2' of instance 'nginx' (did you mean 'webapp2'?)",
          "graph.yaml:3:22: error: unknown dependency 'database' of instance 'nginx'"});
}

TEST_CASE("a cycle is reported once, naming its path from the first-declared instance") {
  auto definitions = make({{"x", {}}, {"a", {"b"}}, {"b", {"c"}}, {"c", {"a", "x"}}});
  CHECK(messages(validate_dependencies(definitions)) ==
        Names{"graph.yaml:2:3: error: dependency cycle: a -> b -> c -> a"});

  // Declaration order decides where the cycle starts, not the order the edges are found in.
  definitions = make({{"c", {"a"}}, {"b", {"c"}}, {"a", {"b"}}});
  CHECK(messages(validate_dependencies(definitions)) ==
        Names{"graph.yaml:1:3: error: dependency cycle: c -> a -> b -> c"});
}

TEST_CASE("a self-dependency is a cycle") {
  auto definitions = make({{"a", {"a"}}, {"b", {"a"}}});
  CHECK(messages(validate_dependencies(definitions)) ==
        Names{"graph.yaml:1:3: error: dependency cycle: a -> a"});
}

TEST_CASE("separate cycles are each reported, along with unknown dependencies") {
  auto definitions = make({{"a", {"b"}}, {"b", {"a"}}, {"c", {"d", "ghost"}}, {"d", {"c"}}, {"e", {"e"}}});
  CHECK(messages(validate_dependencies(definitions)) ==
        Names{"graph.yaml:3:21: error: unknown dependency 'ghost' of instance 'c'",
              "graph.yaml:1:3: error: dependency cycle: a -> b -> a",
              "graph.yaml:3:3: error: dependency cycle: c -> d -> c",
              "graph.yaml:5:3: error: dependency cycle: e -> e"});
}

TEST_CASE("a tangle of cycles is reported once, by a shortest cycle") {
  // a -> b -> a and a -> b -> c -> a share nodes: one report for the whole tangle.
  auto definitions = make({{"a", {"b"}}, {"b", {"c", "a"}}, {"c", {"a"}}});
  CHECK(messages(validate_dependencies(definitions)) ==
        Names{"graph.yaml:1:3: error: dependency cycle: a -> b -> a"});
}

TEST_CASE("duplicate instance names are reported") {
  auto definitions = make({{"a", {}}, {"a", {}}});
  CHECK(messages(validate_dependencies(definitions)) ==
        Names{"graph.yaml:2:3: error: instance 'a' is defined twice"});
}

TEST_CASE("graph structure") {
  const DependencyGraph graph(
      make({{"db", {}}, {"cache", {}}, {"app", {"db", "cache", "db"}}, {"web", {"app"}}}));
  REQUIRE(graph.size() == 4);
  CHECK(graph.name(2) == "app");
  CHECK(graph.index_of("web") == std::optional<std::size_t>(3));
  CHECK_FALSE(graph.index_of("nope").has_value());
  CHECK(graph.dependencies(2) == std::vector<std::size_t>{0, 1});
  CHECK(graph.dependents(0) == std::vector<std::size_t>{2});
  CHECK(graph.dependents(3).empty());
}

TEST_CASE("start levels group instances that can start together, in declaration order") {
  const DependencyGraph graph(make({{"web", {"app1", "app2"}},
                                    {"app1", {"db"}},
                                    {"db", {}},
                                    {"app2", {"db", "cache"}},
                                    {"cache", {}},
                                    {"lonely", {}},
                                    {"report", {"db", "web"}}}));
  std::vector<Names> levels;
  for (const auto& level : graph.start_levels()) levels.push_back(names(graph, level));
  CHECK(levels == std::vector<Names>{{"db", "cache", "lonely"}, {"app1", "app2"}, {"web"}, {"report"}});
}

TEST_CASE("start levels of an empty graph") {
  CHECK(DependencyGraph(make({})).start_levels().empty());
}

TEST_CASE("with_dependencies lists dependencies before dependents, each once") {
  const DependencyGraph graph(
      make({{"db", {}}, {"cache", {}}, {"app", {"db", "cache"}}, {"web", {"app", "db"}}, {"other", {}}}));
  CHECK(names(graph, graph.with_dependencies({3})) == Names{"db", "cache", "app", "web"});
  CHECK(names(graph, graph.with_dependencies({1, 4})) == Names{"cache", "other"});
  CHECK(names(graph, graph.with_dependencies({3, 2, 3})) == Names{"db", "cache", "app", "web"});
  CHECK(graph.with_dependencies({}).empty());
}

TEST_CASE("with_dependents lists dependents before what they depend on, each once") {
  const DependencyGraph graph(
      make({{"db", {}}, {"cache", {}}, {"app", {"db", "cache"}}, {"web", {"app", "db"}}, {"other", {}}}));
  CHECK(names(graph, graph.with_dependents({0})) == Names{"web", "app", "db"});
  CHECK(names(graph, graph.with_dependents({1})) == Names{"web", "app", "cache"});
  CHECK(names(graph, graph.with_dependents({3})) == Names{"web"});
  CHECK(names(graph, graph.with_dependents({4, 1})) == Names{"other", "web", "app", "cache"});
}

TEST_CASE("a 10,000-instance chain is handled without recursion") {
  constexpr int kLength = 10000;
  std::vector<std::pair<std::string, std::vector<std::string>>> chain;
  for (int i = 0; i < kLength; ++i)
    chain.push_back({"p" + std::to_string(i), i == 0
                                                  ? std::vector<std::string>{}
                                                  : std::vector<std::string>{"p" + std::to_string(i - 1)}});
  auto definitions = make(chain);
  CHECK(validate_dependencies(definitions).empty());

  const DependencyGraph graph(definitions);
  CHECK(graph.start_levels().size() == kLength);
  const auto up = graph.with_dependencies({kLength - 1});
  REQUIRE(up.size() == kLength);
  CHECK(up.front() == 0);
  CHECK(up.back() == kLength - 1);
  const auto down = graph.with_dependents({0});
  REQUIRE(down.size() == kLength);
  CHECK(down.front() == kLength - 1);
  CHECK(down.back() == 0);

  // Closing the chain into one long cycle.
  definitions.instances.front().dependencies.push_back({"p9999", {"graph.yaml", 1, 30}});
  auto diagnostics = validate_dependencies(definitions);
  REQUIRE(diagnostics.size() == 1);
  CHECK(diagnostics[0].message.starts_with("dependency cycle: p0 -> p9999 -> p9998 -> "));
  CHECK(diagnostics[0].message.ends_with(" -> p1 -> p0"));
}
