// The runit adapter: service directories whose run scripts order the start through sv, golden files, the
// loss report and overrides.runit.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

using namespace nixpm;
using managers::Loss;

namespace {

const managers::ManagerAdapter& runit() {
  return *managers::find_manager("runit");
}

managers::Generated generate(std::string_view yaml, managers::Scope scope = managers::Scope::system) {
  return testing::generate_yaml("runit", yaml, scope);
}

using testing::contains;

}  // namespace

TEST_CASE("golden: runit") {
  testing::check_golden(
      runit().generate(testing::load_golden_fixture(testing::full_fixture()), testing::golden_options()),
      "runit", "full");
  testing::check_golden(
      runit().generate(testing::load_golden_fixture(testing::webapps_fixture()), testing::golden_options()),
      "runit", "webapps");
}

TEST_CASE("runit: a plain process is exec'd by ./run, logged by svlogd, in dependency order") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    args: ["--port", "80", "it's"]
    dependencies: [db]
  db:
    process: /usr/bin/db
)");
  CHECK(generated.start_order == std::vector<std::string>{"db", "web"});
  const auto run = testing::generated_content(generated, "web/run");
  CHECK(run.starts_with("#!/bin/sh\n"));
  CHECK(contains(run, "exec 2>&1\n"));
  CHECK(contains(run, "sv -w 60 start ../db || exit 1\n"));
  CHECK(contains(run, "cd /var || exit 1\n"));
  CHECK(contains(run, "exec /usr/bin/web --port 80 'it'\\''s'\n"));
  CHECK(testing::find_generated(generated, "web/run")->mode == 0755);
  CHECK_FALSE(contains(testing::generated_content(generated, "db/run"), "sv -w"));
  CHECK(contains(testing::generated_content(generated, "web/log/run"), "exec svlogd -tt /var/log/web\n"));
  // on-failure (the default): a clean exit is final.
  CHECK(contains(testing::generated_content(generated, "web/finish"), "case \"$1\" in 0) exec sv down . ;; esac"));
  CHECK(testing::find_generated(generated, "web/check") == nullptr);
  CHECK(testing::find_generated(generated, "web/down") == nullptr);
  constexpr std::string_view kRestart =
      "restart: emulated: runsv restarts by itself; ./finish runs sv down after a success or with never";
  CHECK(testing::loss_notes(generated.losses) ==
        std::vector<std::string>{
            "web: dependencies: emulated: ./run starts them with sv -w start and waits for their "
            "./check; runit does not order stops",
            "web: " + std::string(kRestart), "db: " + std::string(kRestart)});
  // Nothing to carry when runsv's own behaviour is nixpm's.
  const auto always = generate(R"(
instances:
  web: { process: /usr/bin/web, restart: always }
)");
  CHECK(testing::find_generated(always, "web/finish") == nullptr);
  CHECK(always.losses.empty());
}

TEST_CASE("runit: environment, path, umask, nice, user and initialize go through ./run and chpst") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    environment: { PORT: 80, "odd.name": "x y" }
    path: [/opt/web]
    umask: "027"
    nice: 5
    user: www
    initialize: "mkdir -p /var/lib/web"
)");
  const auto run = testing::generated_content(generated, "web/run");
  CHECK(contains(run, "umask 027\n"));
  CHECK(contains(run, "export PORT=80\n"));
  CHECK(contains(run, "export PATH=/opt/web/bin:/opt/web/sbin:\"${PATH:-/usr/local/bin:/usr/bin:/bin}\"\n"));
  // initialize runs as root (as nixpmd runs it), in the process that then becomes the program as www.
  CHECK(contains(run,
                 "exec chpst -n 5 /bin/sh -ec 'mkdir -p /var/lib/web\nexec \"$0\" \"$@\"' chpst -u www "
                 "env 'odd.name=x y' /usr/bin/web\n"));
  const auto plain = generate(R"(
instances:
  web: { process: /usr/bin/web, nice: 5, user: www }
)");
  CHECK(contains(testing::generated_content(plain, "web/run"), "exec chpst -n 5 -u www /usr/bin/web\n"));
  // In the user scope nothing switches users (and the report says so).
  const auto user = generate(R"(
instances:
  web: { process: /usr/bin/web, user: www, restart: always }
)",
                             managers::Scope::user);
  CHECK(contains(testing::generated_content(user, "web/run"), "exec /usr/bin/web\n"));
  CHECK(testing::loss_notes(user.losses) ==
        std::vector<std::string>{
            "web: user: lost: user scope: everything runs as the user who runs the manager"});
}

TEST_CASE("runit: restart policies, success codes and the restart delay live in ./finish") {
  const auto generated = generate(R"(
instances:
  once: { process: /bin/true, restart: never }
  failing: { process: /bin/false, successExitCodes: [0, 3], restartDelay: 2.5 }
  always: { process: /bin/sleep, args: ["1"], restart: always }
)");
  CHECK(contains(testing::generated_content(generated, "once/finish"), "exec sv down .  # restart: never\n"));
  const auto finish = testing::generated_content(generated, "failing/finish");
  CHECK(contains(finish, "case \"$1\" in 0|3) exec sv down . ;; esac"));
  CHECK(contains(finish, "sleep 2.5\n"));
  CHECK(testing::find_generated(generated, "always/finish") == nullptr);
}

TEST_CASE("runit: readiness becomes ./check, which the dependents' sv start waits for") {
  const auto generated = generate(R"(
instances:
  tcp: { process: /usr/bin/web, readiness: { tcp: 8080 }, startTimeout: 7.5 }
  cmd: { process: /usr/bin/web, readiness: { command: [/bin/check, "a b"] } }
  pid: { process: /usr/bin/web, pidFile: /run/pid.pid, readiness: pidFile }
  daemon: { daemon: /usr/sbin/food, args: ["-d"] }
  user: { process: /usr/bin/user, dependencies: [tcp, cmd, pid, daemon] }
)");
  CHECK(contains(testing::generated_content(generated, "tcp/check"),
                 "/bin/bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' 127.0.0.1 8080 2>/dev/null\n"));
  CHECK(contains(testing::generated_content(generated, "cmd/check"), "/bin/check 'a b' >/dev/null 2>&1\n"));
  CHECK(contains(testing::generated_content(generated, "pid/check"),
                 "pid=$(cat /run/pid.pid 2>/dev/null) && [ -n \"$pid\" ] && kill -0"));
  CHECK(contains(testing::generated_content(generated, "daemon/check"), "cat /var/run/daemon.pid"));
  // The longest start timeout of the dependencies, in whole seconds.
  CHECK(
      contains(testing::generated_content(generated, "user/run"), "sv -w 60 start ../tcp ../cmd ../pid ../daemon || exit 1\n"));
  const auto losses = generate(R"(
instances:
  n: { process: /usr/bin/n, readiness: notify, restart: always }
)")
                          .losses;
  CHECK(testing::loss_notes(losses) ==
        std::vector<std::string>{
            "n: readiness.notify: lost: runit has no notification socket; ready once started"});
}

TEST_CASE("runit: a forking daemon is kept in the foreground by ./run, tracked by its pid file") {
  const auto generated = generate(R"(
instances:
  food: { daemon: /usr/sbin/food, args: ["-d"], pidFile: /run/food.pid, stopSignal: QUIT, restart: always }
)");
  const auto run = testing::generated_content(generated, "food/run");
  CHECK(contains(run, "rm -f /run/food.pid\n(cd /var && exec /usr/sbin/food -d) || exit $?\n"));
  CHECK(contains(run, "trap 'stopping=1; kill -s QUIT \"$pid\"' TERM INT QUIT\n"));
  CHECK(contains(testing::generated_content(generated, "food/control/t"), "kill -s QUIT \"$(cat supervise/pid)\"\n"));
  CHECK(testing::loss_notes(generated.losses) ==
        std::vector<std::string>{"food: daemon: emulated: ./run starts it and stays in the foreground while "
                                 "its pid file's process lives",
                                 "food: stopSignal: emulated: control/t sends it instead of TERM"});
}

TEST_CASE("runit: a oneshot runs once, then stays up with a done marker that ./check looks for") {
  const auto generated = generate(R"(
instances:
  setup: { type: oneshot, process: /bin/setup, successExitCodes: [0, 2], autostart: false }
)");
  const auto run = testing::generated_content(generated, "setup/run");
  CHECK(contains(run,
                 "/bin/setup\nstatus=$?\ncase $status in 0|2) ;; *) exit \"$status\" ;; esac\n: > "
                 "/var/run/setup.done\n"));
  CHECK(contains(run, "exec sleep infinity\n"));
  CHECK(contains(testing::generated_content(generated, "setup/check"), "test -e /var/run/setup.done\n"));
  CHECK(contains(testing::generated_content(generated, "setup/finish"), "rm -f /var/run/setup.done\n"));
  CHECK(testing::find_generated(generated, "setup/down") != nullptr);
}

TEST_CASE("runit: overrides.runit adds, replaces and removes files of the service directory") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    overrides:
      runit: { down: true, "log/run": "#!/bin/sh\nexec cat\n", "control/u": "#!/bin/sh\necho up\n", check: false, conf: 3 }
)");
  CHECK(testing::generated_content(generated, "web/down").empty());
  CHECK(testing::generated_content(generated, "web/log/run") == "#!/bin/sh\nexec cat\n");
  CHECK(testing::find_generated(generated, "web/control/u")->mode == 0755);
  CHECK(testing::generated_content(generated, "web/conf") == "3\n");
  CHECK(testing::find_generated(generated, "web/conf")->mode == 0644);

  for (std::string_view bad : {R"(../x: "y")", R"(/etc/x: "y")", R"(".": "y")"}) {
    const std::string yaml =
        "instances:\n  web:\n    process: /usr/bin/web\n    overrides:\n      runit: { " + std::string(bad) +
        " }\n";
    CHECK_THROWS_WITH(generate(yaml), Catch::Contains("is not a file path inside the service directory"));
  }
  CHECK_THROWS_WITH(generate(R"(
instances:
  web: { process: /usr/bin/web, overrides: { runit: { run: [a] } } }
)"),
                    Catch::Contains("overrides.runit.run must be the file's content"));
  CHECK_THROWS_WITH(generate(R"(
instances:
  web: { process: /usr/bin/web, overrides: { runit: [a] } }
)"),
                    Catch::Contains("overrides.runit must be a map"));
}
