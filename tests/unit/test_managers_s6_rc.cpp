// The s6-rc adapter: source definition directories (longrun pipelines with an s6-log logger, oneshots, the
// nixpm bundle), golden files, the loss report and overrides.s6-rc.
#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/managers/manager_adapter.hpp"
#include "config/managers/service_directory.hpp"
#include "unit/support/golden.hpp"

using namespace nixpm;

namespace {

const managers::ManagerAdapter& s6_rc() {
  return *managers::find_manager("s6-rc");
}

managers::Generated generate(std::string_view yaml) {
  return testing::generate_yaml("s6-rc", yaml);
}

using testing::contains;

}  // namespace

TEST_CASE("golden: s6-rc") {
  testing::check_golden(
      s6_rc().generate(testing::load_golden_fixture(testing::full_fixture()), testing::golden_options()),
      "s6-rc", "full");
  testing::check_golden(
      s6_rc().generate(testing::load_golden_fixture(testing::webapps_fixture()), testing::golden_options()),
      "s6-rc", "webapps");
}

TEST_CASE("s6-rc: a longrun pipes into its s6-log logger; the pipeline is bundled under the instance name") {
  const auto generated = generate(R"(
instances:
  db: { process: /usr/bin/db, stopSignal: INT, stopTimeout: 3, startTimeout: 5 }
  web: { process: /usr/bin/web, dependencies: [db, setup], restart: always }
  setup: { type: oneshot, process: /bin/setup, args: ["a \"b\" \\c"], autostart: false }
)");
  CHECK(generated.start_order == std::vector<std::string>{"db", "setup", "web"});
  CHECK(testing::generated_content(generated, "db-srv/type") == "longrun\n");
  CHECK(testing::generated_content(generated, "db-srv/producer-for") == "db-log\n");
  CHECK(testing::generated_content(generated, "db-srv/down-signal") == "SIGINT\n");
  CHECK(testing::generated_content(generated, "db-srv/timeout-kill") == "3000\n");
  CHECK(testing::generated_content(generated, "db-srv/timeout-up") == "5000\n");
  CHECK(testing::generated_content(generated, "db-log/type") == "longrun\n");
  CHECK(testing::generated_content(generated, "db-log/consumer-for") == "db-srv\n");
  CHECK(testing::generated_content(generated, "db-log/pipeline-name") == "db\n");
  CHECK(testing::generated_content(generated, "db-log/notification-fd") == "3\n");
  CHECK(contains(testing::generated_content(generated, "db-log/run"), "exec s6-log -d3 -b n3 s10485760 T /var/log/db\n"));
  // s6-rc orders the start itself: no waiting in run.
  CHECK(testing::generated_content(generated, "web-srv/dependencies") == "db\nsetup\n");
  CHECK_FALSE(contains(testing::generated_content(generated, "web-srv/run"), "s6-svwait"));
  CHECK(testing::find_generated(generated, "web-srv/down") == nullptr);
  CHECK(testing::generated_content(generated, "nixpm/type") == "bundle\n");
  CHECK(testing::generated_content(generated, "nixpm/contents") == "db\nweb\n");

  CHECK(testing::generated_content(generated, "setup/type") == "oneshot\n");
  CHECK(testing::find_generated(generated, "setup-log/type") == nullptr);
  const auto up = testing::generated_content(generated, "setup/up");
  CHECK(up.starts_with("/bin/sh -c \"# setup: setup\n"));
  const auto script = managers::service_directory::script_of_execline_sh_command(up);
  REQUIRE(script);
  CHECK(contains(*script, "exec >> /var/log/setup.log 2>&1\n"));
  CHECK(contains(
      *script, "/bin/setup 'a \"b\" \\c'\nstatus=$?\ncase $status in 0) exit 0 ;; esac\nexit \"$status\"\n"));
  // In execline's quoting, backslashes and double quotes are escaped.
  CHECK(contains(up, "/bin/setup 'a \\\"b\\\" \\\\c'"));
  CHECK(testing::loss_notes(generated.losses) ==
        std::vector<std::string>{
            "setup: restart: lost: s6-rc runs a oneshot's up once per start; a failed one is not retried"});
}

TEST_CASE("s6-rc: names that would collide or that s6-rc reserves are refused") {
  CHECK_THROWS_WITH(
      generate(R"(
instances:
  web: { process: /usr/bin/web }
  web-log: { process: /usr/bin/log }
)"),
      Catch::Contains("instances 'web' and 'web-log' both need the s6-rc service name 'web-log'"));
  CHECK_THROWS_WITH(generate(R"(
instances:
  s6rc-web: { process: /usr/bin/web }
)"),
                    Catch::Contains("s6-rc reserves names starting with s6rc- and s6-rc-"));
  CHECK_THROWS_WITH(generate(R"(
instances:
  nixpm: { process: /usr/bin/web }
)"),
                    Catch::Contains("uses the name 'nixpm' for the bundle"));
}

TEST_CASE("s6-rc: overrides.s6-rc files apply to the instance's own service definition") {
  const auto generated = generate(R"(
instances:
  web: { process: /usr/bin/web, overrides: { s6-rc: { timeout-up: 30000, flag-essential: true, "data/x": "y" } } }
  job: { type: oneshot, process: /bin/job, overrides: { s6-rc: { down: "/bin/true" } } }
)");
  CHECK(testing::generated_content(generated, "web-srv/timeout-up") == "30000\n");
  CHECK(testing::generated_content(generated, "web-srv/flag-essential").empty());
  CHECK(testing::generated_content(generated, "web-srv/data/x") == "y");
  CHECK(testing::generated_content(generated, "job/down") == "/bin/true");
}

TEST_CASE("s6-rc: execline quoting round-trips any script") {
  namespace sd = managers::service_directory;
  for (std::string script : {"echo \"a\" \\ b\n", "", "x\"\n\\\\\"", "printf '%s' \"$HOME\"\n"})
    CHECK(sd::script_of_execline_sh_command(sd::execline_sh_command(script)) == script);
  CHECK_FALSE(sd::script_of_execline_sh_command("/bin/true\n"));
}
