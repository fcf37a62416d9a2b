// `nixpmctl check`: the pure pieces (quoting, activation order, text and JSON output) and the verb end
// to end through client::run, which must work without any daemon.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "client/check_command.hpp"
#include "client/commands.hpp"
#include "config/loader.hpp"

namespace c = nixpm::client;
namespace cfg = nixpm::config;
using Json = nlohmann::json;

namespace {

const std::string kFixtures = NIXPM_FIXTURES_DIR;

const char* const kDiamond = R"(
instances:
  app: { process: /bin/app, args: ["--name", "my app", "it's"], dependencies: [db, cache] }
  db: { process: /bin/db }
  cache: { process: /bin/cache, dependencies: [db] }
  tool: { process: /bin/tool }
)";

cfg::Definitions load(const char* yaml) {
  auto result = cfg::load_definitions_text(yaml, "test.yaml", {"/st", "/st/run", "/st/log", "/st/tmp", "/st/cache"});
  INFO(result.report());
  REQUIRE(result.ok());
  return *result.definitions;
}

struct Outcome {
  int status;
  std::string out;
  std::string err;
};

// nixpmctl with `args`, in user mode with its directories under a scratch dir, and no daemon.
Outcome run_nixpmctl(const std::vector<std::string>& args, const std::filesystem::path& home) {
  const std::map<std::string, std::string> env = {
      {"XDG_STATE_HOME", (home / "state").string()},
      {"XDG_CONFIG_HOME", (home / "config").string()},
      {"XDG_RUNTIME_DIR", (home / "runtime").string()},
  };
  auto lookup = [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  std::ostringstream out, err;
  c::Terminal term{out, err, false};
  const int status = c::run(args, lookup, 1000, term);
  return {status, out.str(), err.str()};
}

class ScratchDir {
 public:
  ScratchDir() {
    char dir_template[] = "/tmp/nixpmctl-check-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    path_ = dir_template;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("check: arguments are shown shell-quoted only when needed", "[check]") {
  CHECK(c::shell_quote("/usr/bin/python3") == "/usr/bin/python3");
  CHECK(c::shell_quote("--bind=127.0.0.1:80") == "--bind=127.0.0.1:80");
  CHECK(c::shell_quote("daemon off;") == "'daemon off;'");
  CHECK(c::shell_quote("it's") == "'it'\\''s'");
  CHECK(c::shell_quote("") == "''");
  CHECK(c::shell_quote("$HOME") == "'$HOME'");
}

TEST_CASE("check: the activation order lists levels that start in parallel", "[check]") {
  const auto definitions = load(kDiamond);
  CHECK(c::activation_order(definitions) ==
        std::vector<std::vector<std::string>>{{"db", "tool"}, {"cache"}, {"app"}});
  CHECK(c::activation_order(cfg::Definitions{}).empty());
}

TEST_CASE("check: the text output shows each command line, dependencies and the levels", "[check]") {
  const std::string text = c::render_check_text(load(kDiamond));
  CHECK_THAT(text, Catch::StartsWith("test.yaml: 4 instances\n"));
  CHECK_THAT(text, Catch::Contains("app\n  command:      /bin/app --name 'my app' 'it'\\''s'\n"
                                   "  dependencies: db, cache\n"));
  CHECK_THAT(text, Catch::Contains("db\n  command:      /bin/db\n  dependencies: -\n"));
  CHECK_THAT(text, Catch::EndsWith("start in parallel):\n  1: db tool\n  2: cache\n  3: app\n"));
}

TEST_CASE("check: the JSON output is the model plus the activation order", "[check]") {
  const Json j = c::check_json(load(kDiamond));
  CHECK(j["source"] == "test.yaml");
  REQUIRE(j["instances"].size() == 4);
  CHECK(j["instances"][0]["name"] == "app");
  CHECK(j["instances"][0]["arguments"] == Json{"--name", "my app", "it's"});
  CHECK(j["activationOrder"] == Json::parse(R"([["db", "tool"], ["cache"], ["app"]])"));
}

TEST_CASE("check: the verb runs without a daemon and exits 0 for valid definitions", "[check]") {
  ScratchDir home;
  const auto outcome =
      run_nixpmctl({"check", "-c", kFixtures + "/definitions/valid/webapps.yaml", "--no-executable-check"}, home.path());
  INFO(outcome.err);
  CHECK(outcome.status == 0);
  CHECK_THAT(outcome.out, Catch::Contains("Activation order"));
}

TEST_CASE("check --json prints the resolved model with the state dir of the options", "[check]") {
  ScratchDir home;
  const auto outcome = run_nixpmctl({"check", "--json", "--state-dir", "/srv/state", "--no-executable-check", "-c",
                                     kFixtures + "/definitions/valid/every_property.yaml"},
                                    home.path());
  INFO(outcome.err);
  REQUIRE(outcome.status == 0);
  const Json j = Json::parse(outcome.out);
  CHECK(j["activationOrder"].size() >= 2);
  bool found = false;
  for (const auto& instance : j["instances"]) {
    if (instance["name"] != "server1") continue;
    found = true;
    CHECK(instance["directory"] == "/srv/state/lib/server1");
    CHECK(instance["ids"].contains("ports"));
  }
  CHECK(found);
  // check never saves id assignments: nothing is written under the state dir.
  CHECK_FALSE(std::filesystem::exists("/srv/state"));
  CHECK_FALSE(std::filesystem::exists(home.path() / "state"));
}

TEST_CASE("check: invalid definitions print every error and exit 2", "[check]") {
  ScratchDir home;
  const std::string file = kFixtures + "/definitions/invalid/several_errors.yaml";
  const auto outcome = run_nixpmctl({"check", "-c", file}, home.path());
  CHECK(outcome.status == 2);
  CHECK(outcome.out.empty());
  CHECK_THAT(outcome.err, Catch::Contains(file + ":5:33: error: ") && Catch::Contains(file + ":13:29: error: ") &&
                              Catch::EndsWith("nixpmctl: check: " + file + " is not valid\n"));
}

TEST_CASE("check: commands missing on this machine are errors unless --no-executable-check", "[check]") {
  ScratchDir home;
  const auto file = home.path() / "p.yaml";
  {
    std::ofstream(file) << "instances:\n  x: { process: /nonexistent/bin/x }\n";
  }
  const auto strict = run_nixpmctl({"check", "-c", file.string()}, home.path());
  CHECK(strict.status == 2);
  CHECK_THAT(strict.err, Catch::Contains(file.string() + ":2:17: error: ") && Catch::Contains("/nonexistent/bin/x"));
  CHECK(run_nixpmctl({"check", "-c", file.string(), "--no-executable-check"}, home.path()).status == 0);
}

TEST_CASE("check: the default definitions file is the mode's", "[check]") {
  ScratchDir home;
  const auto outcome = run_nixpmctl({"check"}, home.path());
  CHECK(outcome.status == 2);
  CHECK_THAT(outcome.err, Catch::Contains((home.path() / "config" / "nixpm" / "processes.yaml").string()));
}
