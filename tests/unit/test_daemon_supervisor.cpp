// The supervisor's propagation (order of starts and stops, restarts, waits on dependencies), driven
// through the fake spawner and the fake clock.

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

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

TEST_CASE("a crashed process is restarted; its dependents stop and come back once it is ready", "[supervisor]") {
  Fixture f({spec("webapp"), spec("nginx", {"webapp"})});
  f.supervisor.start_autostart();
  const auto old_pid = f.pid("webapp");
  const auto nginx_pid = f.pid("nginx");
  f.scheduler.advance(30s);
  f.supervisor.child_exited(old_pid, SIGKILL);
  CHECK(f.state("webapp") == InstanceState::running);
  CHECK(f.pid("webapp") != old_pid);
  CHECK(f.supervisor.snapshot(f.index("webapp")).restarts == 1);
  CHECK(f.supervisor.snapshot(f.index("webapp")).last_exit == "killed by SIGKILL");
  // nginx needs webapp: it was asked to stop, and is still wanted up.
  CHECK(f.state("nginx") == InstanceState::stopping);
  CHECK(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{nginx_pid, SIGTERM}});
  CHECK(f.supervisor.wanted_up(f.index("nginx")));
  f.exit_signalled();
  CHECK(f.state("nginx") == InstanceState::running);
  CHECK(f.pid("nginx") != nginx_pid);
  CHECK(f.supervisor.snapshot(f.index("nginx")).restarts == 0);  // not a failure of nginx's own
}

TEST_CASE("a dependency going down takes a chain down dependents first", "[supervisor]") {
  Fixture f({spec("a"), spec("b", {"a"}), spec("c", {"b"})});
  f.supervisor.start_autostart();
  const auto b_pid = f.pid("b");
  const auto c_pid = f.pid("c");
  f.scheduler.advance(30s);
  f.supervisor.child_exited(f.pid("a"), SIGKILL);
  // c goes first; b waits for c to be gone before it is signalled.
  CHECK(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{c_pid, SIGTERM}});
  CHECK(f.state("b") == InstanceState::running);
  f.exit_signalled();
  CHECK(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{b_pid, SIGTERM}});
  f.exit_signalled();
  CHECK(f.state("b") == InstanceState::running);
  CHECK(f.state("c") == InstanceState::running);
}

TEST_CASE("dependents of a dependency that gave up stay down, still wanted, until it is started again", "[supervisor]") {
  auto db = spec("db");
  db.supervision.restart = nixpm::config::RestartPolicy::never;
  Fixture f({db, spec("app", {"db"})});
  f.supervisor.start_autostart();
  f.supervisor.child_exited(f.pid("db"), 1 << 8);
  CHECK(f.state("db") == InstanceState::failed);
  CHECK(f.supervisor.snapshot(f.index("app")).waiting_for == std::vector<std::string>{"db"});
  f.exit_signalled();
  CHECK(f.state("app") == InstanceState::stopped);
  CHECK(f.supervisor.wanted_up(f.index("app")));
  CHECK(f.supervisor.snapshot(f.index("app")).waiting_for == std::vector<std::string>{"db"});
  CHECK(f.supervisor.snapshot(f.index("db")).waiting_for.empty());
  f.supervisor.start({f.index("db")});
  CHECK(f.state("db") == InstanceState::running);
  CHECK(f.state("app") == InstanceState::running);
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
  f.prober.pass(f.prober.probing.begin()->first);
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

TEST_CASE("a forking daemon: the launcher runs, the pid file names the daemon, which is supervised", "[supervisor]") {
  const auto pid_file = std::filesystem::temp_directory_path() / ("nixpm-unit-" + std::to_string(getpid()) + ".pid");
  auto forking = spec("forking");
  forking.kind = nixpm::config::ProcessKind::daemon;
  forking.pid_file = pid_file.string();
  forking.supervision.readiness.kind = nixpm::config::ReadinessKind::pid_file;
  Fixture f({forking, spec("app", {"forking"})});
  nixpm::testing::FakeProcessWatch watch;
  f.supervisor.set_process_watch(&watch);
  { std::ofstream(pid_file) << "stale\n"; }
  f.supervisor.start_autostart();
  CHECK_FALSE(std::filesystem::exists(pid_file));  // a stale pid file is removed before the launch
  const auto launcher = f.pid("forking");
  CHECK(f.state("forking") == InstanceState::starting);
  CHECK(f.prober.probing.empty());
  f.supervisor.child_exited(launcher, 0);
  CHECK(f.state("forking") == InstanceState::starting);
  REQUIRE(f.prober.probing.size() == 1);
  CHECK(f.prober.probing.begin()->second == nixpm::config::ReadinessKind::pid_file);
  CHECK(f.prober.targets.begin()->second.pid_file == pid_file.string());
  { std::ofstream(pid_file) << "4242\n"; }
  f.prober.pass(f.prober.probing.begin()->first);
  CHECK(f.state("forking") == InstanceState::running);
  CHECK(f.pid("forking") == 4242);
  CHECK(watch.watched == std::set<pid_t>{4242});
  CHECK(f.state("app") == InstanceState::running);
  // Its death, seen by the watch without a status, is a crash like any other.
  f.scheduler.advance(30s);
  const auto app_pid = f.pid("app");
  watch.vanish(4242);
  CHECK(f.supervisor.snapshot(f.index("forking")).last_exit == "gone (not our child: exit status unknown)");
  CHECK(f.state("forking") == InstanceState::starting);  // launched again
  CHECK(f.pid("forking") != launcher);
  CHECK(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{app_pid, SIGTERM}});
  std::filesystem::remove(pid_file);
}

TEST_CASE("a forking daemon is stopped through the pid its pid file named", "[supervisor]") {
  const auto pid_file = std::filesystem::temp_directory_path() / ("nixpm-unit-stop-" + std::to_string(getpid()) + ".pid");
  auto forking = spec("forking");
  forking.kind = nixpm::config::ProcessKind::daemon;
  forking.pid_file = pid_file.string();
  forking.supervision.readiness.kind = nixpm::config::ReadinessKind::pid_file;
  Fixture f({forking});
  nixpm::testing::FakeProcessWatch watch;
  f.supervisor.set_process_watch(&watch);
  f.supervisor.start_autostart();
  f.supervisor.child_exited(f.pid("forking"), 0);
  { std::ofstream(pid_file) << "5151\n"; }
  f.prober.pass(f.prober.probing.begin()->first);
  f.supervisor.stop({f.index("forking")});
  CHECK(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{5151, SIGTERM}});
  f.exit_signalled();  // the reaper reports it (re-parented to the subreaper)
  CHECK(f.state("forking") == InstanceState::stopped);
  CHECK(watch.watched.empty());
  std::filesystem::remove(pid_file);
}

TEST_CASE("a notify instance gets its own NOTIFY_SOCKET, bound before the spawn", "[supervisor]") {
  auto notify = spec("notify");
  notify.supervision.readiness.kind = nixpm::config::ReadinessKind::notify;
  Fixture f({notify, spec("app", {"notify"})});
  f.supervisor.start_autostart();
  CHECK(f.state("notify") == InstanceState::starting);
  REQUIRE(f.prober.prepared.size() == 1);
  const auto socket = f.prober.prepared.begin()->second;
  CHECK(socket == std::filesystem::path("/state/run/notify/notify"));
  const auto& environment = f.spawner.requests.at(0).environment;
  CHECK(std::find(environment.begin(), environment.end(), "NOTIFY_SOCKET=" + socket.string()) != environment.end());
  CHECK(f.state("app") == InstanceState::stopped);
  f.prober.pass(f.prober.probing.begin()->first);
  CHECK(f.state("app") == InstanceState::running);
}

TEST_CASE("a notify socket that cannot be bound fails the start with the reason", "[supervisor]") {
  auto notify = spec("notify");
  notify.supervision.readiness.kind = nixpm::config::ReadinessKind::notify;
  Fixture f({notify});
  f.prober.prepare_error = "notify socket path too long: /x";
  f.supervisor.start_autostart();
  CHECK(f.state("notify") == InstanceState::failed);
  CHECK(f.supervisor.snapshot(f.index("notify")).error == "notify socket path too long: /x");
  CHECK(f.spawner.requests.empty());
}

TEST_CASE("a liveness check runs only while the instance runs; its failure restarts the instance", "[supervisor]") {
  auto web = spec("web");
  web.supervision.liveness = nixpm::config::LivenessCheck{{"/bin/check"}, 5, 1};
  Fixture f({web});
  f.supervisor.start_autostart();
  const std::size_t slot = 0;  // the first instance's timer slot
  CHECK(f.prober.liveness == std::set<std::size_t>{slot});
  const auto old_pid = f.pid("web");
  f.scheduler.advance(30s);
  f.prober.fail_liveness(slot, "liveness check failed: exited 1");
  CHECK(f.spawner.signals == std::vector<std::pair<pid_t, int>>{{old_pid, SIGKILL}});
  f.exit_signalled();
  CHECK(f.state("web") == InstanceState::running);
  CHECK(f.pid("web") != old_pid);
  CHECK(f.supervisor.snapshot(f.index("web")).last_exit == "killed by SIGKILL (liveness check failed: exited 1)");
  CHECK(f.prober.liveness == std::set<std::size_t>{slot});  // checking the new process
  f.supervisor.stop({f.index("web")});
  CHECK(f.prober.liveness.empty());
}

TEST_CASE("containment: escaped processes get the stop signal; leftovers die with the instance", "[supervisor]") {
  Fixture f({spec("web")});
  nixpm::testing::FakeContainment containment;
  f.supervisor.set_containment(&containment);
  f.supervisor.start_autostart();
  CHECK(f.spawner.requests.at(0).cgroup == std::filesystem::path("/cgroup/web"));
  f.supervisor.stop({f.index("web")});
  CHECK(containment.escaped_signals == std::vector<std::pair<std::string, int>>{{"web", SIGTERM}});
  f.exit_signalled();
  CHECK(containment.leftovers_killed == std::vector<std::string>{"web"});
}

TEST_CASE("exits of pids no instance owns go to the prober (check commands)", "[supervisor]") {
  Fixture f({spec("web")});
  f.supervisor.child_exited(31337, 0);
  CHECK(f.prober.exits == std::vector<pid_t>{31337});
}

TEST_CASE("starting a dependent does not re-run a oneshot dependency that is done", "[supervisor]") {
  auto setup = spec("setup");
  setup.supervision.type = nixpm::config::ProcessType::oneshot;
  auto app = spec("app", {"setup"});
  app.autostart = false;
  Fixture f({setup, app});
  f.supervisor.start_autostart();
  f.supervisor.child_exited(f.pid("setup"), 0);
  CHECK(f.state("setup") == InstanceState::done);
  f.supervisor.start({f.index("app")});
  CHECK(f.state("app") == InstanceState::running);
  CHECK(f.spawner.requests.size() == 2);
  f.supervisor.start({f.index("setup")});  // named itself: it runs again
  CHECK(f.spawner.requests.size() == 3);
}

TEST_CASE("with a user, initialize runs as root and nixpmd --run-as drops privileges before the program",
          "[supervisor]") {
  auto web = nixpm::testing::make_spec("web", {}, "--serve");
  web.initialize = "mkdir -p /srv/web";
  web.user = "root";  // resolvable everywhere; what matters is where the identity is applied
  FakeSpawner spawner;
  FakeScheduler scheduler;
  nixpm::testing::FakeOutput output;
  nixpm::testing::FakeProber prober;
  Supervisor supervisor{spawner, scheduler, output, prober, {"/state", true, "/run", "/usr/bin/nixpmd"}, {}};
  Definitions definitions;
  definitions.instances = {web};
  supervisor.set_definitions(std::move(definitions));
  supervisor.start_autostart();
  REQUIRE(spawner.requests.size() == 1);
  const auto& request = spawner.requests[0];
  CHECK_FALSE(request.identity);  // the shell (and so initialize) stays root
  CHECK(request.executable == "/bin/sh");
  REQUIRE(request.arguments.size() == 8);
  CHECK(request.arguments[0] == "-ec");
  CHECK(request.arguments[1] == "mkdir -p /srv/web\nexec \"$0\" \"$@\"");
  CHECK(request.arguments[2] == "/usr/bin/nixpmd");
  CHECK(request.arguments[3] == "--run-as");
  CHECK(request.arguments[4].starts_with("0:0:"));  // root's uid, gid, then its groups
  CHECK(request.arguments[5] == "--");
  CHECK(request.arguments[6] == "/bin/web");
  CHECK(request.arguments[7] == "--serve");
}
