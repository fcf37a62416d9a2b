// The cygrunsrv adapter: the install parameters as cygrunsrv.sh, the <name>.sh wrappers, golden files,
// the loss report and overrides.cygrunsrv.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

using namespace nixpm;

namespace {

const managers::ManagerAdapter& cygrunsrv() {
  return *managers::find_manager("cygrunsrv");
}

managers::Generated generate(std::string_view yaml) {
  return testing::generate_yaml("cygrunsrv", yaml);
}

using testing::contains;

}  // namespace

TEST_CASE("golden: cygrunsrv") {
  testing::check_golden(
      cygrunsrv().generate(testing::load_golden_fixture(testing::full_fixture()), testing::golden_options()),
      "cygrunsrv", "full");
  testing::check_golden(cygrunsrv().generate(testing::load_golden_fixture(testing::webapps_fixture()),
                                             testing::golden_options()),
                        "cygrunsrv", "webapps");
}

TEST_CASE("cygrunsrv: one --install per instance in dependency order; stop and remove go the other way") {
  const auto generated = generate(R"(
instances:
  web:
    description: The web server
    process: /usr/bin/web
    args: ["--title", "it's web", "say \"hi\"", "plain", "two words", ""]
    environment: { PORT: 80 }
    dependencies: [db]
    stopSignal: INT
    user: www
    restart: never
  db: { daemon: /usr/sbin/dbd, args: [-d], autostart: false, restart: never }
)");
  CHECK(generated.start_order == std::vector<std::string>{"nixpm-db", "nixpm-web"});
  CHECK(testing::find_generated(generated, "cygrunsrv.sh")->mode == 0755);
  const auto script = testing::generated_content(generated, "cygrunsrv.sh");
  CHECK(contains(script,
                 "  cygrunsrv --install nixpm-db \\\n    --path /usr/sbin/dbd \\\n    --args -d \\\n"
                 "    --chdir /var \\\n    --disp 'nixpm db' \\\n    --type manual \\\n"
                 "    --pidfile /var/run/db.pid \\\n"));
  // cygrunsrv splits --args at spaces and takes one level of '...' or "...".
  CHECK(contains(script,
                 "    --args '--title \"it'\\''s web\" '\\''say \"hi\"'\\'' plain '\\''two words'\\'' "
                 "'\\'''\\''' \\\n"));
  CHECK(contains(script,
                 "    --env PORT=80 \\\n    --dep nixpm-db \\\n    --disp 'nixpm web' \\\n"
                 "    --desc 'The web server' \\\n    --user www \\\n    --termsig INT \\\n"));
  CHECK(contains(script,
                 "    --stdout /var/log/web.log \\\n    --stderr /var/log/web.log \\\n    --shutdown\n"));
  // Only what starts by default is started; stop and remove go dependents first.
  CHECK(contains(script, "start_services() {\n  cygrunsrv --start nixpm-web\n}\n"));
  CHECK(contains(
      script,
      "  cygrunsrv --stop nixpm-web 2>/dev/null || true\n  cygrunsrv --stop nixpm-db 2>/dev/null || true\n"));
  CHECK(contains(script, "  stop_services\n  cygrunsrv --remove nixpm-web\n  cygrunsrv --remove nixpm-db\n"));
  CHECK_FALSE(contains(script, "here="));
  CHECK(generated.files.size() == 1);
  CHECK(generated.losses.empty());
}

TEST_CASE(
    "cygrunsrv: a <name>.sh wrapper carries files, initialize, path, umask, nice and unquotable arguments") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    args: ["both ' and \""]
    path: [/opt/web]
    umask: "027"
    nice: 2
    initialize: "true"
    files: { "/etc/web.conf": "x\n" }
    restart: never
)");
  const auto wrapper = testing::generated_content(generated, "web.sh");
  CHECK(testing::find_generated(generated, "web.sh")->mode == 0755);
  CHECK(contains(
      wrapper,
      "printf '%s' 'x\n' > /etc/web.conf\numask 027\nexport PATH=/opt/web/bin:/opt/web/sbin:\"$PATH\"\n"
      "exec nice -n 2 /bin/sh -ec 'true\nexec \"$0\" \"$@\"' /usr/bin/web 'both '\\'' and \"'\n"));
  const auto script = testing::generated_content(generated, "cygrunsrv.sh");
  CHECK(contains(script, "here=$(cd \"$(dirname \"$0\")\" && pwd)\n"));
  CHECK(contains(script, "    --path /bin/sh \\\n    --args \"\\\"$here/web.sh\\\"\" \\\n"));
  CHECK(
      testing::loss_notes(generated.losses) ==
      std::vector<std::string>{"web: path: emulated: PATH exported by the <name>.sh wrapper",
                               "web: umask: emulated: umask in the <name>.sh wrapper",
                               "web: nice: emulated: nice -n in the <name>.sh wrapper",
                               "web: initialize: emulated: /bin/sh -ec in the <name>.sh wrapper, which then "
                               "execs the program (as --user, not root)",
                               "web: files: emulated: written by the <name>.sh wrapper before every start"});
}

TEST_CASE("cygrunsrv: restarts and readiness are lost, and said so") {
  const auto generated = generate(R"(
instances:
  job: { type: oneshot, process: /bin/job, restart: never }
  web: { process: /usr/bin/web, readiness: { tcp: 80 }, stopTimeout: 3 }
)");
  CHECK(testing::loss_notes(generated.losses) ==
        std::vector<std::string>{
            "job: oneshot: lost: a service that stops when its program ends; dependents do not wait for its "
            "success",
            "web: restart: lost: cygrunsrv does not restart a program that exits",
            "web: stopTimeout: lost: cygrunsrv waits for the program without a SIGKILL deadline",
            "web: readiness.tcp: lost: the service counts as running once started"});
}

TEST_CASE("cygrunsrv: overrides.cygrunsrv takes nix-processmgmt's createCygrunsrvParams keys") {
  const auto generated = generate(R"(
instances:
  web:
    process: /usr/bin/web
    environment: { A: 1, B: 2 }
    restart: never
    overrides:
      cygrunsrv:
        dependencies: [Tcpip]
        environment: { A: ~, C: 3 }
        displayName: Web
        password: secret
        terminateOnShutdown: false
        extraArguments: [--neverexits]
)");
  const auto script = testing::generated_content(generated, "cygrunsrv.sh");
  CHECK(contains(
      script,
      "    --env B=2 \\\n    --env C=3 \\\n    --dep Tcpip \\\n    --disp Web \\\n    --passwd secret \\\n"));
  CHECK(contains(script, "    --stderr /var/log/web.log \\\n    --neverexits\n"));
  CHECK_FALSE(contains(script, "--shutdown"));
  CHECK_THROWS_WITH(
      generate(R"(
instances:
  web: { process: /usr/bin/web, overrides: { cygrunsrv: { dependecies: [Tcpip] } } }
)"),
      Catch::Contains("unknown key overrides.cygrunsrv.dependecies (known: args, dependencies"));
  CHECK_THROWS_WITH(generate(R"(
instances:
  web: { process: /usr/bin/web, overrides: { cygrunsrv: { dependencies: Tcpip } } }
)"),
                    Catch::Contains("overrides.cygrunsrv.dependencies must be a list"));
}
