// The supervisord adapter: program sections, wrappers where its syntax or model falls short, losses.

#include <catch2/catch.hpp>

#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

namespace nixpm::managers {
namespace {

using testing::definitions_from_yaml;
using testing::generated_file;
using testing::has_line;
using testing::loss_lines;

Generated supervisord(const config::Definitions& definitions, Scope scope = Scope::system) {
  return find_manager("supervisord")->generate(definitions, testing::golden_options(scope));
}

TEST_CASE("supervisord: a plain program is one native section") {
  const auto generated = supervisord(definitions_from_yaml(R"(
instances:
  db: { process: /usr/bin/db }
  web:
    process: /usr/bin/web
    args: ["--name", "two words", "100%"]
    dependencies: [db]
    environment: { A: "x, y", B: 1 }
    path: [/opt/web]
    directory: /srv/web
    umask: "027"
    user: web
    restart: always
    stopSignal: QUIT
    stopTimeout: 4
    successExitCodes: [0, 2]
    stableAfter: 3
    restartLimit: 7
)"));
  const auto& conf = generated_file(generated, "conf.d/web.conf").content;
  INFO(conf);
  CHECK(has_line(conf, "[program:web]"));
  CHECK(has_line(conf, "command=/usr/bin/web --name 'two words' 100%%"));
  CHECK(has_line(conf, "priority=110"));
  CHECK(has_line(generated_file(generated, "conf.d/db.conf").content, "priority=100"));
  CHECK(has_line(conf, "autostart=true"));
  CHECK(has_line(conf, "autorestart=true"));
  CHECK(has_line(conf, "exitcodes=0,2"));
  CHECK(has_line(conf, "startsecs=3"));
  CHECK(has_line(conf, "startretries=7"));
  CHECK(has_line(conf, "stopsignal=QUIT"));
  CHECK(has_line(conf, "stopwaitsecs=4"));
  CHECK(has_line(conf, "stopasgroup=true"));
  CHECK(has_line(conf, "directory=/srv/web"));
  CHECK(has_line(conf, "umask=027"));
  CHECK(has_line(conf, "user=web"));
  CHECK(has_line(conf, "environment=A=\"x, y\",B=\"1\",PATH=\"/opt/web/bin:/opt/web/sbin:%(ENV_PATH)s\""));
  CHECK(has_line(conf, "stdout_logfile=/var/log/web.log"));
  CHECK(has_line(conf, "redirect_stderr=true"));
  CHECK(generated.files.size() == 3);  // supervisord.conf and two sections: no wrapper needed
  CHECK(loss_lines(generated) == std::vector<std::string>{"web: dependencies: emulated",
                                                          "web: stableAfter: emulated",
                                                          "web: restartLimit: emulated"});
}

TEST_CASE("supervisord: supervisord.conf runs the sections with its own socket under the state dir") {
  const auto generated = supervisord(definitions_from_yaml("instances: { a: { process: /bin/a } }"));
  const auto& conf = generated_file(generated, "supervisord.conf").content;
  CHECK(has_line(conf, "file=/var/run/supervisord.sock"));
  CHECK(has_line(conf, "serverurl=unix:///var/run/supervisord.sock"));
  CHECK(has_line(conf, "logfile=/var/log/supervisord.log"));
  CHECK(has_line(conf, "files=conf.d/*.conf"));
}

TEST_CASE("supervisord: files, initialize, nice and unquotable values go through a wrapper that execs") {
  const auto generated = supervisord(definitions_from_yaml(R"(
instances:
  a:
    process: /bin/a
    args: ["line one\nline two"]
    nice: 4
    environment: { Q: "say \"hi\"", PLAIN: ok }
    initialize: "echo init"
    files: { "etc/a.conf": "x\n" }
)"));
  const auto& conf = generated_file(generated, "conf.d/a.conf").content;
  CHECK(has_line(conf, "command=\"%(here)s/nixpm/a.sh\""));
  CHECK(has_line(conf, "environment=PLAIN=\"ok\""));
  const auto& wrapper = generated_file(generated, "conf.d/nixpm/a.sh");
  CHECK(wrapper.mode == 0755);
  CHECK(has_line(wrapper.content, "export Q='say \"hi\"'"));
  CHECK(has_line(wrapper.content, "printf '%s' 'x"));
  CHECK(has_line(wrapper.content, "echo init"));
  CHECK(has_line(wrapper.content, "exec /usr/bin/nice -n 4 /bin/a 'line one"));
  CHECK(loss_lines(generated) ==
        std::vector<std::string>{"a: nice: emulated", "a: initialize: emulated", "a: files: emulated"});
}

TEST_CASE("supervisord: a forking daemon is followed through its pid file") {
  const auto generated = supervisord(definitions_from_yaml(R"(
instances:
  d: { daemon: /usr/sbin/d, stopSignal: QUIT, startTimeout: 5 }
)"));
  const auto& wrapper = generated_file(generated, "conf.d/nixpm/d.sh").content;
  CHECK(has_line(wrapper, "pidfile=/var/run/d.pid"));
  CHECK(has_line(wrapper, "/usr/sbin/d"));
  CHECK(has_line(wrapper, "  if [ \"$tries\" -gt 50 ]; then"));
  CHECK(has_line(wrapper, "trap 'stopping=1; kill -QUIT \"$pid\" 2>/dev/null || true' QUIT"));
  CHECK(loss_lines(generated) == std::vector<std::string>{"d: daemon: emulated", "d: startTimeout: lost"});
}

TEST_CASE("supervisord: oneshots, readiness and the user scope") {
  const auto generated = supervisord(definitions_from_yaml(R"(
instances:
  once: { process: /bin/once, type: oneshot, restart: always }
  r: { process: /bin/r, readiness: { tcp: 80 }, user: nobody, autostart: false, restart: never }
)"),
                                     Scope::user);
  const auto& once = generated_file(generated, "conf.d/once.conf").content;
  CHECK(has_line(once, "startsecs=0"));
  CHECK(has_line(once, "autorestart=unexpected"));
  const auto& r = generated_file(generated, "conf.d/r.conf").content;
  CHECK(has_line(r, "autostart=false"));
  CHECK(has_line(r, "autorestart=false"));
  CHECK(r.find("user=") == std::string::npos);
  CHECK(loss_lines(generated) ==
        std::vector<std::string>{"once: oneshot: emulated", "r: user: lost", "r: readiness.tcp: lost"});
}

TEST_CASE("supervisord: overrides.supervisord sets and removes program keys") {
  const auto generated = supervisord(definitions_from_yaml(R"(
instances:
  a: { process: /bin/a, overrides: { supervisord: { startretries: 10, stopasgroup: ~, priority: 5 } } }
)"));
  const auto& conf = generated_file(generated, "conf.d/a.conf").content;
  CHECK(has_line(conf, "startretries=10"));
  CHECK(has_line(conf, "priority=5"));
  CHECK(conf.find("stopasgroup") == std::string::npos);
}

}  // namespace
}  // namespace nixpm::managers
