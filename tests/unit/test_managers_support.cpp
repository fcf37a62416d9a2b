// adapter_support: quoting, order, the property catalogue, losses, paths and overrides; the registry and
// the capability tables every adapter must fill.

#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include "config/managers/adapter_support.hpp"
#include "config/managers/generated_output.hpp"
#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

namespace nixpm::managers {
namespace {

using testing::definitions_from_yaml;
namespace s = support;

TEST_CASE("shell_quote leaves plain words alone and single-quotes the rest") {
  CHECK(s::shell_quote("/usr/bin/python3") == "/usr/bin/python3");
  CHECK(s::shell_quote("a=b,c:d@e%f+g") == "a=b,c:d@e%f+g");
  CHECK(s::shell_quote("") == "''");
  CHECK(s::shell_quote("daemon off;") == "'daemon off;'");
  CHECK(s::shell_quote("it's") == "'it'\\''s'");
  CHECK(s::shell_quote("$HOME") == "'$HOME'");
  CHECK(s::shell_quote("a\nb") == "'a\nb'");
  CHECK(s::shell_command({"/bin/sh", "-c", "echo $1", "x y"}) == "/bin/sh -c 'echo $1' 'x y'");
}

TEST_CASE("fill_template replaces every marker; env_prefix carries names sh cannot export") {
  CHECK(s::fill_template("@A@ and @A@, @B@", {{"A", "x"}, {"B", "@A@"}}) == "x and x, @A@");
  CHECK(s::is_shell_name("_ok1"));
  CHECK_FALSE(s::is_shell_name("my-var"));
  CHECK_FALSE(s::is_shell_name("1st"));
  const auto definitions = definitions_from_yaml(R"(
instances:
  a: { process: /bin/true, environment: { "my-var": "x y", OK: 1 } }
  b: { process: /bin/true, environment: { OK: 1 } }
)");
  CHECK(s::env_prefix(definitions.instances[0]) == std::vector<std::string>{"/usr/bin/env", "my-var=x y"});
  CHECK(s::env_prefix(definitions.instances[1]).empty());
}

TEST_CASE("write_files_script writes each file byte for byte") {
  const auto definitions = definitions_from_yaml(R"(
instances:
  a:
    process: /bin/true
    files:
      "etc/a.conf": "no newline at the end, it's kept"
)");
  CHECK(s::write_files_script(definitions.instances[0], "  ") ==
        "  mkdir -p /var/etc\n"
        "  printf '%s' 'no newline at the end, it'\\''s kept' > /var/etc/a.conf\n");
}

TEST_CASE("dependency_order puts dependencies first and measures depth") {
  const auto definitions = definitions_from_yaml(R"(
instances:
  top: { process: /bin/true, dependencies: [middle, side] }
  middle: { process: /bin/true, dependencies: [base] }
  base: { process: /bin/true }
  side: { process: /bin/true }
)");
  const auto ordering = s::dependency_order(definitions);
  std::vector<std::string> names;
  for (auto index : ordering.start_order) names.push_back(definitions.instances[index].name);
  CHECK(names == std::vector<std::string>{"base", "side", "middle", "top"});
  CHECK(ordering.depth == std::vector<int>{2, 1, 0, 0});
  CHECK(ordering.max_depth == 2);
}

TEST_CASE("used_properties names what an instance's meaning depends on, in catalogue order") {
  const auto definitions = definitions_from_yaml(R"(
instances:
  plain: { process: /bin/true }
  quiet: { process: /bin/true, restart: never }
  busy:
    daemon: /usr/sbin/d
    environment: { A: 1 }
    umask: "022"
    restartDelay: 1
    stopTimeout: 3
    readiness: pidFile
  once: { process: /bin/true, type: oneshot, restart: never, successExitCodes: [0, 1] }
  ready: { process: /bin/true, readiness: { tcp: 80 }, autostart: false }
)");
  CHECK(s::used_properties(definitions.instances[0]) ==
        std::vector<std::string>{"foregroundProcess", "restart"});
  CHECK(s::used_properties(definitions.instances[1]) == std::vector<std::string>{"foregroundProcess"});
  // restartDelay 1 and pidFile readiness of a daemon are the defaults: not "used".
  CHECK(s::used_properties(definitions.instances[2]) ==
        std::vector<std::string>{"daemon", "environment", "umask", "restart", "stopTimeout"});
  CHECK(s::used_properties(definitions.instances[3]) ==
        std::vector<std::string>{"oneshot", "successExitCodes"});
  CHECK(s::used_properties(definitions.instances[4]) ==
        std::vector<std::string>{"foregroundProcess", "restart", "readiness.tcp", "autostart"});
}

TEST_CASE("losses are the used properties a table marks emulated or lost; the user scope loses user") {
  const auto definitions = definitions_from_yaml(R"(
instances:
  a: { process: /bin/true, umask: "027", nice: 3, user: nobody, restart: never }
)");
  const std::vector<PropertySupport> table{
      {"foregroundProcess", Support::supported, ""},
      {"umask", Support::lost, "no umask"},
      {"nice", Support::emulated, "via nice"},
      {"user", Support::supported, ""},
  };
  GenerateOptions options;
  CHECK(s::losses_for(definitions, table, options) ==
        std::vector<Loss>{{"a", "umask", Support::lost, "no umask"},
                          {"a", "nice", Support::emulated, "via nice"}});
  options.scope = Scope::user;
  const auto losses = s::losses_for(definitions, table, options);
  REQUIRE(losses.size() == 3);
  CHECK(losses[2].property == "user");
  CHECK(losses[2].support == Support::lost);
  // A property missing from a table is never dropped silently.
  CHECK(s::losses_for(definitions, {}, GenerateOptions{}).size() == 4);
}

TEST_CASE("paths default under the state dir and follow the given directories") {
  const auto definitions = definitions_from_yaml(R"(
instances:
  fg: { process: /bin/true }
  own: { process: /bin/true, pidFile: /var/run/own.pid, readiness: pidFile }
  d: { daemon: /usr/sbin/d }
)");
  GenerateOptions options;
  options.state_dir = "/srv/state";
  CHECK(s::pid_file(definitions.instances[0], options) == "/srv/state/run/fg.pid");
  CHECK(s::log_file(definitions.instances[0], options) == "/srv/state/log/fg.log");
  CHECK(s::working_directory(definitions.instances[0], options) == "/srv/state");
  options.runtime_dir = "/var/run";
  CHECK(s::pid_file(definitions.instances[2], options) == "/var/run/d.pid");  // the loader's default
  CHECK(s::tracking_pid_file(definitions.instances[0], options, "m") == "/var/run/fg.pid");
  // The process writes /var/run/own.pid itself: the manager keeps its own beside it.
  CHECK(s::tracking_pid_file(definitions.instances[1], options, "m") == "/var/run/own.m.pid");
  CHECK(s::state_directories(options) == std::vector<std::string>{"/srv/state", "/var/run", "/srv/state/log",
                                                                  "/srv/state/tmp", "/srv/state/lib",
                                                                  "/srv/state/cache"});
}

TEST_CASE("overrides are looked up by manager and must be maps of scalars") {
  const auto definitions = definitions_from_yaml(R"(
instances:
  a:
    process: /bin/true
    overrides:
      supervisord: { startretries: 3, user: ~ }
      systemd: [not, a, map]
)");
  const auto& spec = definitions.instances[0];
  CHECK(s::overrides_for(spec, "runit") == nullptr);
  const auto entries = s::override_entries(spec, "supervisord");
  REQUIRE(entries.size() == 2);
  CHECK(s::override_scalar(spec, "supervisord", entries[0].first, *entries[0].second) == "3");
  CHECK(entries[1].second->is_null());
  CHECK_THROWS_WITH(s::override_entries(spec, "systemd"),
                    "instance 'a': overrides.systemd must be a map of settings, not array");
  CHECK_THROWS_WITH(
      s::override_scalar(spec, "supervisord", "x", nlohmann::json::array()),
      "instance 'a': overrides.supervisord.x must be a string, a number or a boolean, not array");
}

TEST_CASE("every registered adapter declares every catalogue property exactly once") {
  std::set<std::string> catalogue;
  for (const auto& property : s::property_catalogue()) catalogue.insert(std::string(property.name));
  for (const auto* manager : all_managers()) {
    INFO("manager " << manager->name());
    std::multiset<std::string> declared;
    for (const auto& row : manager->capabilities()) {
      declared.insert(std::string(row.property));
      INFO("property " << row.property);
      CHECK_FALSE(row.note.empty());
    }
    CHECK(std::set<std::string>(declared.begin(), declared.end()) == catalogue);
    CHECK(declared.size() == catalogue.size());
    CHECK_FALSE(manager->description().empty());
  }
}

TEST_CASE("the registry finds managers by name and lists them for errors") {
  REQUIRE(find_manager("systemd") != nullptr);
  CHECK(find_manager("systemd")->name() == "systemd");
  CHECK(find_manager("systemdd") == nullptr);
  CHECK(known_manager_names().starts_with("systemd, supervisord, sysvinit, bsdrc"));
}

TEST_CASE("describe_loss reads as one report line") {
  CHECK(describe_loss({"nginx", "umask", Support::lost, "no such key"}, "launchd") ==
        "nginx: umask: lost on launchd: no such key");
}

TEST_CASE("the capability table has a row per property and a column per manager") {
  const auto table = capability_table_markdown();
  CHECK(table.starts_with("| property | systemd | supervisord | sysvinit | bsdrc |"));
  // The rows go on with the other managers' columns.
  CHECK(table.find("\n| `foregroundProcess` | supported | supported | emulated | emulated |") !=
        std::string::npos);
  CHECK(table.find("\n| `umask` | supported | supported | supported | supported |") != std::string::npos);
  const auto rows = std::count(table.begin(), table.end(), '\n');
  CHECK(rows == static_cast<long>(s::property_catalogue().size()) + 2);
}

}  // namespace
}  // namespace nixpm::managers
