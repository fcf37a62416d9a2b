// The sysvinit adapter: LSB headers, start-stop-daemon options, runlevel links, losses.

#include <catch2/catch.hpp>

#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

namespace nixpm::managers {
namespace {

using testing::definitions_from_yaml;
using testing::generated_file;
using testing::has_line;
using testing::loss_lines;

Generated sysvinit(const config::Definitions& definitions, Scope scope = Scope::system) {
  return find_manager("sysvinit")->generate(definitions, testing::golden_options(scope));
}

std::vector<std::string> links(const Generated& generated) {
  std::vector<std::string> found;
  for (const auto& file : generated.files)
    if (!file.link_target.empty())
      found.push_back(file.path.generic_string() + " -> " + file.link_target.generic_string());
  return found;
}

TEST_CASE("sysvinit: an LSB script that backgrounds a foreground process with start-stop-daemon") {
  const auto generated = sysvinit(definitions_from_yaml(R"(
instances:
  db: { process: /usr/bin/db }
  web:
    description: Web server
    process: /usr/bin/web
    args: ["--name", "two words"]
    dependencies: [db]
    environment: { A: "it's" }
    path: [/opt/web]
    directory: /srv/web
    umask: "027"
    nice: 5
    user: web
    credentials: { users: { web: { group: www, uid: 5 } } }
    stopSignal: QUIT
    stopTimeout: 4
    restart: never
)"));
  const auto& script = generated_file(generated, "init.d/web");
  CHECK(script.mode == 0755);
  const auto& text = script.content;
  INFO(text);
  CHECK(text.starts_with("#!/bin/sh\n### BEGIN INIT INFO\n"));
  CHECK(has_line(text, "# Provides:          web"));
  CHECK(has_line(text, "# Required-Start:    $remote_fs db"));
  CHECK(has_line(text, "# Default-Start:     2 3 4 5"));
  CHECK(has_line(text, "# Default-Stop:      0 1 6"));
  CHECK(has_line(text, "# Short-Description: Web server"));
  CHECK(has_line(text, "export A='it'\\''s'"));
  CHECK(has_line(text, "PATH=/opt/web/bin:/opt/web/sbin:$PATH"));
  CHECK(has_line(
      text, "\tgetent passwd web >/dev/null || useradd --system --uid 5 --gid www --no-create-home web"));
  CHECK(has_line(
      text,
      "\tstart-stop-daemon --start --quiet --background --make-pidfile --pidfile \"$PIDFILE\" --output "
      "\"$LOGFILE\" --chdir /srv/web --umask 027 --nicelevel 5 --chuid web:www --startas /usr/bin/web -- "
      "--name 'two words' || return 1"));
  CHECK(has_line(text,
                 "\tstart-stop-daemon --stop --quiet --oknodo --retry=QUIT/4/KILL/5 --pidfile \"$PIDFILE\" "
                 "--remove-pidfile"));
  CHECK(has_line(text, "PIDFILE=/var/run/web.pid"));
  CHECK(has_line(text, "LOGFILE=/var/log/web.log"));
  CHECK(loss_lines(generated) ==
        std::vector<std::string>{"db: foregroundProcess: emulated", "db: restart: lost",
                                 "web: foregroundProcess: emulated", "web: credentials: emulated"});
}

TEST_CASE("sysvinit: S numbers grow and K numbers shrink with the dependency depth") {
  const auto generated = sysvinit(definitions_from_yaml(R"(
instances:
  top: { process: /bin/t, dependencies: [mid], overrides: { sysvinit: { runlevels: [3, 5] } } }
  mid: { process: /bin/m, dependencies: [base] }
  base: { process: /bin/b }
  manual: { process: /bin/x, autostart: false }
)"));
  const auto all = links(generated);
  const auto has = [&](const std::string& link) {
    return std::find(all.begin(), all.end(), link) != all.end();
  };
  CHECK(has("rc2.d/S01base -> ../init.d/base"));
  CHECK(has("rc2.d/S02mid -> ../init.d/mid"));
  CHECK(has("rc3.d/S03top -> ../init.d/top"));
  CHECK(has("rc2.d/K01top -> ../init.d/top"));  // not started in runlevel 2
  CHECK(has("rc0.d/K01top -> ../init.d/top"));
  CHECK(has("rc0.d/K02mid -> ../init.d/mid"));
  CHECK(has("rc0.d/K03base -> ../init.d/base"));
  CHECK(has("rc3.d/K03manual -> ../init.d/manual"));
  CHECK_FALSE(has("rc3.d/S01manual -> ../init.d/manual"));
  CHECK(has_line(generated_file(generated, "init.d/top").content, "# Default-Start:     3 5"));
  CHECK(has_line(generated_file(generated, "init.d/top").content, "# Default-Stop:      0 1 2 4 6"));
  CHECK(has_line(generated_file(generated, "init.d/manual").content, "# Default-Start:     "));
  CHECK(generated.start_order == std::vector<std::string>{"base", "manual", "mid", "top"});
}

TEST_CASE("sysvinit: daemons, oneshots and readiness waits") {
  const auto generated = sysvinit(definitions_from_yaml(R"(
instances:
  d: { daemon: /usr/sbin/d, args: [-x], restart: never }
  once: { process: /bin/once, type: oneshot, successExitCodes: [0, 3], restart: never }
  t: { process: /bin/t, readiness: { tcp: 81 }, startTimeout: 2, restart: never }
  n: { process: /bin/n, readiness: notify, restart: never }
)"));
  const auto& daemon = generated_file(generated, "init.d/d").content;
  CHECK(has_line(
      daemon,
      "\tstart-stop-daemon --start --quiet --pidfile \"$PIDFILE\" --chdir /var --startas /usr/sbin/d -- -x "
      ">>\"$LOGFILE\" 2>&1 </dev/null || return 1"));
  CHECK(has_line(daemon, "\tuntil start-stop-daemon --status --pidfile \"$PIDFILE\"; do"));
  const auto& once = generated_file(generated, "init.d/once").content;
  CHECK(has_line(once, "DONEFILE=/var/run/once.done"));
  CHECK(has_line(once, "\t\t0|3) touch \"$DONEFILE\" ;;"));
  const auto& tcp = generated_file(generated, "init.d/t").content;
  CHECK(has_line(tcp, "\tuntil bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' 127.0.0.1 81 2>/dev/null; do"));
  CHECK(has_line(tcp, "\t\tif [ \"$tries\" -gt 20 ]; then"));
  CHECK(generated_file(generated, "init.d/n").content.find("--notify-await --notify-timeout 60") !=
        std::string::npos);
  CHECK(loss_lines(generated) ==
        std::vector<std::string>{"once: oneshot: emulated", "t: foregroundProcess: emulated",
                                 "t: readiness.tcp: emulated", "n: foregroundProcess: emulated"});
}

TEST_CASE("sysvinit: variables sh cannot export reach the process through env") {
  const auto generated = sysvinit(definitions_from_yaml(R"(
instances:
  a: { process: /bin/a, environment: { "my-var": "x y", OK: 1 }, restart: never }
)"));
  const auto& text = generated_file(generated, "init.d/a").content;
  CHECK(has_line(text, "export OK=1"));
  CHECK(text.find("export my-var") == std::string::npos);
  CHECK(text.find("\t/usr/bin/env 'my-var=x y' start-stop-daemon --start ") != std::string::npos);
}

TEST_CASE("sysvinit: unknown overrides and bad runlevels are refused") {
  CHECK_THROWS_WITH(
      sysvinit(definitions_from_yaml("instances: { a: { process: /bin/a, overrides: { sysvinit: { "
                                     "runlevel: [3] } } } }")),
      "instance 'a': unknown setting overrides.sysvinit.runlevel (sysvinit takes: runlevels)");
  CHECK_THROWS_WITH(
      sysvinit(definitions_from_yaml("instances: { a: { process: /bin/a, overrides: { sysvinit: { "
                                     "runlevels: [9] } } } }")),
      "instance 'a': overrides.sysvinit.runlevels must be a list of runlevels 0 to 6, not 9");
}

}  // namespace
}  // namespace nixpm::managers
