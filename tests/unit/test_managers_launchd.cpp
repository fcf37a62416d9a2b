// The launchd adapter: one plist per instance (daemons or agents), the /bin/sh wrapper for what launchd
// lacks, golden files, the loss report and overrides.launchd.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

using namespace nixpm;

namespace {

const managers::ManagerAdapter& launchd() {
  return *managers::find_manager("launchd");
}

managers::Generated generate(std::string_view yaml, managers::Scope scope = managers::Scope::system) {
  return testing::generate_yaml("launchd", yaml, scope);
}

using testing::contains;

}  // namespace

TEST_CASE("golden: launchd") {
  testing::check_golden(
      launchd().generate(testing::load_golden_fixture(testing::full_fixture()), testing::golden_options()),
      "launchd", "full");
  testing::check_golden(
      launchd().generate(testing::load_golden_fixture(testing::webapps_fixture()), testing::golden_options()),
      "launchd", "webapps");
}

TEST_CASE("golden: launchd user agents") {
  testing::check_golden(
      launchd().generate(testing::load_golden_fixture(testing::webapps_fixture(), managers::Scope::user),
                         testing::golden_options(managers::Scope::user)),
      "launchd", "webapps-user");
}

TEST_CASE("launchd: a plain process is a LaunchDaemon with its settings as plist keys") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    args: ["--name", "a <b> & c"]
    environment: { PORT: 80 }
    path: [/opt/web]
    directory: /srv/web
    umask: "022"
    nice: -3
    user: www
    restart: always
    restartDelay: 2.5
    stopTimeout: 0
)");
  CHECK(generated.start_order == std::vector<std::string>{"org.nixpm.web"});
  const auto plist = testing::generated_content(generated, "LaunchDaemons/org.nixpm.web.plist");
  CHECK(plist.starts_with(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\""));
  CHECK(contains(plist, "\t<key>Label</key>\n\t<string>org.nixpm.web</string>\n"));
  CHECK(contains(plist,
                 "\t<array>\n\t\t<string>/usr/bin/web</string>\n\t\t<string>--name</string>\n"
                 "\t\t<string>a &lt;b&gt; &amp; c</string>\n\t</array>\n"));
  CHECK(contains(plist,
                 "\t\t<key>PATH</key>\n\t\t<string>/opt/web/bin:/opt/web/sbin:/usr/bin:/bin:/usr/sbin:/sbin</"
                 "string>\n"));
  CHECK(contains(plist, "<key>WorkingDirectory</key>\n\t<string>/srv/web</string>"));
  CHECK(contains(plist, "<key>UserName</key>\n\t<string>www</string>"));
  CHECK(contains(plist, "<key>Umask</key>\n\t<integer>18</integer>"));
  CHECK(contains(plist, "<key>Nice</key>\n\t<integer>-3</integer>"));
  CHECK(contains(plist, "<key>KeepAlive</key>\n\t<true/>"));
  CHECK(contains(plist, "<key>ThrottleInterval</key>\n\t<integer>3</integer>"));
  // launchd reads ExitTimeOut 0 as "forever"; nixpm's 0 means SIGKILL at once.
  CHECK(contains(plist, "<key>ExitTimeOut</key>\n\t<integer>1</integer>"));
  CHECK(contains(plist, "<key>StandardOutPath</key>\n\t<string>/var/log/web.log</string>"));
  CHECK_FALSE(contains(plist, "/bin/sh"));
}

TEST_CASE("launchd: user agents, and what launchd cannot carry is reported") {
  const auto generated = generate(R"(
instances:
  db: { process: /usr/bin/db, readiness: { tcp: 5432 } }
  web: { process: /usr/bin/web, user: www, dependencies: [db], restart: never, autostart: false }
)",
                                  managers::Scope::user);
  const auto plist = testing::generated_content(generated, "LaunchAgents/org.nixpm.web.plist");
  CHECK_FALSE(contains(plist, "UserName"));
  CHECK_FALSE(contains(plist, "KeepAlive"));
  CHECK(contains(plist, "<key>RunAtLoad</key>\n\t<false/>\n\t<key>Disabled</key>\n\t<true/>"));
  CHECK(contains(testing::generated_content(generated, "LaunchAgents/org.nixpm.db.plist"),
                 "<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>"));
  CHECK(
      testing::loss_notes(generated.losses) ==
      std::vector<std::string>{
          "db: readiness.tcp: lost: launchd has no readiness (and orders no dependents)",
          "web: user: lost: user scope: everything runs as the user who runs the manager",
          "web: dependencies: lost: launchd has no dependency ordering: every job starts when it is loaded"});
}

TEST_CASE("launchd: files, a forking daemon, a stop signal and success codes go through a /bin/sh wrapper") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    args: [a]
    stopSignal: QUIT
    successExitCodes: [0, 3]
    initialize: "mkdir -p /tmp/web"
    files: { "/etc/web.conf": "port 80\n" }
  food: { daemon: /usr/sbin/food, pidFile: /run/food.pid }
)");
  const auto web = testing::generated_content(generated, "LaunchDaemons/org.nixpm.web.plist");
  CHECK(contains(
      web, "\t\t<string>/bin/sh</string>\n\t\t<string>-c</string>\n\t\t<string># web: the /bin/sh wrapper"));
  CHECK(contains(web,
                 "printf '%s' 'port 80\n' &gt; /etc/web.conf\n\"$@\" &amp;\nchild=$!\ntrap 'kill -s QUIT "
                 "\"$child\"' TERM\n"));
  CHECK(contains(web, "case $status in 0|3) exit 0 ;; esac\n"));
  // After the wrapper: $0, then initialize in the program's own process, then the program.
  CHECK(contains(
      web,
      "</string>\n\t\t<string>org.nixpm.web</string>\n\t\t<string>/bin/sh</string>\n\t\t<string>-ec</"
      "string>\n"
      "\t\t<string>mkdir -p /tmp/web\nexec \"$0\" \"$@\"</string>\n\t\t<string>/usr/bin/web</string>\n"));
  const auto food = testing::generated_content(generated, "LaunchDaemons/org.nixpm.food.plist");
  CHECK(contains(food, "rm -f /run/food.pid\n\"$@\" || exit $?\n"));
  CHECK(contains(food, "<string>org.nixpm.food</string>\n\t\t<string>/usr/sbin/food</string>\n\t</array>"));
}

TEST_CASE("launchd: overrides.launchd merges plist keys last") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    restart: on-failure
    overrides:
      launchd:
        KeepAlive: { NetworkState: true }
        SoftResourceLimits: { NumberOfFiles: 4096 }
        StandardErrorPath: ~
        LowPriorityIO: true
        Weight: 0.5
)");
  const auto plist = testing::generated_content(generated, "LaunchDaemons/org.nixpm.web.plist");
  CHECK(contains(plist,
                 "<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n"
                 "\t\t<key>NetworkState</key>\n\t\t<true/>\n\t</dict>"));
  CHECK(contains(
      plist,
      "<key>SoftResourceLimits</key>\n\t<dict>\n\t\t<key>NumberOfFiles</key>\n\t\t<integer>4096</integer>"));
  CHECK_FALSE(contains(plist, "StandardErrorPath"));
  // New keys come last, in the overrides' own (alphabetical) order.
  CHECK(contains(plist, "<key>LowPriorityIO</key>\n\t<true/>\n\t<key>SoftResourceLimits</key>"));
  CHECK(contains(plist, "<key>Weight</key>\n\t<real>0.5</real>\n</dict>"));

  CHECK_THROWS_WITH(generate(R"(
instances:
  web: { process: /usr/bin/web, overrides: { launchd: [a] } }
)"),
                    Catch::Contains("overrides.launchd must be a map of plist keys"));
  CHECK_THROWS_WITH(generate(R"(
instances:
  web: { process: /usr/bin/web, overrides: { launchd: { Program: [a, ~] } } }
)"),
                    Catch::Contains("a property list has no null"));
  CHECK_THROWS_WITH(generate("instances:\n  web: { process: /usr/bin/web, args: [\"a\\x01\"] }\n"),
                    Catch::Contains("cannot hold the control character 1"));
}
