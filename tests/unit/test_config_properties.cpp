// Every createManagedProcess property and every nixpm supervision key, as the loader resolves them.
#include <csignal>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config/loader.hpp"

#include "support/config_testing.hpp"

using namespace nixpm::config;
using namespace nixpm::testing;

namespace {


const std::string kFixtures = std::string(NIXPM_FIXTURES_DIR) + "/definitions";


LoadResult load(std::string_view text, LoadOptions options = {}) {
  return load_definitions_text(yaml(text), "test.yaml", kDirs, options);
}

Lines messages(const LoadResult& result) {
  Lines lines;
  for (const auto& diagnostic : result.diagnostics) lines.push_back(diagnostic.to_string());
  return lines;
}


}  // namespace

TEST_CASE("properties: a fixture using every key resolves to the expected model") {
  const std::string file = kFixtures + "/valid/every_property.yaml";
  const auto result = load_definitions_file(file, kDirs);
  INFO(result.report());
  REQUIRE(result.ok());
  CHECK(result.diagnostics.empty());

  const InstanceSpec& server = instance(result, "server1");
  CHECK(server.constructor == "server");
  CHECK(server.description == "Server server1");
  CHECK(server.kind == ProcessKind::foreground);
  CHECK(server.executable == "/opt/server/bin/server");
  CHECK(server.arguments == Lines{"--port", "7000", "--foreground"});
  CHECK(server.foreground_executable == "/opt/server/bin/server");
  CHECK(server.foreground_arguments == server.arguments);
  CHECK(server.daemon_executable == "/opt/server/bin/server");
  CHECK(server.daemon_arguments == Lines{"--port", "7000", "--daemon", "--pid", "/state/run/server1.pid"});
  CHECK(server.pid_file == "/state/run/custom.pid");
  CHECK(server.initialize == "mkdir -p /state/lib/server1\necho \"$$HOME is literal: ${HOME}\"\n");
  CHECK(server.path == Lines{"/opt/tools/bin", "/opt/tools/sbin", "/usr/local/bin", "/usr/local/sbin"});
  CHECK(server.environment ==
        std::map<std::string, std::string>{{"PORT", "7000"}, {"VERBOSE", "true"}, {"LEVEL", "3"}});
  CHECK(server.directory == "/state/lib/server1");
  CHECK(server.umask == 027);
  CHECK(server.nice == -5);
  CHECK(server.user == "server1");
  CHECK(server.credentials.groups == std::vector<GroupCredential>{{"server1", 2000}, {"shared", std::nullopt}});
  CHECK(server.credentials.users ==
        std::vector<UserCredential>{{"server1", 2000, "server1", "Server user", "/var/lib/server1", true, "/bin/sh"}});
  REQUIRE(server.dependencies.size() == 1);
  CHECK(server.dependencies[0].name == "db");
  CHECK(server.overrides.at("sysvinit") == nlohmann::json::parse(R"({"runlevels": [3, 4, 5]})"));
  CHECK(server.overrides.at("systemd") == nlohmann::json::parse(R"({"Service": {"LimitNOFILE": "4096"}})"));
  CHECK(server.files == std::vector<GeneratedFile>{{"/state/etc/server1.conf", "port 7000\n"}});
  CHECK_FALSE(server.autostart);
  CHECK(server.ids == std::map<std::string, long long>{{"ports", 7000}, {"uids", 2000}});
  const SupervisionPolicy& policy = server.supervision;
  CHECK(policy.type == ProcessType::process);
  CHECK(policy.readiness == ReadinessCheck{ReadinessKind::tcp, "localhost", 7000, {}});
  CHECK(policy.start_timeout_seconds == 20.0);
  CHECK(policy.success_exit_codes == std::vector<int>{0, 143});
  CHECK(policy.liveness == LivenessCheck{{"/opt/server/bin/ping", "7000"}, 30.0, 2.0});
  CHECK(policy.restart == RestartPolicy::always);
  CHECK(policy.restart_delay_seconds == 2.0);
  CHECK(policy.max_restart_delay_seconds == 40.0);
  CHECK(policy.stable_after_seconds == 5.0);
  CHECK(policy.restart_limit == 7);
  CHECK(policy.stop_signal == SIGINT);
  CHECK(policy.stop_timeout_seconds == 4.0);

  // Only `daemon`: a forking daemon tracked by its default pid file, ready when it is written.
  const InstanceSpec& db = instance(result, "db");
  CHECK(db.kind == ProcessKind::daemon);
  CHECK(db.executable == "/opt/db/bin/dbd");
  CHECK(db.arguments == Lines{"--fork"});
  CHECK(db.foreground_executable.empty());
  CHECK(db.daemon_arguments == Lines{"--fork"});
  CHECK(db.pid_file == "/state/run/db.pid");
  CHECK(db.supervision.readiness.kind == ReadinessKind::pid_file);

  const InstanceSpec& migrate = instance(result, "migrate");
  CHECK(migrate.supervision.type == ProcessType::oneshot);
  CHECK(migrate.arguments == Lines{"--all"});
  CHECK(migrate.supervision.readiness == ReadinessCheck{ReadinessKind::command, "127.0.0.1", 0, {"/opt/db/bin/check"}});
  CHECK(migrate.pid_file.empty());

  CHECK(instance(result, "notifier").supervision.readiness.kind == ReadinessKind::pid_file);
  CHECK(instance(result, "notifier").pid_file == "/tmp/notifier.pid");
  CHECK(instance(result, "watcher").supervision.readiness.kind == ReadinessKind::notify);
}

TEST_CASE("properties: defaults of the new keys") {
  const auto result = load(R"(
instances:
  plain: { process: /bin/plain }
)");
  const InstanceSpec& plain = instance(result, "plain");
  CHECK(plain.kind == ProcessKind::foreground);
  CHECK(plain.daemon_executable == "/bin/plain");  // `daemon` defaults to `process` too
  CHECK(plain.pid_file.empty());
  CHECK(plain.initialize.empty());
  CHECK(plain.path.empty());
  CHECK_FALSE(plain.umask);
  CHECK_FALSE(plain.nice);
  CHECK(plain.user.empty());
  CHECK(plain.credentials == Credentials{});
  CHECK(plain.overrides.empty());
  CHECK(plain.ids.empty());
  CHECK(plain.supervision.readiness == ReadinessCheck{});
  CHECK(plain.supervision.success_exit_codes == std::vector<int>{0});
  CHECK_FALSE(plain.supervision.liveness);
}

TEST_CASE("properties: readiness forms") {
  const auto result = load(R"(
instances:
  a: { process: /bin/a, readiness: started }
  b: { process: /bin/b, pidFile: /run/b.pid, readiness: { pidFile: true } }
  c: { process: /bin/c, readiness: { tcp: 8080 } }
  d: { process: /bin/d, readiness: { notify: true } }
  e: { daemon: /bin/e, readiness: started }
)");
  CHECK(instance(result, "a").supervision.readiness.kind == ReadinessKind::started);
  CHECK(instance(result, "b").supervision.readiness.kind == ReadinessKind::pid_file);
  CHECK(instance(result, "c").supervision.readiness == ReadinessCheck{ReadinessKind::tcp, "127.0.0.1", 8080, {}});
  CHECK(instance(result, "d").supervision.readiness.kind == ReadinessKind::notify);
  CHECK(instance(result, "e").supervision.readiness.kind == ReadinessKind::started);
}

TEST_CASE("properties: bad values of the new keys") {
  const auto result = load(R"(
instances:
  a:
    process: /bin/a
    umask: "0999"
    nice: 20
    readiness: pidFile
    type: forking
    successExitCodes: [0, 256, x]
    overrides: { systemdd: {}, supervisord: { x: 1 } }
    credentials: { users: { a: { uid: -1, homedir: /x } }, group: {} }
    liveness: { interval: 0 }
  b: { daemon: /bin/b, type: oneshot, readiness: { tcp: { host: h }, started: true } }
  c: { process: /bin/c, readiness: { tcp: { port: 70000 } }, instanceName: other }
  d: { process: /bin/d, readiness: whenever, path: [""] }
)");
  CHECK(messages(result) == Lines{
      "test.yaml:4:12: error: in instance 'a': 'umask' must be an octal string such as \"027\", not '0999'",
      "test.yaml:5:11: error: in instance 'a': 'nice' must be a whole number from -20 to 19, not '20'",
      "test.yaml:6:16: error: in instance 'a': readiness 'pidFile' needs a 'pidFile' (only daemons have a default one)",
      "test.yaml:7:11: error: 'type' must be process or oneshot, not 'forking'",
      "test.yaml:8:27: error: items of 'successExitCodes' must be exit codes from 0 to 255, not '256'",
      "test.yaml:8:32: error: items of 'successExitCodes' must be exit codes from 0 to 255, not 'x'",
      "test.yaml:9:18: error: unknown process manager 'systemdd' in 'overrides' (did you mean 'systemd'?)",
      "test.yaml:10:39: error: in instance 'a': 'uid' must be a whole number of at least 0, not '-1'",
      "test.yaml:10:43: error: unknown key 'homedir' in 'a' (did you mean 'homeDir'?)",
      "test.yaml:10:60: error: unknown key 'group' in 'credentials' (did you mean 'groups'?)",
      "test.yaml:11:27: error: 'interval' must be greater than 0 seconds, not 0",
      "test.yaml:12:30: error: in instance 'b': a oneshot needs 'process' or 'foregroundProcess' (it runs in the "
      "foreground)",
      "test.yaml:12:50: error: 'readiness' must be a word or a map with one of started, pidFile, tcp, command and "
      "notify, not a map with 2 keys",
      "test.yaml:13:51: error: in instance 'c': the readiness port must be a number from 1 to 65535, not '70000'",
      "test.yaml:13:76: error: in instance 'c': 'instanceName' must equal the instance name 'c', not 'other' (the "
      "instance key is its name)",
      "test.yaml:14:36: error: 'readiness' must be started, pidFile, notify, {tcp: ...} or {command: [...]}, not "
      "'whenever'",
      "test.yaml:14:53: error: in instance 'd': 'path' entries must not be empty"});
}

TEST_CASE("properties: executables are checked only when asked, relative ones only warn") {
  // A file that exists but is not executable: this very fixture directory's YAML file.
  const std::string not_executable = kFixtures + "/valid/webapps.yaml";
  const std::string text = R"(
instances:
  missing: { process: /nonexistent/program }
  notexec: { process: )" + not_executable + R"( }
  relative: { process: surely-not-a-command-nixpm, path: [/nonexistent] }
  found: { process: sh }
)";
  CHECK(load(text).ok());
  LoadOptions options;
  options.check_executables = true;
  const auto result = load(text, options);
  CHECK_FALSE(result.ok());
  CHECK(result.has_warnings());
  CHECK(messages(result) == Lines{
      "test.yaml:2:23: error: in instance 'missing': executable '/nonexistent/program' does not exist",
      "test.yaml:3:23: error: in instance 'notexec': '" + not_executable + "' is not an executable file",
      "test.yaml:4:24: warning: in instance 'relative': command 'surely-not-a-command-nixpm' is not found in 'path' "
      "or PATH on this machine"});

  // Warnings alone do not block loading.
  const auto warned = load(R"(
instances:
  relative: { process: surely-not-a-command-nixpm }
)", options);
  CHECK(warned.ok());
  CHECK(warned.has_warnings());
  CHECK(warned.report() == "test.yaml:2:24: warning: in instance 'relative': command 'surely-not-a-command-nixpm' is "
                           "not found in 'path' or PATH on this machine\n");
}

TEST_CASE("properties: same_behaviour sees every field that shapes the process") {
  const auto result = load(R"(
instances:
  a: { process: /bin/a }
  b: { process: /bin/a }
)");
  REQUIRE(result.ok());
  InstanceSpec a = result.definitions->instances[0];
  InstanceSpec b = result.definitions->instances[1];
  b.name = a.name;
  CHECK(a.same_behaviour(b));
  b.description = "other";
  b.overrides["systemd"] = nlohmann::json::object();
  CHECK(a.same_behaviour(b));
  auto changed = [&](auto mutate) {
    InstanceSpec copy = a;
    mutate(copy);
    return !a.same_behaviour(copy);
  };
  CHECK(changed([](InstanceSpec& s) { s.kind = ProcessKind::daemon; }));
  CHECK(changed([](InstanceSpec& s) { s.pid_file = "/x"; }));
  CHECK(changed([](InstanceSpec& s) { s.initialize = "true"; }));
  CHECK(changed([](InstanceSpec& s) { s.path = {"/x"}; }));
  CHECK(changed([](InstanceSpec& s) { s.umask = 022; }));
  CHECK(changed([](InstanceSpec& s) { s.nice = 1; }));
  CHECK(changed([](InstanceSpec& s) { s.rlimits.push_back({"nofile", 4096, 4096}); }));
  CHECK(changed([](InstanceSpec& s) { s.user = "u"; }));
  CHECK(changed([](InstanceSpec& s) { s.credentials.groups.push_back({"g", {}}); }));
  CHECK(changed([](InstanceSpec& s) { s.supervision.readiness.kind = ReadinessKind::notify; }));
  CHECK(changed([](InstanceSpec& s) { s.supervision.type = ProcessType::oneshot; }));
}

TEST_CASE("properties: rlimits in their plain and {soft, hard} forms") {
  const auto result = load(R"(
constructors:
  server:
    process: /bin/server
    rlimits: { nofile: 4096, core: 0 }
instances:
  a:
    constructor: server
  b:
    process: /bin/b
    rlimits:
      nproc: { soft: 100, hard: 200 }
      as: 2G
      memlock: { hard: 64k }
      stack: { soft: infinity }
      cpu: unlimited
      rttime: 18446744073709551614
  c:
    constructor: server
    rlimits: {}
)");
  CHECK(instance(result, "a").rlimits == std::vector<ResourceLimit>{{"core", 0, 0}, {"nofile", 4096, 4096}});
  CHECK(instance(result, "b").rlimits ==
        std::vector<ResourceLimit>{{"as", 2ULL << 30, 2ULL << 30},
                                   {"cpu", kUnlimited, kUnlimited},
                                   {"memlock", std::nullopt, 64 * 1024},
                                   {"nproc", 100, 200},
                                   {"rttime", 18446744073709551614ULL, 18446744073709551614ULL},
                                   {"stack", kUnlimited, std::nullopt}});
  CHECK(instance(result, "c").rlimits.empty());  // an instance's `rlimits` replaces the constructor's
}

TEST_CASE("properties: bad rlimits are refused with the reason") {
  const auto result = load(R"(
instances:
  a:
    process: /bin/a
    rlimits:
      nofiles: 10
      LimitNOFILE: 10
      RLIMIT_CORE: 0
      nproc: many
      nice: 1K
      as: 17Q
      core: -1
      data: { soft: 10, hard: 5 }
      stack: { soft: 1, hrad: 2 }
      fsize: {}
      rss: [1, 2]
      cpu: 99999999999999999999
  b: { process: /bin/b, rlimits: [nofile] }
)");
  CHECK(messages(result) == Lines{
      "test.yaml:5:7: error: unknown limit 'nofiles' in 'rlimits' (did you mean 'nofile'?)",
      "test.yaml:6:7: error: unknown limit 'LimitNOFILE' in 'rlimits' (did you mean 'nofile'?)",
      "test.yaml:7:7: error: unknown limit 'RLIMIT_CORE' in 'rlimits' (did you mean 'core'?)",
      "test.yaml:8:14: error: the 'nproc' limit must be a whole number or infinity, not 'many'",
      "test.yaml:9:13: error: the 'nice' limit must be a whole number or infinity, not '1K'",
      "test.yaml:10:11: error: the 'as' limit must be a whole number of bytes (K, M, G or T may follow) or "
      "infinity, not '17Q'",
      "test.yaml:11:13: error: the 'core' limit must be a whole number of bytes (K, M, G or T may follow) or "
      "infinity, not '-1'",
      "test.yaml:12:13: error: the soft 'data' limit is above its hard limit",
      "test.yaml:13:25: error: unknown key 'hrad' in 'stack' (did you mean 'hard'?)",
      "test.yaml:14:14: error: the 'fsize' limit needs 'soft', 'hard' or both",
      "test.yaml:15:12: error: the 'rss' limit must be a number, infinity or {soft, hard}, not a list",
      "test.yaml:16:12: error: the 'cpu' limit must be a whole number or infinity, not "
      "'99999999999999999999'",
      "test.yaml:17:34: error: 'rlimits' must be a map, not a list"});
}
