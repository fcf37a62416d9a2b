// The resolved model as JSON (`nixpmctl check --json`): every field of InstanceSpec appears, spelled
// like the definition keys, with unset optional values as null.

#include <catch2/catch.hpp>

#include <csignal>

#include "config/model_json.hpp"

namespace cfg = nixpm::config;
using Json = nlohmann::json;

namespace {

cfg::InstanceSpec full_instance() {
  cfg::InstanceSpec spec;
  spec.name = "db";
  spec.constructor = "database";
  spec.description = "The database";
  spec.kind = cfg::ProcessKind::daemon;
  spec.executable = "/usr/bin/db";
  spec.arguments = {"--fork", "a b"};
  spec.foreground_executable = "/usr/bin/db";
  spec.foreground_arguments = {"--foreground"};
  spec.daemon_executable = "/usr/bin/db";
  spec.daemon_arguments = {"--fork", "a b"};
  spec.pid_file = "/run/db.pid";
  spec.initialize = "mkdir -p /var/db";
  spec.path = {"/opt/db/bin"};
  spec.environment = {{"PORT", "5432"}};
  spec.directory = "/var/db";
  spec.umask = 027;
  spec.nice = 5;
  spec.rlimits = {{"core", 0, 0}, {"nofile", std::nullopt, cfg::kUnlimited}};
  spec.user = "db";
  spec.credentials.groups = {{"db", 1200}};
  spec.credentials.users = {{"db", std::nullopt, "db", "Database", "/var/db", true, "/bin/sh"}};
  spec.dependencies = {{"net", {"f.yaml", 3, 4}}};
  spec.files = {{"/etc/db.conf", "port 5432\n"}};
  spec.autostart = false;
  spec.supervision.restart = cfg::RestartPolicy::always;
  spec.supervision.stop_signal = SIGINT;
  spec.supervision.type = cfg::ProcessType::oneshot;
  spec.supervision.readiness.kind = cfg::ReadinessKind::tcp;
  spec.supervision.readiness.port = 5432;
  spec.supervision.success_exit_codes = {0, 3};
  spec.supervision.liveness = cfg::LivenessCheck{{"/usr/bin/db-ping"}, 15, 2};
  spec.overrides = {{"systemd", Json{{"Service", {{"LimitNOFILE", 1024}}}}}};
  spec.ids = {{"dbPorts", 5432}};
  spec.position = {"f.yaml", 2, 3};
  return spec;
}

}  // namespace

TEST_CASE("model json: every field of an instance", "[model_json]") {
  const Json j = cfg::instance_json(full_instance());
  CHECK(j["name"] == "db");
  CHECK(j["constructor"] == "database");
  CHECK(j["description"] == "The database");
  CHECK(j["kind"] == "daemon");
  CHECK(j["executable"] == "/usr/bin/db");
  CHECK(j["arguments"] == Json{"--fork", "a b"});
  CHECK(j["foregroundProcess"] == "/usr/bin/db");
  CHECK(j["foregroundProcessArgs"] == Json{"--foreground"});
  CHECK(j["daemon"] == "/usr/bin/db");
  CHECK(j["daemonArgs"] == Json{"--fork", "a b"});
  CHECK(j["pidFile"] == "/run/db.pid");
  CHECK(j["initialize"] == "mkdir -p /var/db");
  CHECK(j["path"] == Json{"/opt/db/bin"});
  CHECK(j["environment"] == Json{{"PORT", "5432"}});
  CHECK(j["directory"] == "/var/db");
  CHECK(j["umask"] == "0027");
  CHECK(j["nice"] == 5);
  CHECK(j["rlimits"] == Json::parse(R"({"core": {"soft": 0, "hard": 0},
      "nofile": {"soft": null, "hard": "infinity"}})"));
  CHECK(j["user"] == "db");
  CHECK(j["credentials"]["groups"] == Json::parse(R"([{"name": "db", "gid": 1200}])"));
  CHECK(j["credentials"]["users"] == Json::parse(R"([{"name": "db", "uid": null, "group": "db",
      "description": "Database", "homeDir": "/var/db", "createHomeDir": true, "shell": "/bin/sh"}])"));
  CHECK(j["dependencies"] == Json{"net"});
  CHECK(j["files"] == Json::parse(R"([{"path": "/etc/db.conf", "content": "port 5432\n"}])"));
  CHECK(j["autostart"] == false);
  CHECK(j["overrides"] == Json{{"systemd", {{"Service", {{"LimitNOFILE", 1024}}}}}});
  CHECK(j["ids"] == Json{{"dbPorts", 5432}});
  CHECK(j["position"] == "f.yaml:2:3");
  CHECK(j.size() == 27);  // a new InstanceSpec field needs a key here and a check above
}

TEST_CASE("model json: supervision", "[model_json]") {
  const Json s = cfg::instance_json(full_instance())["supervision"];
  CHECK(s["type"] == "oneshot");
  CHECK(s["restart"] == "always");
  CHECK(s["restartDelay"] == 1.0);
  CHECK(s["maxRestartDelay"] == 30.0);
  CHECK(s["stableAfter"] == 10.0);
  CHECK(s["restartLimit"] == 5);
  CHECK(s["stopSignal"] == "SIGINT");
  CHECK(s["stopTimeout"] == 10.0);
  CHECK(s["readiness"] == Json::parse(R"({"kind": "tcp", "host": "127.0.0.1", "port": 5432, "command": []})"));
  CHECK(s["startTimeout"] == 60.0);
  CHECK(s["successExitCodes"] == Json{0, 3});
  CHECK(s["liveness"] == Json::parse(R"({"command": ["/usr/bin/db-ping"], "interval": 15.0, "timeout": 2.0})"));
  CHECK(s.size() == 12);
}

TEST_CASE("model json: unset optional values are null and empty collections stay empty", "[model_json]") {
  cfg::InstanceSpec spec;
  spec.name = "x";
  spec.executable = "/bin/true";
  const Json j = cfg::instance_json(spec);
  CHECK(j["kind"] == "foreground");
  CHECK(j["umask"].is_null());
  CHECK(j["nice"].is_null());
  CHECK(j["rlimits"] == Json::object());
  CHECK(j["supervision"]["liveness"].is_null());
  CHECK(j["supervision"]["type"] == "process");
  CHECK(j["supervision"]["readiness"]["kind"] == "started");
  CHECK(j["environment"] == Json::object());
  CHECK(j["overrides"] == Json::object());
  CHECK(j["dependencies"] == Json::array());
  CHECK(j["position"] == "");
}

TEST_CASE("model json: names of the enumerations and umask text", "[model_json]") {
  CHECK(cfg::restart_policy_name(cfg::RestartPolicy::on_failure) == "on-failure");
  CHECK(cfg::restart_policy_name(cfg::RestartPolicy::never) == "never");
  CHECK(cfg::readiness_kind_name(cfg::ReadinessKind::pid_file) == "pidFile");
  CHECK(cfg::readiness_kind_name(cfg::ReadinessKind::notify) == "notify");
  CHECK(cfg::readiness_kind_name(cfg::ReadinessKind::command) == "command");
  CHECK(cfg::umask_text(022) == "0022");
  CHECK(cfg::umask_text(0) == "0000");
}

TEST_CASE("model json: definitions keep declaration order and name their source", "[model_json]") {
  cfg::Definitions definitions;
  definitions.source = "/etc/nixpm/processes.yaml";
  definitions.instances.resize(2);
  definitions.instances[0].name = "b";
  definitions.instances[1].name = "a";
  const Json j = cfg::definitions_json(definitions);
  CHECK(j["source"] == "/etc/nixpm/processes.yaml");
  REQUIRE(j["instances"].size() == 2);
  CHECK(j["instances"][0]["name"] == "b");
  CHECK(j["instances"][1]["name"] == "a");
}
