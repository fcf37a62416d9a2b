// The bsdrc adapter: rc.subr variables, daemon(8) for foreground processes, rcorder headers, losses.

#include <catch2/catch.hpp>

#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

namespace nixpm::managers {
namespace {

using testing::definitions_from_yaml;
using testing::generated_file;
using testing::has_line;
using testing::loss_lines;

Generated bsdrc(const config::Definitions& definitions, Scope scope = Scope::system) {
  return find_manager("bsdrc")->generate(definitions, testing::golden_options(scope));
}

TEST_CASE("bsdrc: a foreground process runs under daemon(8), ordered by PROVIDE and REQUIRE") {
  const auto generated = bsdrc(definitions_from_yaml(R"(
instances:
  my-db: { process: /usr/local/bin/db, restart: never }
  web:
    description: Web server
    process: /usr/local/bin/web
    args: ["two words"]
    dependencies: [my-db]
    directory: /srv/web
    umask: "027"
    nice: 5
    user: www
    restart: always
    restartDelay: 3
)"));
  const auto& text = generated_file(generated, "rc.d/web").content;
  INFO(text);
  CHECK(has_line(text, "# PROVIDE: web"));
  CHECK(has_line(text, "# REQUIRE: LOGIN my_db"));
  CHECK(has_line(text, "# KEYWORD: shutdown"));
  CHECK(has_line(text, ". /etc/rc.subr"));
  CHECK(has_line(text, "name=web"));
  CHECK(has_line(text, "rcvar=web_enable"));
  CHECK(has_line(text, "command=/usr/sbin/daemon"));
  CHECK(has_line(text, "pidfile=/var/run/web.daemon.pid"));
  CHECK(has_line(
      text,
      "command_args=\"-P /var/run/web.daemon.pid -p /var/run/web.pid -o /var/log/web.log -r -R 3 -u www "
      "/usr/bin/nice -n 5 /usr/local/bin/web 'two words'\""));
  CHECK(has_line(text, ": \"${web_enable:=YES}\""));
  CHECK(has_line(text, ": \"${web_chdir:=/srv/web}\""));
  CHECK(has_line(text, ": \"${web_umask:=027}\""));
  CHECK(has_line(text, "run_rc_command \"$1\""));
  CHECK(has_line(generated_file(generated, "rc.d/my_db").content, "name=my_db"));
  CHECK(generated.start_order == std::vector<std::string>{"my_db", "web"});
  // restart: always is exactly daemon(8) -r.
  CHECK(loss_lines(generated) ==
        std::vector<std::string>{"my-db: foregroundProcess: emulated", "web: foregroundProcess: emulated"});
}

TEST_CASE("bsdrc: forking daemons keep rc.subr's own stop signal; daemon(8) only passes TERM") {
  const auto generated = bsdrc(definitions_from_yaml(R"(
instances:
  d: { daemon: /usr/local/sbin/d, args: [-f], stopSignal: QUIT }
  f: { process: /bin/f, stopSignal: QUIT, restart: on-failure, stopTimeout: 3 }
)"));
  const auto& daemon = generated_file(generated, "rc.d/d").content;
  CHECK(has_line(daemon, "command=/usr/local/sbin/d"));
  CHECK(has_line(daemon, "command_args=\"-f\""));
  CHECK(has_line(daemon, "pidfile=/var/run/d.pid"));
  CHECK(has_line(daemon, "sig_stop=QUIT"));
  CHECK(has_line(daemon, "start_postcmd=d_poststart"));
  CHECK(loss_lines(generated) ==
        std::vector<std::string>{"d: restart: lost", "f: foregroundProcess: emulated", "f: restart: emulated",
                                 "f: stopSignal: lost", "f: stopTimeout: lost"});
}

TEST_CASE("bsdrc: oneshots, readiness and credentials") {
  const auto generated = bsdrc(definitions_from_yaml(R"(
instances:
  once: { process: /bin/once, type: oneshot, restart: never, user: op }
  t: { process: /bin/t, readiness: { tcp: 81 }, restart: never, autostart: false,
       credentials: { groups: { g: { gid: 7 } }, users: { u: { group: g, createHomeDir: true, homeDir: /home/u } } } }
)"));
  const auto& once = generated_file(generated, "rc.d/once").content;
  CHECK(has_line(once, "start_cmd=once_start"));
  CHECK(has_line(
      once, "\t(cd /var && exec su -m op -c /bin/once) >>/var/log/once.log 2>&1 </dev/null || status=$?"));
  const auto& tcp = generated_file(generated, "rc.d/t").content;
  CHECK(has_line(tcp, "\tuntil nc -z -w 1 127.0.0.1 81 >/dev/null 2>&1; do"));
  CHECK(has_line(tcp, ": \"${t_enable:=NO}\""));
  CHECK(has_line(tcp, "\tpw groupshow g >/dev/null 2>&1 || pw groupadd g -g 7"));
  CHECK(has_line(tcp, "\tpw usershow u >/dev/null 2>&1 || pw useradd u -g g -d /home/u -m"));
  CHECK(loss_lines(generated) ==
        std::vector<std::string>{"once: oneshot: emulated", "t: foregroundProcess: emulated",
                                 "t: credentials: emulated", "t: readiness.tcp: emulated"});
}

TEST_CASE("bsdrc: variables sh cannot export go through env(1) in front of the process") {
  const auto generated = bsdrc(definitions_from_yaml(R"(
instances:
  a: { process: /bin/a, environment: { "my-var": "1", OK: 2 }, restart: never }
)"));
  const auto& text = generated_file(generated, "rc.d/a").content;
  CHECK(has_line(text, "\texport OK=2"));
  CHECK(text.find("-o /var/log/a.log /usr/bin/env my-var=1 /bin/a\"") != std::string::npos);
}

TEST_CASE("bsdrc: overrides set rc.subr variables; names that collide or are no variables are refused") {
  const auto generated = bsdrc(definitions_from_yaml(R"(
instances:
  a: { process: /bin/a, overrides: { bsdrc: { a_limits: "-n 4096", procname: ~ } } }
)"));
  const auto& text = generated_file(generated, "rc.d/a").content;
  CHECK(has_line(text, "a_limits='-n 4096'"));
  CHECK(text.find("procname=") == std::string::npos);
  CHECK_THROWS_WITH(
      bsdrc(definitions_from_yaml("instances: { a-b: { process: /bin/a }, a_b: { process: /bin/b } }")),
      "instances 'a-b' and 'a_b' would both be the rc.d script 'a_b' (rc.d names use letters, digits "
      "and _)");
  CHECK_THROWS_WITH(
      bsdrc(definitions_from_yaml("instances: { a: { process: /bin/a, overrides: { bsdrc: { a-b: 1 } } } }")),
      "instance 'a': overrides.bsdrc.a-b is not an rc.subr variable name (letters, digits and _)");
}

}  // namespace
}  // namespace nixpm::managers
