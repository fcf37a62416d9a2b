// The systemd adapter: what each property becomes in the unit, and what is reported lost.

#include <catch2/catch.hpp>

#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

namespace nixpm::managers {
namespace {

using testing::definitions_from_yaml;
using testing::generated_file;
using testing::has_line;
using testing::loss_lines;

Generated systemd(const config::Definitions& definitions, Scope scope = Scope::system) {
  return find_manager("systemd")->generate(definitions, testing::golden_options(scope));
}

TEST_CASE("systemd: a foreground process with every execution setting") {
  const auto generated = systemd(definitions_from_yaml(R"(
instances:
  db: { process: /usr/bin/db }
  web:
    description: "The web, 100% ready"
    process: /usr/bin/web
    args: ["--greeting", "it's $HOME", "two words"]
    dependencies: [db]
    environment: { A: "x y", B: "say \"hi\"" }
    path: [/opt/web]
    directory: /srv/web
    umask: "027"
    nice: 5
    user: web
    credentials: { users: { web: { group: www } } }
    restart: always
    restartDelay: 3
    stopSignal: INT
    stopTimeout: 4
    startTimeout: 7
)"));
  const auto& unit = generated_file(generated, "web.service").content;
  INFO(unit);
  CHECK(has_line(unit, "Description=The web, 100%% ready"));
  CHECK(has_line(unit, "Wants=db.service"));
  CHECK(has_line(unit, "After=db.service"));
  CHECK(has_line(unit, "Type=simple"));
  CHECK(has_line(unit, "ExecStart=/usr/bin/web --greeting \"it's $$HOME\" \"two words\""));
  CHECK(has_line(unit, "Environment=\"A=x y\""));
  CHECK(has_line(unit, "Environment=\"B=say \\\"hi\\\"\""));
  CHECK(has_line(unit,
                 "Environment=PATH=/opt/web/bin:/opt/web/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/"
                 "bin:/sbin:/bin"));
  CHECK(has_line(unit, "User=web"));
  CHECK(has_line(unit, "Group=www"));
  CHECK(has_line(unit, "WorkingDirectory=/srv/web"));
  CHECK(has_line(unit, "UMask=0027"));
  CHECK(has_line(unit, "Nice=5"));
  CHECK(has_line(unit, "Restart=always"));
  CHECK(has_line(unit, "RestartSec=3"));
  CHECK(has_line(unit, "KillSignal=SIGINT"));
  CHECK(has_line(unit, "TimeoutStopSec=4"));
  CHECK(has_line(unit, "TimeoutStartSec=7"));
  CHECK(has_line(unit, "WantedBy=nixpm.target"));
  CHECK(generated.start_order == std::vector<std::string>{"db.service", "web.service"});
  CHECK(has_line(generated_file(generated, "nixpm.target").content, "Wants=db.service web.service"));
  // Everything above is native; a user without credentials has nothing to create.
  CHECK(loss_lines(generated).empty());
}

TEST_CASE("systemd: forking daemons, oneshots and notify get their service types") {
  const auto generated = systemd(definitions_from_yaml(R"(
instances:
  d: { daemon: /usr/sbin/d, args: [-f] }
  once: { process: /bin/prep, type: oneshot, restart: never, successExitCodes: [0, 3] }
  n: { process: /bin/n, readiness: notify, autostart: false }
)"));
  const auto& daemon = generated_file(generated, "d.service").content;
  CHECK(has_line(daemon, "Type=forking"));
  CHECK(has_line(daemon, "PIDFile=/run/d.pid"));  // systemd's own spelling of /var/run
  CHECK(has_line(daemon, "ExecStart=/usr/sbin/d -f"));
  const auto& once = generated_file(generated, "once.service").content;
  CHECK(has_line(once, "Type=oneshot"));
  CHECK(has_line(once, "RemainAfterExit=yes"));
  CHECK(has_line(once, "Restart=no"));
  CHECK(has_line(once, "SuccessExitStatus=3"));
  const auto& notify = generated_file(generated, "n.service").content;
  CHECK(has_line(notify, "Type=notify"));
  CHECK(notify.find("WantedBy=") == std::string::npos);  // autostart: false
  CHECK(has_line(generated_file(generated, "nixpm.target").content, "Wants=d.service once.service"));
  CHECK(loss_lines(generated).empty());
}

TEST_CASE("systemd: readiness checks it lacks become ExecStartPost polls and are reported emulated") {
  const auto generated = systemd(definitions_from_yaml(R"(
instances:
  t: { process: /bin/t, readiness: { tcp: { host: 127.0.0.1, port: 8080 } } }
  c: { process: /bin/c, readiness: { command: [/bin/check, "a b"] } }
  p: { process: /bin/p, pidFile: /run/p.pid, readiness: pidFile }
)"));
  CHECK(has_line(
      generated_file(generated, "t.service").content,
      "ExecStartPost=/bin/bash -c \"until (exec 3<>\\\"/dev/tcp/$$0/$$1\\\") 2>/dev/null; do sleep 0.1; "
      "done\" 127.0.0.1 8080"));
  CHECK(
      has_line(generated_file(generated, "c.service").content,
               "ExecStartPost=/bin/sh -c \"until \\\"$$@\\\" >/dev/null 2>&1; do sleep 0.1; done\" readiness "
               "/bin/check \"a b\""));
  CHECK(generated_file(generated, "p.service").content.find("ExecStartPost=/bin/sh -c \"until [ -s") !=
        std::string::npos);
  CHECK(loss_lines(generated) == std::vector<std::string>{"t: readiness.tcp: emulated",
                                                          "c: readiness.command: emulated",
                                                          "p: readiness.pidFile: emulated"});
}

TEST_CASE("systemd: files and initialize run before the start, files as root") {
  const auto generated = systemd(definitions_from_yaml(R"(
instances:
  a:
    process: /bin/a
    user: nobody
    initialize: "mkdir -p /var/lib/a\n"
    files: { "etc/a.conf": "x = 1\n" }
)"));
  const auto& unit = generated_file(generated, "a.service").content;
  CHECK(has_line(unit, "ExecStartPre=+/bin/mkdir -p /var/etc"));
  CHECK(has_line(
      unit,
      "ExecStartPre=+/bin/sh -c \"printf %%s \\\"$$1\\\" > \\\"$$0\\\"\" /var/etc/a.conf \"x = 1\\n\""));
  CHECK(has_line(unit, "ExecStartPre=/bin/sh -ec \"mkdir -p /var/lib/a\\n\""));
  CHECK(loss_lines(generated) == std::vector<std::string>{"a: files: emulated"});
}

TEST_CASE("systemd: credentials become sysusers.d and tmpfiles.d entries in the system scope") {
  const auto definitions = definitions_from_yaml(R"(
instances:
  a:
    process: /bin/a
    user: svc
    credentials:
      groups: { svc: { gid: 900 }, extra: {} }
      users: { svc: { uid: 900, group: svc, description: "A \"service\"", homeDir: /var/lib/svc, createHomeDir: true } }
)");
  const auto generated = systemd(definitions);
  CHECK(generated_file(generated, "sysusers.d/a.conf").content ==
        "# Generated by nixpm for a's credentials.\n"
        "g svc 900\n"
        "g extra -\n"
        "u svc 900:svc \"A 'service'\" /var/lib/svc -\n");
  CHECK(generated_file(generated, "tmpfiles.d/a.conf").content ==
        "# Generated by nixpm for a's credentials.\nd /var/lib/svc 0755 svc svc -\n");
  CHECK(loss_lines(generated).empty());

  const auto user_scope = systemd(definitions, Scope::user);
  const auto& unit = generated_file(user_scope, "a.service").content;
  CHECK(unit.find("User=") == std::string::npos);
  CHECK(has_line(generated_file(user_scope, "nixpm.target").content, "WantedBy=default.target"));
  for (const auto& file : user_scope.files)
    CHECK(file.path.generic_string().find("sysusers.d") == std::string::npos);
  CHECK(loss_lines(user_scope) == std::vector<std::string>{"a: user: lost", "a: credentials: lost"});
}

TEST_CASE("systemd: backoff settings it cannot express are reported") {
  const auto generated = systemd(definitions_from_yaml(R"(
instances:
  a: { process: /bin/a, maxRestartDelay: 90, stableAfter: 20, restartLimit: 2, liveness: { command: [/bin/true] } }
  o: { process: /bin/o, type: oneshot, restart: always }
)"));
  const auto& unit = generated_file(generated, "a.service").content;
  CHECK(has_line(unit, "StartLimitBurst=2"));
  CHECK(has_line(unit, "StartLimitIntervalSec=42"));  // 2 x (20 + 1)
  CHECK(has_line(generated_file(generated, "o.service").content, "Restart=on-failure"));
  CHECK(loss_lines(generated) == std::vector<std::string>{"a: maxRestartDelay: lost", "a: stableAfter: lost",
                                                          "a: restartLimit: emulated", "a: liveness: lost",
                                                          "o: restart: emulated"});
}

TEST_CASE("systemd: overrides.systemd replaces, adds and removes settings last") {
  const auto generated = systemd(definitions_from_yaml(R"(
instances:
  a:
    process: /bin/a
    overrides:
      systemd:
        Service: { Restart: always, LimitNOFILE: 4096, TimeoutStopSec: ~, ExecStartPost: [/bin/one, /bin/two] }
        Install: { WantedBy: multi-user.target }
)"));
  const auto& unit = generated_file(generated, "a.service").content;
  CHECK(has_line(unit, "Restart=always"));
  CHECK_FALSE(has_line(unit, "Restart=on-failure"));
  CHECK(has_line(unit, "LimitNOFILE=4096"));
  CHECK(unit.find("TimeoutStopSec") == std::string::npos);
  CHECK(has_line(unit, "ExecStartPost=/bin/one"));
  CHECK(has_line(unit, "ExecStartPost=/bin/two"));
  CHECK(has_line(unit, "WantedBy=multi-user.target"));
  CHECK_FALSE(has_line(unit, "WantedBy=nixpm.target"));

  const auto bad = definitions_from_yaml(R"(
instances:
  a: { process: /bin/a, overrides: { systemd: { Service: 3 } } }
)");
  CHECK_THROWS_WITH(systemd(bad),
                    "instance 'a': overrides.systemd.Service must be a map of settings (e.g. "
                    "{LimitNOFILE: 4096}), not number");
}

TEST_CASE("systemd: an @ in an instance name is escaped so the unit is no template instance") {
  const auto generated = systemd(definitions_from_yaml(R"(
instances:
  "web@1": { process: /bin/a }
)"));
  CHECK(generated_file(generated, "web\\x401.service").content.find("ExecStart=/bin/a") != std::string::npos);
}

}  // namespace
}  // namespace nixpm::managers
