// The s6 adapter: service directories for s6-svscan whose run scripts order the start through s6-svwait,
// with readiness on notification-fd, golden files, the loss report and overrides.s6.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

using namespace nixpm;

namespace {

const managers::ManagerAdapter& s6() {
  return *managers::find_manager("s6");
}

managers::Generated generate(std::string_view yaml, managers::Scope scope = managers::Scope::system) {
  return testing::generate_yaml("s6", yaml, scope);
}

using testing::contains;

}  // namespace

TEST_CASE("golden: s6") {
  testing::check_golden(
      s6().generate(testing::load_golden_fixture(testing::full_fixture()), testing::golden_options()), "s6",
      "full");
  testing::check_golden(
      s6().generate(testing::load_golden_fixture(testing::webapps_fixture()), testing::golden_options()),
      "s6", "webapps");
}

TEST_CASE("s6: ./run waits for the dependencies with s6-svwait, -U for those that signal readiness") {
  const auto generated = generate(R"(
instances:
  db: { process: /usr/bin/db, readiness: { tcp: 5432 }, startTimeout: 5 }
  cache: { process: /usr/bin/cache, startTimeout: 2.5 }
  web: { process: /usr/bin/web, dependencies: [db, cache], nice: -5, user: www }
)");
  CHECK(generated.start_order == std::vector<std::string>{"db", "cache", "web"});
  const auto run = testing::generated_content(generated, "web/run");
  CHECK(contains(run,
                 "for dependency in ../db ../cache; do s6-svc -u \"$dependency\" || exit 1; done\n"
                 "s6-svwait -U -t 5000 ../db || exit 1\n"
                 "s6-svwait -u -t 5000 ../cache || exit 1\n"));
  // nice first (lowering it needs root), then the user.
  CHECK(contains(run, "cd /var || exit 1\nexec nice -n -5 s6-setuidgid www /usr/bin/web\n"));
  CHECK(contains(testing::generated_content(generated, "web/log/run"), "exec s6-log -b n3 s10485760 T /var/log/web\n"));
  CHECK(testing::generated_content(generated, "web/timeout-kill") == "10000\n");
  CHECK(testing::find_generated(generated, "web/notification-fd") == nullptr);
}

TEST_CASE("s6: readiness checks run under s6-notifyoncheck, which reports on notification-fd") {
  const auto generated = generate(R"(
instances:
  db:
    process: /usr/bin/db
    directory: /srv/db
    initialize: "true"
    readiness: { command: [/usr/bin/db-ping] }
    startTimeout: 5
)");
  CHECK(testing::generated_content(generated, "db/notification-fd") == "3\n");
  CHECK(contains(testing::generated_content(generated, "db/data/check"), "/usr/bin/db-ping >/dev/null 2>&1\n"));
  // The working directory is changed by the program's own shell, after s6-notifyoncheck started here.
  const auto run = testing::generated_content(generated, "db/run");
  CHECK(contains(
      run,
      "exec s6-notifyoncheck -d -3 3 -w 100 -n 0 -T 5000 /bin/sh -ec 'cd /srv/db\ntrue\nexec \"$0\" \"$@\"' "
      "/usr/bin/db\n"));
  CHECK_FALSE(contains(run, "cd /srv/db || exit 1"));
}

TEST_CASE("s6: stop signal and timeout, restart policies and the restart limit") {
  const auto generated = generate(R"(
instances:
  web: { process: /usr/bin/web, stopSignal: QUIT, stopTimeout: 2.5, restart: always, restartLimit: 3,
         stableAfter: 20, restartDelay: 5 }
  once: { process: /usr/bin/once, restart: never }
  codes: { process: /usr/bin/codes, successExitCodes: [0, 3] }
)");
  CHECK(testing::generated_content(generated, "web/down-signal") == "SIGQUIT\n");
  CHECK(testing::generated_content(generated, "web/timeout-kill") == "2500\n");
  CHECK(testing::generated_content(generated, "web/timeout-finish") == "10000\n");
  const auto finish = testing::generated_content(generated, "web/finish");
  CHECK(contains(finish, "exec s6-permafailon 75 3 1-255,SIGSEGV,SIGBUS,SIGILL,SIGFPE,SIGABRT sleep 5\n"));
  CHECK_FALSE(contains(finish, "exit 125"));
  CHECK(contains(testing::generated_content(generated, "once/finish"), "exit 125"));
  const auto codes = testing::generated_content(generated, "codes/finish");
  CHECK(contains(codes, "case \"$1\" in 0|3) exit 125 ;; esac"));
  CHECK(contains(codes, "exec s6-permafailon 55 5 1-2,4-255,SIGSEGV,SIGBUS,SIGILL,SIGFPE,SIGABRT true\n"));
  CHECK(
      testing::loss_notes(generated.losses) ==
      std::vector<std::string>{
          "web: restartDelay: emulated: sleep in ./finish (a fixed delay)",
          "web: stableAfter: emulated: part of s6-permafailon's time window in ./finish",
          "web: restartLimit: emulated: s6-permafailon in ./finish: that many failures within restartLimit x "
          "(stableAfter + restartDelay)",
          "codes: successExitCodes: emulated: ./finish treats them as a success"});
}

TEST_CASE("s6: a oneshot signals readiness once it succeeded, then stays up") {
  const auto generated = generate(R"(
instances:
  setup: { type: oneshot, process: /bin/setup, autostart: false }
)");
  const auto run = testing::generated_content(generated, "setup/run");
  CHECK(contains(run,
                 "/bin/setup 3>&-\nstatus=$?\ncase $status in 0) ;; *) exit \"$status\" ;; esac\necho >&3\n"
                 "exec 3>&-\n"));
  CHECK(contains(run, "exec sleep infinity\n"));
  CHECK(testing::generated_content(generated, "setup/notification-fd") == "3\n");
  CHECK(testing::find_generated(generated, "setup/down") != nullptr);
  CHECK(testing::find_generated(generated, "setup/data/check") == nullptr);
}

TEST_CASE("s6: a forking daemon's proxy signals readiness once the pid file names a live process") {
  const auto generated = generate(R"(
instances:
  food: { daemon: /usr/sbin/food, readiness: { tcp: 99 } }
)");
  const auto run = testing::generated_content(generated, "food/run");
  CHECK(contains(run, "(cd /var && exec /usr/sbin/food) 3>&- || exit $?\n"));
  CHECK(contains(
      run,
      "until pid=$(cat /var/run/food.pid 2>/dev/null) && [ -n \"$pid\" ] && kill -0 \"$pid\" 2>/dev/null "
      "&& ./data/check; do\n"));
  CHECK(contains(run, "echo >&3; exec 3>&-\n"));
  // The pid file is the proxy's business; data/check only tests the port.
  CHECK_FALSE(contains(testing::generated_content(generated, "food/data/check"), "food.pid"));
}

TEST_CASE("s6: overrides.s6 files replace generated ones") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    overrides: { s6: { notification-fd: 4, timeout-kill: false, "data/extra": "x" } }
)");
  CHECK(testing::generated_content(generated, "web/notification-fd") == "4\n");
  CHECK(testing::find_generated(generated, "web/timeout-kill") == nullptr);
  CHECK(testing::generated_content(generated, "web/data/extra") == "x");
}
