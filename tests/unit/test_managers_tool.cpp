// The tool layer with a fake runner: the exact commands each manager's tool gets, and how its output
// becomes nixpm's states. Managers this machine does not run (systemd as PID 1, launchd, bsdrc,
// cygrunsrv, s6-rc) are covered only here; supervisord, sysvinit, runit and s6 also run for real in
// tests/integration/test_deploy*.py.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "config/managers/deployment.hpp"
#include "config/managers/manager_tool.hpp"

namespace fs = std::filesystem;
using namespace nixpm;
using namespace nixpm::managers;

namespace {

// Records every command; answers with the result scripted for the longest matching argv prefix.
class FakeRunner : public CommandRunner {
 public:
  std::vector<std::vector<std::string>> commands;
  std::vector<std::pair<std::vector<std::string>, ToolResult>> answers;

  void answer(std::vector<std::string> prefix, int status, std::string output = "") {
    answers.push_back({std::move(prefix), ToolResult{status, std::move(output), ""}});
  }

  ToolResult run(const ToolCommand& command, std::chrono::milliseconds) override {
    commands.push_back(command.argv);
    const ToolResult* best = nullptr;
    std::size_t best_size = 0;
    for (const auto& [prefix, result] : answers) {
      if (prefix.size() > command.argv.size() || prefix.size() < best_size) continue;
      if (std::equal(prefix.begin(), prefix.end(), command.argv.begin())) {
        best = &result;
        best_size = prefix.size();
      }
    }
    return best ? *best : ToolResult{};
  }
  void pause(std::chrono::milliseconds) override {}
};

ToolContext context_for(FakeRunner& runner, Scope scope, fs::path root) {
  ToolContext context;
  context.scope = scope;
  context.root = std::move(root);
  context.state_dir = "/st";
  context.runtime_dir = "/st/run";
  context.log_dir = "/st/log";
  context.uid = 501;
  context.timeout = std::chrono::seconds(30);
  context.runner = &runner;
  return context;
}

const ManagerTool& tool_named(std::string_view name) {
  const auto* tool = find_tool(name);
  REQUIRE(tool != nullptr);
  return *tool;
}

using Argv = std::vector<std::string>;

}  // namespace

TEST_CASE("every adapter has a tool, and instances map to the names in the adapter's start order") {
  for (const auto* adapter : all_managers()) {
    const auto& tool = tool_named(adapter->name());
    CHECK(tool.manager() == adapter->name());
  }
  CHECK(tool_named("systemd").service_name("web@1") == "web\\x401.service");
  CHECK(tool_named("launchd").service_name("nginx") == "org.nixpm.nginx");
  CHECK(tool_named("cygrunsrv").service_name("nginx") == "nixpm-nginx");
  CHECK(tool_named("bsdrc").service_name("my-db") == "my_db");
  CHECK(tool_named("runit").service_name("nginx") == "nginx");
}

TEST_CASE("default places follow each manager's conventions, per scope") {
  const EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "HOME") return "/home/u";
    return std::nullopt;
  };
  CHECK(tool_named("systemd").default_root(Scope::system, env) == "/etc/systemd/system");
  CHECK(tool_named("systemd").default_root(Scope::user, env) == "/home/u/.config/systemd/user");
  CHECK(tool_named("supervisord").default_root(Scope::system, env) == "/etc/supervisor");
  CHECK(tool_named("supervisord").default_root(Scope::user, env) == "/home/u/.config/nixpm/supervisord");
  CHECK(tool_named("sysvinit").default_root(Scope::system, env) == "/etc");
  CHECK(tool_named("bsdrc").default_root(Scope::system, env) == "/usr/local/etc");
  CHECK(tool_named("launchd").default_root(Scope::user, env) == "/home/u/Library");
  CHECK(tool_named("runit").default_root(Scope::system, env) == "/etc/service");
  CHECK(tool_named("s6-rc").install_path("web-srv/run") == "source/web-srv/run");
}

TEST_CASE("file ownership: each service's own files, and the shared ones") {
  const std::vector<std::string> plain{"webapp1", "nginx"};
  CHECK(tool_named("supervisord").owner_of("conf.d/nginx.conf", plain) == "nginx");
  CHECK(tool_named("supervisord").owner_of("conf.d/nixpm/nginx.sh", plain) == "nginx");
  CHECK(tool_named("supervisord").owner_of("supervisord.conf", plain).empty());
  CHECK(tool_named("sysvinit").owner_of("init.d/nginx", plain) == "nginx");
  CHECK(tool_named("sysvinit").owner_of("rc2.d/S02nginx", plain) == "nginx");
  CHECK(tool_named("runit").owner_of("webapp1/log/run", plain) == "webapp1");
  CHECK(tool_named("s6-rc").owner_of("nginx-log/run", plain) == "nginx");
  CHECK(tool_named("s6-rc").owner_of("nixpm/contents", plain).empty());
  CHECK(tool_named("cygrunsrv").owner_of("nginx.sh", {"nixpm-nginx"}) == "nixpm-nginx");
  CHECK(tool_named("cygrunsrv").owner_of("cygrunsrv.sh", {"nixpm-nginx"}).empty());
  CHECK(tool_named("systemd").owner_of("nginx.service", {"nginx.service"}) == "nginx.service");
  CHECK(tool_named("systemd").owner_of("sysusers.d/nginx.conf", {"nginx.service"}) == "nginx.service");
  CHECK(tool_named("systemd").owner_of("nixpm.target", {"nginx.service"}).empty());
  CHECK(tool_named("launchd").owner_of("LaunchAgents/org.nixpm.nginx.plist", {"org.nixpm.nginx"}) ==
        "org.nixpm.nginx");
}

TEST_CASE("systemd: systemctl, with --user for user units, and show parsed into states") {
  FakeRunner runner;
  const auto& tool = tool_named("systemd");
  auto user = context_for(runner, Scope::user, "/home/u/.config/systemd/user");
  bool started = true;
  CHECK(tool.activate(user, started).ok());
  CHECK_FALSE(started);
  CHECK(tool.start(user, "nginx.service").ok());
  CHECK(tool.stop(user, "nginx.service").ok());
  CHECK(tool.restart(user, "nginx.service").ok());
  auto system = context_for(runner, Scope::system, "/etc/systemd/system");
  CHECK(tool.start(system, "nginx.service").ok());
  CHECK(runner.commands == std::vector<Argv>{{"systemctl", "--user", "daemon-reload"},
                                             {"systemctl", "--user", "start", "nginx.service"},
                                             {"systemctl", "--user", "stop", "nginx.service"},
                                             {"systemctl", "--user", "restart", "nginx.service"},
                                             {"systemctl", "start", "nginx.service"}});

  runner.answer({"systemctl", "show", "--property=LoadState,ActiveState,SubState,MainPID", "a.service"}, 0,
                "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\n");
  runner.answer({"systemctl", "show", "--property=LoadState,ActiveState,SubState,MainPID", "b.service"}, 0,
                "LoadState=loaded\nActiveState=failed\nSubState=failed\nMainPID=0\n");
  runner.answer({"systemctl", "show", "--property=LoadState,ActiveState,SubState,MainPID", "c.service"}, 0,
                "LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\n");
  runner.answer({"systemctl", "show", "--property=LoadState,ActiveState,SubState,MainPID", "d.service"}, 0,
                "LoadState=loaded\nActiveState=active\nSubState=exited\nMainPID=0\n");
  const auto statuses = tool.status(system, {"a.service", "b.service", "c.service", "d.service"});
  CHECK(statuses[0].state == InstanceState::running);
  CHECK(statuses[0].pid == 4242);
  CHECK(statuses[1].state == InstanceState::failed);
  CHECK_FALSE(statuses[1].pid);
  CHECK_FALSE(statuses[2].known);
  CHECK(statuses[3].state == InstanceState::done);
  CHECK(tool.log_path(system, "nginx").empty());
  CHECK(tool.log_hint(user, "nginx") == "systemd keeps the output in the journal: journalctl --user -u nginx.service");
}

TEST_CASE("launchd: bootstrap into the domain, kickstart, bootout, and launchctl print parsed") {
  FakeRunner runner;
  const auto& tool = tool_named("launchd");
  auto user = context_for(runner, Scope::user, "/home/u/Library");
  runner.answer({"launchctl", "print"}, 113, "Could not find service");
  CHECK(tool.add(user, "org.nixpm.nginx").ok());
  CHECK(tool.start(user, "org.nixpm.nginx").ok());
  CHECK(tool.stop(user, "org.nixpm.nginx").ok());  // not loaded: nothing to do
  CHECK(runner.commands ==
        std::vector<Argv>{{"launchctl", "bootstrap", "gui/501", "/home/u/Library/LaunchAgents/org.nixpm.nginx.plist"},
                          {"launchctl", "print", "gui/501/org.nixpm.nginx"},
                          {"launchctl", "bootstrap", "gui/501", "/home/u/Library/LaunchAgents/org.nixpm.nginx.plist"},
                          {"launchctl", "kickstart", "gui/501/org.nixpm.nginx"},
                          {"launchctl", "print", "gui/501/org.nixpm.nginx"}});

  FakeRunner loaded;
  auto system = context_for(loaded, Scope::system, "/Library");
  loaded.answer({"launchctl", "print"}, 0, "system/org.nixpm.nginx = {\n\tstate = running\n\tpid = 77\n}\n");
  CHECK(tool.stop(system, "org.nixpm.nginx").ok());
  CHECK(tool.restart(system, "org.nixpm.nginx").ok());
  CHECK(loaded.commands[1] == Argv{"launchctl", "bootout", "system/org.nixpm.nginx"});
  CHECK(loaded.commands[3] == Argv{"launchctl", "kickstart", "-k", "system/org.nixpm.nginx"});
  const auto status = tool.status(system, {"org.nixpm.nginx"}).front();
  CHECK(status.state == InstanceState::running);
  CHECK(status.pid == 77);
}

TEST_CASE("bsdrc: the rc.d scripts' one* verbs, and onestatus parsed") {
  FakeRunner runner;
  const auto& tool = tool_named("bsdrc");
  auto context = context_for(runner, Scope::system, "/usr/local/etc");
  runner.answer({"/usr/local/etc/rc.d/web", "onestatus"}, 0, "web is running as pid 1234.\n");
  runner.answer({"/usr/local/etc/rc.d/db", "onestatus"}, 1, "db is not running.\n");
  CHECK(tool.start(context, "web").ok());
  CHECK(tool.stop(context, "web").ok());
  CHECK(tool.restart(context, "web").ok());
  const auto statuses = tool.status(context, {"web", "db"});
  CHECK(runner.commands == std::vector<Argv>{{"/usr/local/etc/rc.d/web", "onestart"},
                                             {"/usr/local/etc/rc.d/web", "onestop"},
                                             {"/usr/local/etc/rc.d/web", "onerestart"},
                                             {"/usr/local/etc/rc.d/web", "onestatus"},
                                             {"/usr/local/etc/rc.d/db", "onestatus"}});
  CHECK(statuses[0].state == InstanceState::running);
  CHECK(statuses[0].pid == 1234);
  CHECK(statuses[1].state == InstanceState::stopped);
}

TEST_CASE("cygrunsrv: a service is installed with the generated script's own install command") {
  const auto root = fs::temp_directory_path() / ("nixpm-cygrunsrv-" + std::to_string(::getpid()));
  fs::create_directories(root);
  {
    std::ofstream script(root / "cygrunsrv.sh");
    script << "install_services() {\n  cygrunsrv --install nixpm-web \\\n    --path /bin/sh \\\n"
              "    --args \"\\\"$here/web.sh\\\"\" \\\n    --shutdown\n  cygrunsrv --install nixpm-db \\\n"
              "    --path /usr/bin/db\n}\n";
  }
  FakeRunner runner;
  const auto& tool = tool_named("cygrunsrv");
  auto context = context_for(runner, Scope::system, root);
  CHECK(tool.add(context, "nixpm-web").ok());
  REQUIRE(runner.commands.size() == 1);
  CHECK(runner.commands[0] ==
        Argv{"/bin/sh", "-c",
             "here=\"$1\"; cygrunsrv --install nixpm-web --path /bin/sh --args \"\\\"$here/web.sh\\\"\" --shutdown",
             "sh", root.string()});
  CHECK_FALSE(tool.add(context, "nixpm-other").ok());

  runner.commands.clear();
  runner.answer({"cygrunsrv", "--query", "--verbose", "nixpm-web"}, 0,
                "Service             : nixpm-web\nCurrent State       : Running\nProcess ID          : 321\n");
  runner.answer({"cygrunsrv", "--query", "nixpm-web"}, 0, "Current State       : Running\n");
  CHECK(tool.start(context, "nixpm-web").ok());
  CHECK(tool.stop(context, "nixpm-web").ok());
  CHECK(tool.remove(context, "nixpm-web").ok());
  const auto status = tool.status(context, {"nixpm-web"}).front();
  CHECK(runner.commands == std::vector<Argv>{{"cygrunsrv", "--start", "nixpm-web"},
                                             {"cygrunsrv", "--query", "nixpm-web"},
                                             {"cygrunsrv", "--query", "nixpm-web"},
                                             {"cygrunsrv", "--stop", "nixpm-web"},
                                             {"cygrunsrv", "--query", "nixpm-web"},
                                             {"cygrunsrv", "--remove", "nixpm-web"},
                                             {"cygrunsrv", "--query", "--verbose", "nixpm-web"}});
  CHECK(status.state == InstanceState::running);
  CHECK(status.pid == 321);
  fs::remove_all(root);
}

TEST_CASE("s6-rc: compile a new database, update the live one, and change services") {
  const auto root = fs::temp_directory_path() / ("nixpm-s6rc-" + std::to_string(::getpid()));
  fs::create_directories(root / "compiled-1");
  FakeRunner runner;
  const auto& tool = tool_named("s6-rc");
  auto context = context_for(runner, Scope::user, root);
  bool started = true;
  const auto activated = tool.activate(context, started);
  // No live state under /st/run/s6-rc: the message says how to start s6-rc.
  CHECK_FALSE(activated.ok());
  CHECK(activated.error.find("s6-rc-init -c " + (root / "compiled-2").string() + " -l /st/run/s6-rc") !=
        std::string::npos);
  CHECK(runner.commands ==
        std::vector<Argv>{{"s6-rc-compile", (root / "compiled-2").string(), (root / "source").string()}});
  runner.commands.clear();
  runner.answer({"s6-rc", "-l", "/st/run/s6-rc", "-a", "list"}, 0, "web-srv\nweb-log\nprepare\n");
  CHECK(tool.start(context, "web").ok());
  CHECK(tool.stop(context, "web").ok());
  const auto statuses = tool.status(context, {"web", "prepare", "db"});
  CHECK(runner.commands == std::vector<Argv>{{"s6-rc", "-l", "/st/run/s6-rc", "-t", "30000", "-u", "change", "web"},
                                             {"s6-rc", "-l", "/st/run/s6-rc", "-t", "30000", "-d", "change", "web"},
                                             {"s6-rc", "-l", "/st/run/s6-rc", "-a", "list"}});
  CHECK(statuses[0].state == InstanceState::running);
  CHECK(statuses[1].state == InstanceState::done);
  CHECK(statuses[2].state == InstanceState::stopped);
  fs::remove_all(root);
}

TEST_CASE("supervisord: supervisorctl -c <root>/supervisord.conf, and its status lines parsed") {
  FakeRunner runner;
  const auto& tool = tool_named("supervisord");
  auto context = context_for(runner, Scope::user, "/r");
  runner.answer({"supervisorctl", "-c", "/r/supervisord.conf", "status"}, 3,
                "web                              RUNNING   pid 5150, uptime 1 day, 2:03:04\n"
                "db                               FATAL     Exited too quickly (process log may have details)\n"
                "job                              EXITED    Nov 25 09:00 PM\n"
                "gone: ERROR (no such process)\n");
  const auto statuses = tool.status(context, {"web", "db", "job", "gone"});
  CHECK(runner.commands ==
        std::vector<Argv>{{"supervisorctl", "-c", "/r/supervisord.conf", "status", "web", "db", "job", "gone"}});
  CHECK(statuses[0].state == InstanceState::running);
  CHECK(statuses[0].pid == 5150);
  CHECK(statuses[0].uptime_seconds == Approx(86400 + 2 * 3600 + 3 * 60 + 4));
  CHECK(statuses[1].state == InstanceState::failed);
  CHECK(statuses[1].detail == "FATAL: Exited too quickly (process log may have details)");
  CHECK(statuses[2].state == InstanceState::stopped);
  CHECK_FALSE(statuses[3].known);
  CHECK(tool.log_path(context, "web") == "/st/log/web.log");

  // A system supervisord keeps its own supervisord.conf; it is not started by a deployment.
  auto system = context_for(runner, Scope::system, "/etc/supervisor");
  CHECK_FALSE(tool.installs(system, "supervisord.conf"));
  CHECK(tool.installs(system, "conf.d/web.conf"));
  runner.answer({"supervisorctl", "-c", "/etc/supervisor/supervisord.conf", "pid"}, 7);
  bool started = false;
  CHECK(tool.activate(system, started).error.find("supervisord is not running") == 0);
}

TEST_CASE("runit and s6: sv and s6-svc with their waits, and their status parsed") {
  FakeRunner runner;
  auto context = context_for(runner, Scope::user, "/scan");
  runner.answer({"sv", "status", "/scan/web"}, 0, "run: /scan/web: (pid 99) 12s; run: log: (pid 98) 12s\n");
  runner.answer({"sv", "status", "/scan/db"}, 0, "down: /scan/db: 3s, normally up; run: log: (pid 7) 9s\n");
  const auto& runit = tool_named("runit");
  CHECK(runit.start(context, "web").ok());
  CHECK(runit.stop(context, "web").ok());
  CHECK(runner.commands == std::vector<Argv>{{"sv", "status", "/scan/web"},
                                             {"sv", "-w", "30", "start", "/scan/web"},
                                             {"sv", "status", "/scan/web"},
                                             {"sv", "-w", "30", "down", "/scan/web"}});
  CHECK(runit.log_path(context, "web") == "/st/log/web/current");

  FakeRunner s6runner;
  auto s6context = context_for(s6runner, Scope::user, "/scan");
  const auto& s6 = tool_named("s6");
  CHECK(s6.start(s6context, "web").ok());
  CHECK(s6.stop(s6context, "web").ok());
  CHECK(s6runner.commands == std::vector<Argv>{{"s6-svok", "/scan/web"},
                                               {"s6-svc", "-u", "-wu", "-T", "30000", "/scan/web"},
                                               {"s6-svok", "/scan/web"},
                                               {"s6-svc", "-d", "-wD", "-T", "30000", "/scan/web"}});
  s6runner.answer({"s6-svscanctl", "-a"}, 100, "s6-svscanctl: fatal: unable to control /scan: supervisor not listening");
  bool started = false;
  CHECK(s6.activate(s6context, started).error.find("is s6-svscan running on /scan?") != std::string::npos);
}

TEST_CASE("deployment records round-trip, and a redeploy is compared file by file") {
  DeploymentRecord previous;
  previous.manager = "runit";
  previous.scope = Scope::user;
  previous.root = "/scan";
  previous.services = {{"a", "a", true, {}, ""}, {"b", "b", true, {"a"}, ""}, {"c", "c", false, {}, ""}};
  previous.files = {{"a/run", content_hash("A"), 0755, "", "a"},
                    {"b/run", content_hash("B"), 0755, "", "b"},
                    {"c/run", content_hash("C"), 0755, "", "c"}};
  std::string error;
  const auto again = record_from_json(record_to_json(previous), error);
  REQUIRE(again);
  CHECK(error.empty());
  CHECK(again->files == previous.files);
  CHECK(again->services.size() == 3);
  CHECK(again->services[1].dependencies == std::vector<std::string>{"a"});
  CHECK_FALSE(again->services[2].autostart);

  DeploymentRecord next = previous;
  next.services = {{"a", "a", true, {}, ""}, {"b", "b", true, {"a"}, ""}, {"d", "d", true, {}, ""}};
  next.files = {{"a/run", content_hash("A"), 0755, "", "a"},
                {"b/run", content_hash("B2"), 0755, "", "b"},
                {"d/run", content_hash("D"), 0755, "", "d"}};
  const auto changes = compare_deployments(&previous, next);
  CHECK(changes.added == std::vector<std::string>{"d"});
  CHECK(changes.removed == std::vector<std::string>{"c"});
  CHECK(changes.changed == std::vector<std::string>{"b"});
  CHECK(changes.unchanged == std::vector<std::string>{"a"});

  CHECK_FALSE(record_from_json(nlohmann::json{{"version", 2}}, error));
  CHECK(error.find("version 1") != std::string::npos);
  CHECK_FALSE(record_from_json(nlohmann::json{{"version", 1}}, error));
  CHECK(error.find("not a valid deployment record") == 0);
}

TEST_CASE("deploy and undeploy drive the tool in dependency order, leaving unchanged services alone") {
  const auto root = fs::temp_directory_path() / ("nixpm-deploy-" + std::to_string(::getpid()));
  fs::remove_all(root);
  FakeRunner runner;
  const auto& tool = tool_named("sysvinit");
  auto context = context_for(runner, Scope::user, root);
  config::Definitions definitions;
  for (const char* name : {"db", "web", "cron"}) {
    config::InstanceSpec spec;
    spec.name = name;
    definitions.instances.push_back(spec);
  }
  definitions.instances[1].dependencies.push_back({"db", {}});
  definitions.instances[2].autostart = false;
  Generated generated;
  generated.start_order = {"db", "cron", "web"};
  generated.files = {{"init.d/db", "db v1", 0755}, {"init.d/web", "web v1", 0755}, {"init.d/cron", "cron", 0755},
                     {"rc2.d/S01db", "", 0644, "../init.d/db"}};
  std::vector<std::string> lines;
  auto first = deploy(tool, context, generated, definitions, nullptr, [&](const std::string& l) { lines.push_back(l); });
  CHECK(first.errors.empty());
  const auto init = (root / "init.d").string();
  CHECK(runner.commands == std::vector<Argv>{{init + "/db", "start"}, {init + "/web", "start"}});
  CHECK(lines == std::vector<std::string>{"started db", "started web"});
  CHECK(fs::is_symlink(root / "rc2.d" / "S01db"));
  CHECK(fs::exists(root / "init.d" / "cron"));

  // web changes, cron goes: cron and web are stopped (dependents first), db is not touched.
  runner.commands.clear();
  definitions.instances.pop_back();
  generated.start_order = {"db", "web"};
  generated.files = {{"init.d/db", "db v1", 0755}, {"init.d/web", "web v2", 0755}, {"rc2.d/S01db", "", 0644, "../init.d/db"}};
  auto second = deploy(tool, context, generated, definitions, &first.record, {});
  CHECK(second.errors.empty());
  CHECK(second.changes.unchanged == std::vector<std::string>{"db"});
  CHECK(second.changes.changed == std::vector<std::string>{"web"});
  CHECK(second.changes.removed == std::vector<std::string>{"cron"});
  CHECK(runner.commands == std::vector<Argv>{{init + "/web", "stop"}, {init + "/cron", "stop"}, {init + "/web", "start"}});
  CHECK_FALSE(fs::exists(root / "init.d" / "cron"));
  std::ifstream web(root / "init.d" / "web");
  std::string text((std::istreambuf_iterator<char>(web)), std::istreambuf_iterator<char>());
  CHECK(text == "web v2");

  // A failing tool is reported, and the rest still happens.
  runner.commands.clear();
  runner.answer({init + "/web", "stop"}, 1, "web: cannot stop\n");
  const auto errors = undeploy(tool, context, second.record, {});
  CHECK(runner.commands == std::vector<Argv>{{init + "/web", "stop"}, {init + "/db", "stop"}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == init + "/web stop: exited 1: web: cannot stop");
  CHECK_FALSE(fs::exists(root / "init.d"));
  CHECK_FALSE(fs::exists(root / "rc2.d"));
  fs::remove_all(root);
}
