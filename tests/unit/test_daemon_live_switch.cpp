// The live switch: what the plan decides, and how the supervisor carries it out (pids of untouched
// instances stay, changed ones restart after their dependents stopped, removed ones go, new ones start).

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>

#include "daemon/supervisor.hpp"
#include "daemon/switch_plan.hpp"
#include "support/fakes.hpp"

using nixpm::InstanceState;
using nixpm::config::Definitions;
using nixpm::config::InstanceSpec;
using nixpm::daemon::SwitchPlan;
using nixpm::daemon::Supervisor;
using nixpm::testing::FakeScheduler;
using nixpm::testing::FakeSpawner;
using Names = std::vector<std::string>;

namespace {

InstanceSpec spec(const std::string& name, const std::vector<std::string>& dependencies = {},
                  const std::string& argument = "") {
  return nixpm::testing::make_spec(name, dependencies, argument);
}

Definitions definitions(std::vector<InstanceSpec> specs) {
  Definitions result;
  result.instances = std::move(specs);
  return result;
}

SwitchPlan plan(const Definitions& current, const Definitions& next) {
  std::vector<const InstanceSpec*> specs;
  for (const auto& s : current.instances) specs.push_back(&s);
  return nixpm::daemon::plan_switch(specs, nixpm::config::DependencyGraph(current), next);
}

Names sorted(Names names) {
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("the plan sorts instances into added, removed, changed, restarted and unchanged", "[switch]") {
  const auto current = definitions({spec("db"), spec("app", {"db"}), spec("cache"), spec("old"),
                                    spec("web", {"app"}), spec("lonely")});
  const auto next = definitions({spec("db", {}, "--new-flag"), spec("app", {"db"}), spec("cache"),
                                 spec("web", {"app"}), spec("lonely", {}, "x"), spec("fresh")});
  const auto p = plan(current, next);
  CHECK(p.added == Names{"fresh"});
  CHECK(p.removed == Names{"old"});
  CHECK(sorted(p.changed) == Names{"db", "lonely"});
  CHECK(sorted(p.restarted) == Names{"app", "web"});
  CHECK(p.unchanged == Names{"cache"});
  CHECK(p.to_stop.size() == 5);  // db, app, web, lonely, old
  CHECK(p.changes_anything());
}

TEST_CASE("identical definitions plan nothing", "[switch]") {
  const auto current = definitions({spec("a"), spec("b", {"a"})});
  const auto p = plan(current, current);
  CHECK(p.unchanged == Names{"a", "b"});
  CHECK(p.to_stop.empty());
  CHECK_FALSE(p.changes_anything());
}

TEST_CASE("a new dependency list counts as a change", "[switch]") {
  const auto p = plan(definitions({spec("a"), spec("b"), spec("c", {"a"})}),
                      definitions({spec("a"), spec("b"), spec("c", {"a", "b"})}));
  CHECK(p.changed == Names{"c"});
  CHECK(p.unchanged == Names{"a", "b"});
}

namespace {
struct Fixture {
  FakeSpawner spawner;
  FakeScheduler scheduler;
  nixpm::testing::FakeOutput output;
  nixpm::testing::FakeProber prober;
  Supervisor supervisor{spawner, scheduler, output, prober, {"/state"}, {}};
  std::optional<SwitchPlan> done;

  explicit Fixture(Definitions initial) {
    supervisor.set_definitions(std::move(initial));
    supervisor.start_autostart();
  }
  std::size_t index(const std::string& name) { return *supervisor.index_of(name); }
  InstanceState state(const std::string& name) { return supervisor.state(index(name)); }
  std::optional<pid_t> pid(const std::string& name) { return supervisor.snapshot(index(name)).pid; }
  void exit_signalled() {
    auto signals = std::move(spawner.signals);
    spawner.signals.clear();
    for (auto [p, signal] : signals) supervisor.child_exited(p, signal);
  }
  bool switch_to(Definitions next) {
    return supervisor.switch_to(std::move(next), [this](const SwitchPlan& p) { done = p; });
  }
};
}  // namespace

TEST_CASE("a live switch keeps untouched processes and restarts changed ones with their dependents",
          "[switch]") {
  Fixture f(definitions({spec("db"), spec("app", {"db"}), spec("cache"), spec("old")}));
  const auto cache_pid = f.pid("cache");
  const auto db_pid = f.pid("db");
  REQUIRE(f.switch_to(definitions({spec("db", {}, "-v"), spec("app", {"db"}), spec("cache"), spec("fresh")})));
  CHECK_FALSE(f.done);  // waiting for app, db and old to stop
  CHECK(f.supervisor.switch_pending());
  CHECK_FALSE(f.switch_to(definitions({})));  // one switch at a time
  f.exit_signalled();  // app and old
  f.exit_signalled();  // db
  REQUIRE(f.done);
  CHECK(f.done->added == Names{"fresh"});
  CHECK(f.done->removed == Names{"old"});
  CHECK(f.done->changed == Names{"db"});
  CHECK(f.done->restarted == Names{"app"});
  CHECK(f.done->unchanged == Names{"cache"});
  CHECK_FALSE(f.supervisor.index_of("old"));
  CHECK(f.pid("cache") == cache_pid);
  CHECK(f.state("db") == InstanceState::running);
  CHECK(f.pid("db") != db_pid);
  CHECK(f.state("app") == InstanceState::running);
  CHECK(f.state("fresh") == InstanceState::running);
  CHECK(f.spawner.requests.back().executable == "/bin/fresh");
  // The new db runs with the new arguments.
  const auto db_request = std::find_if(f.spawner.requests.rbegin(), f.spawner.requests.rend(),
                                       [](const auto& r) { return r.executable == "/bin/db"; });
  CHECK(db_request->arguments == Names{"-v"});
}

TEST_CASE("a switch that stops nothing applies at once", "[switch]") {
  Fixture f(definitions({spec("a")}));
  const auto a_pid = f.pid("a");
  REQUIRE(f.switch_to(definitions({spec("a"), spec("b", {"a"})})));
  REQUIRE(f.done);
  CHECK(f.pid("a") == a_pid);
  CHECK(f.state("b") == InstanceState::running);
}

TEST_CASE("instances that were stopped stay stopped across a switch", "[switch]") {
  Fixture f(definitions({spec("a"), spec("b")}));
  f.supervisor.stop({f.index("b")});
  f.exit_signalled();
  REQUIRE(f.switch_to(definitions({spec("a"), spec("b", {}, "changed")})));
  REQUIRE(f.done);
  CHECK(f.state("b") == InstanceState::stopped);
  CHECK_FALSE(f.supervisor.wanted_up(f.index("b")));
}

TEST_CASE("a backoff timer of a removed instance does not fire into another one", "[switch]") {
  auto crashing = spec("crashing");
  crashing.supervision.restart_delay_seconds = 5;
  Fixture f(definitions({spec("steady"), crashing}));
  for (int i = 0; i < 2; ++i) f.supervisor.child_exited(*f.pid("crashing"), 1 << 8);
  REQUIRE(f.state("crashing") == InstanceState::backoff);
  REQUIRE(f.switch_to(definitions({spec("steady")})));
  REQUIRE(f.done);
  const auto spawns = f.spawner.requests.size();
  f.scheduler.advance(std::chrono::seconds(10));
  CHECK(f.spawner.requests.size() == spawns);
  CHECK(f.state("steady") == InstanceState::running);
}
