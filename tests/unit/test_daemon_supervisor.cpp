// The supervisor's propagation (order of starts and stops, restarts, waits on dependencies), driven
// through the fake spawner and the fake clock.

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>

#include "daemon/supervisor.hpp"
#include "support/fakes.hpp"

using nixpm::InstanceState;
using nixpm::config::Definitions;
using nixpm::config::InstanceSpec;
using nixpm::daemon::Supervisor;
using nixpm::testing::FakeScheduler;
using nixpm::testing::FakeSpawner;
using namespace std::chrono_literals;

namespace {

InstanceSpec spec(const std::string& name, const std::vector<std::string>& dependencies = {}) {
  return nixpm::testing::make_spec(name, dependencies);
}

struct Fixture {
  FakeSpawner spawner;
  FakeScheduler scheduler;
  nixpm::testing::FakeOutput output;
  nixpm::testing::FakeProber prober;
  Supervisor supervisor{spawner, scheduler, output, prober, {"/state"}, {"PATH=/usr/bin", "HOME=/home/u"}};
  int changes = 0;

  explicit Fixture(std::vector<InstanceSpec> specs) {
    Definitions definitions;
    definitions.instances = std::move(specs);
    supervisor.set_definitions(std::move(definitions));
    supervisor.set_change_listener([this] { ++changes; });
  }
  std::size_t index(const std::string& name) { return *supervisor.index_of(name); }
  InstanceState state(const std::string& name) { return supervisor.state(index(name)); }
  pid_t pid(const std::string& name) { return *supervisor.snapshot(index(name)).pid; }
  std::vector<std::string> spawned() {
    std::vector<std::string> names;
    for (auto& r : spawner.requests) names.push_back(r.executable.substr(5));
    return names;
  }
  // Acts like the kernel: every signalled process exits.
  void exit_signalled() {
    auto signals = std::move(spawner.signals);
    spawner.signals.clear();
    for (auto [pid, signal] : signals) supervisor.child_exited(pid, signal);
  }
};

}  // namespace

TEST_CASE("dependencies start first; independent instances start together", "[supervisor]") {
  Fixture f({spec("nginx", {"webapp1", "webapp2"}), spec("webapp1"), spec("webapp2")});
  f.supervisor.start_autostart();
  // With readiness "started", each dependency is ready the moment it runs, so one pass starts all.
  CHECK(f.spawned() == std::vector<std::string>{"webapp1", "webapp2", "nginx"});
  CHECK(f.state("nginx") == InstanceState::running);
}

TEST_CASE("a dependent waits while a dependency cannot start", "[supervisor]") {
  Fixture f({spec("app", {"db"}), spec("db")});
  f.spawner.failures["/bin/db"] = "exec /bin/db: No such file or directory";
  f.supervisor.start_autostart();
  CHECK(f.state("db") == InstanceState::failed);
  CHECK(f.state("app") == InstanceState::stopped);
  CHECK(f.supervisor.wanted_up(f.index("app")));
  CHECK(f.supervisor.snapshot(f.index("db")).error == "exec /bin/db: No such file or directory");
}

TEST_CASE("start of one instance starts its dependencies and nothing else", "[supervisor]") {
  Fixture f({spec("a"), spec("b", {"a"}), spec("c", {"b"}), spec("other")});
  f.supervisor.start({f.index("b")});
  CHECK(f.spawned() == std::vector<std::string>{"a", "b"});
  CHECK(f.state("c") == InstanceState::stopped);
  CHECK(f.state("other") == InstanceState::stopped);
}

TEST_CASE("stop takes dependents down first and waits for them to exit", "[supervisor]") {
  Fixture f({spec("webapp"), spec("nginx", {"webapp"})});
  f.supervisor.start_autostart();
  const auto nginx_pid = f.pid("nginx");
  f.supervisor.stop({f.index("webapp")});
  // Only nginx is signalled; webapp waits until nginx is gone.
  REQUIRE(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{nginx_pid, SIGTERM}});
  CHECK(f.state("nginx") == InstanceState::stopping);
  CHECK(f.state("webapp") == InstanceState::running);
  const auto webapp_pid = f.pid("webapp");
  f.exit_signalled();
  CHECK(f.state("nginx") == InstanceState::stopped);
  REQUIRE(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{webapp_pid, SIGTERM}});
  f.exit_signalled();
  CHECK(f.state("webapp") == InstanceState::stopped);
  CHECK(f.supervisor.all_down());
}

TEST_CASE("a process that ignores the stop signal is killed after the grace period", "[supervisor]") {
  auto stubborn = spec("stubborn");
  stubborn.supervision.stop_timeout_seconds = 3;
  stubborn.supervision.stop_signal = SIGQUIT;
  Fixture f({stubborn});
  f.supervisor.start_autostart();
  const auto pid = f.pid("stubborn");
  f.supervisor.stop_all();
  CHECK(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{pid, SIGQUIT}});
  f.scheduler.advance(2s);
  CHECK(f.spawner.signals.size() == 1);
  f.scheduler.advance(1s);
  CHECK(f.spawner.signals.back() == std::pair<pid_t, int>{pid, SIGKILL});
  f.supervisor.child_exited(pid, SIGKILL);
  CHECK(f.state("stubborn") == InstanceState::stopped);
}

TEST_CASE("a crashed process is restarted with a new pid; its dependents keep running", "[supervisor]") {
  Fixture f({spec("webapp"), spec("nginx", {"webapp"})});
  f.supervisor.start_autostart();
  const auto old_pid = f.pid("webapp");
  const auto nginx_pid = f.pid("nginx");
  f.scheduler.advance(30s);
  f.supervisor.child_exited(old_pid, SIGKILL);
  CHECK(f.state("webapp") == InstanceState::running);
  CHECK(f.pid("webapp") != old_pid);
  CHECK(f.pid("nginx") == nginx_pid);
  CHECK(f.supervisor.snapshot(f.index("webapp")).restarts == 1);
  CHECK(f.supervisor.snapshot(f.index("webapp")).last_exit == "killed by SIGKILL");
}

TEST_CASE("a crash loop backs off on the clock and ends failed", "[supervisor]") {
  auto crashing = spec("crashing");
  crashing.supervision.restart_limit = 3;
  crashing.supervision.restart_delay_seconds = 1;
  Fixture f({crashing});
  f.supervisor.start_autostart();
  f.supervisor.child_exited(f.pid("crashing"), 1 << 8);  // 1st: immediate
  CHECK(f.spawner.requests.size() == 2);
  f.supervisor.child_exited(f.pid("crashing"), 1 << 8);  // 2nd: 1 s
  CHECK(f.state("crashing") == InstanceState::backoff);
  CHECK(f.scheduler.remaining(f.index("crashing")) == 1s);
  f.scheduler.advance(999ms);
  CHECK(f.spawner.requests.size() == 2);
  f.scheduler.advance(1ms);
  CHECK(f.spawner.requests.size() == 3);
  f.supervisor.child_exited(f.pid("crashing"), 1 << 8);  // 3rd: 2 s
  f.scheduler.advance(2s);
  f.supervisor.child_exited(f.pid("crashing"), 1 << 8);  // 4th: over the limit
  CHECK(f.state("crashing") == InstanceState::failed);
  CHECK(f.spawner.requests.size() == 4);
  CHECK_FALSE(f.scheduler.armed(f.index("crashing")));
}

TEST_CASE("restart stops dependents first, then starts everything again", "[supervisor]") {
  Fixture f({spec("db"), spec("app", {"db"}), spec("idle", {"db"})});
  f.supervisor.start({f.index("app")});
  const auto db_pid = f.pid("db");
  f.supervisor.restart({f.index("db")});
  CHECK(f.state("app") == InstanceState::stopping);
  CHECK(f.state("db") == InstanceState::running);
  f.exit_signalled();  // app exits, then db is signalled
  f.exit_signalled();  // db exits
  CHECK(f.state("db") == InstanceState::running);
  CHECK(f.state("app") == InstanceState::running);
  CHECK(f.pid("db") != db_pid);
  CHECK(f.state("idle") == InstanceState::stopped);  // was not running, stays so
}

TEST_CASE("restart of a stopped instance starts it", "[supervisor]") {
  Fixture f({spec("a")});
  f.supervisor.restart({f.index("a")});
  CHECK(f.state("a") == InstanceState::running);
}

TEST_CASE("start clears a failure", "[supervisor]") {
  Fixture f({spec("a")});
  f.spawner.failures["/bin/a"] = "exec: nope";
  f.supervisor.start_autostart();
  CHECK(f.state("a") == InstanceState::failed);
  f.spawner.failures.clear();
  f.supervisor.start({f.index("a")});
  CHECK(f.state("a") == InstanceState::running);
}

TEST_CASE("instances with autostart off wait for an explicit start", "[supervisor]") {
  auto manual = spec("manual");
  manual.autostart = false;
  Fixture f({spec("auto"), manual});
  f.supervisor.start_autostart();
  CHECK(f.state("auto") == InstanceState::running);
  CHECK(f.state("manual") == InstanceState::stopped);
}

TEST_CASE("spawn requests carry the environment, directory and output", "[supervisor]") {
  auto web = spec("web");
  web.arguments = {"-p", "80"};
  web.environment = {{"PORT", "80"}, {"HOME", "/srv"}};
  Fixture f({web});
  f.supervisor.start_autostart();
  REQUIRE(f.spawner.requests.size() == 1);
  const auto& request = f.spawner.requests[0];
  CHECK(request.arguments == std::vector<std::string>{"-p", "80"});
  CHECK(request.directory == "/state");
  CHECK(f.output.instances == std::vector<std::string>{"web"});
  auto env = request.environment;
  std::sort(env.begin(), env.end());
  CHECK(env == std::vector<std::string>{"HOME=/srv", "PATH=/usr/bin", "PORT=80"});
}

TEST_CASE("a long chain starts and stops without recursion", "[supervisor]") {
  std::vector<InstanceSpec> specs;
  specs.push_back(spec("n0"));
  for (int i = 1; i < 5000; ++i) specs.push_back(spec("n" + std::to_string(i), {"n" + std::to_string(i - 1)}));
  Fixture f(std::move(specs));
  f.supervisor.start_autostart();
  CHECK(f.spawner.requests.size() == 5000);
  CHECK(f.spawned().front() == "n0");
  CHECK(f.spawned().back() == "n4999");
  f.supervisor.stop_all();
  while (!f.spawner.signals.empty()) f.exit_signalled();
  CHECK(f.supervisor.all_down());
}

TEST_CASE("the change listener hears once per settled batch", "[supervisor]") {
  Fixture f({spec("a"), spec("b", {"a"})});
  f.supervisor.start_autostart();
  CHECK(f.changes == 1);
}

TEST_CASE("path goes in front of PATH; initialize runs in the same process before the program", "[supervisor]") {
  auto web = spec("web");
  web.path = {"/opt/web/bin", "/opt/web/sbin"};
  web.arguments = {"--port", "80"};
  web.initialize = "mkdir -p /state/web";
  web.umask = 027;
  web.nice = 5;
  web.user = "www-data";
  Fixture f({web});
  f.supervisor.start_autostart();
  REQUIRE(f.spawner.requests.size() == 1);
  const auto& request = f.spawner.requests[0];
  CHECK(std::find(request.environment.begin(), request.environment.end(), "PATH=/opt/web/bin:/opt/web/sbin:/usr/bin") !=
        request.environment.end());
  CHECK(request.executable == "/bin/sh");
  CHECK(request.arguments ==
        std::vector<std::string>{"-ec", "mkdir -p /state/web\nexec \"$0\" \"$@\"", "/bin/web", "--port", "80"});
  CHECK(request.umask == 027);
  CHECK(request.nice == 5);
  CHECK_FALSE(request.identity.has_value());  // user changes are off unless a root daemon allows them
}

TEST_CASE("a clean exit under on-failure is final: no respawn", "[supervisor]") {
  Fixture f({spec("job")});
  f.supervisor.start_autostart();
  f.supervisor.child_exited(f.pid("job"), 0);
  CHECK(f.state("job") == InstanceState::stopped);
  CHECK_FALSE(f.supervisor.wanted_up(f.index("job")));
  CHECK(f.spawner.requests.size() == 1);
}

TEST_CASE("dependents wait for a readiness check; the probe stops when the instance does", "[supervisor]") {
  auto db = spec("db");
  db.supervision.readiness.kind = nixpm::config::ReadinessKind::tcp;
  Fixture f({db, spec("app", {"db"})});
  f.supervisor.start_autostart();
  CHECK(f.state("db") == InstanceState::starting);
  CHECK(f.state("app") == InstanceState::stopped);
  REQUIRE(f.prober.probing.size() == 1);
  f.prober.pass(*f.prober.probing.begin());
  CHECK(f.state("db") == InstanceState::running);
  CHECK(f.state("app") == InstanceState::running);

  f.supervisor.restart({f.index("db")});
  f.exit_signalled();  // app
  f.exit_signalled();  // db; it starts again and is probed again
  CHECK(f.state("db") == InstanceState::starting);
  REQUIRE(f.prober.probing.size() == 1);
  f.supervisor.stop({f.index("db")});
  CHECK(f.prober.probing.empty());
}

TEST_CASE("an unsupported readiness kind falls back to started", "[supervisor]") {
  auto notify = spec("notify");
  notify.supervision.readiness.kind = nixpm::config::ReadinessKind::notify;
  Fixture f({notify});
  f.supervisor.start_autostart();
  CHECK(f.state("notify") == InstanceState::running);
}

TEST_CASE("a forking daemon is refused visibly rather than left unsupervised", "[supervisor]") {
  auto forking = spec("forking");
  forking.kind = nixpm::config::ProcessKind::daemon;
  Fixture f({forking});
  f.supervisor.start_autostart();
  CHECK(f.state("forking") == InstanceState::failed);
  CHECK(f.supervisor.snapshot(f.index("forking")).error.find("not supported by nixpmd yet") != std::string::npos);
  CHECK(f.spawner.requests.empty());
}
