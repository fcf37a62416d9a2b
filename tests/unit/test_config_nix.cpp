// The Nix seam: running nix-instantiate (arguments, output capture, errors) and the Nix library in
// nix/ as nixpm loads it. The cases that need nix-instantiate pass with a warning when it is missing.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/loader.hpp"
#include "config/nix_evaluator.hpp"

namespace cfg = nixpm::config;
using Json = nlohmann::json;

namespace {

const std::string kFixtures = std::string(NIXPM_FIXTURES_DIR) + "/nix/";
const std::string kExample = std::string(NIXPM_FIXTURES_DIR) + "/../../examples/webapps/processes.nix";

cfg::DirectoryVariables dirs() { return {"/st", "/st/run", "/st/log", "/st/tmp", "/st/cache"}; }

bool have_nix() {
  if (cfg::nix_available()) return true;
  WARN("nix-instantiate is not on PATH: not tested (install nix-bin)");
  return false;
}

Json evaluate(const std::string& fixture, bool force_disable_user_change = false) {
  const auto result = cfg::evaluate_nix_file(kFixtures + fixture, dirs(), force_disable_user_change);
  INFO(result.error);
  REQUIRE(result.json);
  return Json::parse(*result.json);
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A directory with a fake nix-instantiate (a shell script) to put on PATH.
class FakeNix {
 public:
  explicit FakeNix(const std::string& script) {
    char dir_template[] = "/tmp/nixpm-fake-nix-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    dir_ = dir_template;
    const auto program = dir_ / "nix-instantiate";
    std::ofstream(program) << "#!/bin/sh\n" << script << '\n';
    std::filesystem::permissions(program, std::filesystem::perms::owner_all);
  }
  ~FakeNix() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  FakeNix(const FakeNix&) = delete;
  FakeNix& operator=(const FakeNix&) = delete;
  std::string dir() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

}  // namespace

TEST_CASE("nix: nix-instantiate gets the documented arguments, unsplit, with no shell", "[nix]") {
  FakeNix fake(R"(for a in "$@"; do printf '"%s",' "$a"; done; printf '""')");
  ScopedEnv path("PATH", fake.dir().c_str());
  ScopedEnv library("NIXPM_NIX_LIBRARY", "");
  cfg::DirectoryVariables spaced{"/state dir", "/run", "/log", "/tmp", "/cache"};
  const auto result = cfg::evaluate_nix_file("/defs/processes.nix", spaced, true);
  INFO(result.error);
  REQUIRE(result.json);
  Json args = Json::parse("[" + *result.json + "]");
  args.erase(args.end() - 1);
  CHECK(args == Json{"--eval", "--strict", "--json", "--store", "dummy://", "/defs/processes.nix",
                     "--argstr", "stateDir", "/state dir", "--argstr", "runtimeDir", "/run",
                     "--argstr", "logDir", "/log", "--argstr", "tmpDir", "/tmp", "--argstr", "cacheDir", "/cache",
                     "--arg", "forceDisableUserChange", "true"});
}

TEST_CASE("nix: NIXPM_NIX_LIBRARY puts the library on the search path as <nixpm>", "[nix]") {
  FakeNix fake(R"(printf '%s ' "$@")");
  ScopedEnv path("PATH", fake.dir().c_str());
  ScopedEnv library("NIXPM_NIX_LIBRARY", "/opt/nixpm/nix");
  const auto result = cfg::evaluate_nix_file("/defs/processes.nix", dirs(), false);
  REQUIRE(result.json);
  CHECK_THAT(*result.json, Catch::Contains("-I nixpm=/opt/nixpm/nix /defs/processes.nix"));
}

TEST_CASE("nix: a failure with nothing on stderr reports the exit status; stdout is dropped", "[nix]") {
  FakeNix fake("echo '{\"partial\":'; exit 3");
  ScopedEnv path("PATH", fake.dir().c_str());
  const auto result = cfg::evaluate_nix_file("/defs/processes.nix", dirs(), false);
  CHECK_FALSE(result.json);
  CHECK(result.error == "nix-instantiate exited 3");
}

TEST_CASE("nix: without nix-instantiate on PATH evaluation explains what to install", "[nix]") {
  ScopedEnv path("PATH", "/nonexistent-dir");
  CHECK_FALSE(cfg::nix_available());
  const auto result = cfg::evaluate_nix_file(kFixtures + "directories.nix", dirs(), false);
  CHECK_FALSE(result.json);
  CHECK_THAT(result.error, Catch::Contains("nix-instantiate") && Catch::Contains("nix-bin"));
}

TEST_CASE("nix: the directory settings and forceDisableUserChange are passed as arguments", "[nix]") {
  if (!have_nix()) return;
  CHECK(evaluate("directories.nix") == Json{{"stateDir", "/st"},    {"runtimeDir", "/st/run"},
                                            {"logDir", "/st/log"},  {"tmpDir", "/st/tmp"},
                                            {"cacheDir", "/st/cache"}, {"forceDisableUserChange", false}});
  CHECK(evaluate("directories.nix", true)["forceDisableUserChange"] == true);
}

TEST_CASE("nix: a function that takes only some of the arguments is fine", "[nix]") {
  if (!have_nix()) return;
  CHECK(evaluate("no_ellipsis.nix") == Json{{"stateDir", "/st"}});
}

TEST_CASE("nix: output much larger than a pipe is read completely", "[nix]") {
  if (!have_nix()) return;
  const Json big = evaluate("large_output.nix")["big"];
  REQUIRE(big.size() == 30000);
  CHECK(big.back() == "line number 29999 of a long evaluation result");
}

TEST_CASE("nix: a syntax error is Nix's own message, naming file and line", "[nix]") {
  if (!have_nix()) return;
  const auto result = cfg::evaluate_nix_file(kFixtures + "syntax_error.nix", dirs(), false);
  CHECK_FALSE(result.json);
  CHECK_THAT(result.error, Catch::StartsWith("error: syntax error") && Catch::Contains("syntax_error.nix:3:36"));
  CHECK(result.error.back() != '\n');
}

TEST_CASE("nix: a failure after a lot of stderr keeps all of it", "[nix]") {
  if (!have_nix()) return;
  const auto result = cfg::evaluate_nix_file(kFixtures + "large_error.nix", dirs(), false);
  CHECK_FALSE(result.json);
  CHECK_THAT(result.error, Catch::Contains("trace message number 4999") &&
                               Catch::Contains("evaluation failed on purpose"));
}

TEST_CASE("nix: a file that does not exist is reported by Nix", "[nix]") {
  if (!have_nix()) return;
  const auto result = cfg::evaluate_nix_file(kFixtures + "missing.nix", dirs(), false);
  CHECK_FALSE(result.json);
  CHECK_THAT(result.error, Catch::Contains("missing.nix"));
}

TEST_CASE("nix library: createManagedProcess yields agnostic configs named by process", "[nix]") {
  if (!have_nix()) return;
  const Json processes = evaluate("library.nix");
  CHECK(processes.size() == 3);  // a null pkg disables its entry
  const Json& db = processes["db"];
  CHECK(db["name"] == "db");
  CHECK(db["instanceName"] == "db");
  CHECK(db["pidFile"] == "/st/run/db.pid");
  // overrides.nixpm becomes top-level nixpm keys; other managers' overrides are kept.
  CHECK(db["readiness"] == "pidFile");
  CHECK(db["restart"] == "always");
  CHECK(db["overrides"] == Json{{"systemd", {{"Service", {{"LimitNOFILE", 1024}}}}}});
  // A process, an entry with pkg, and a name all become plain names.
  CHECK(processes["cache"]["dependencies"] == Json{"db"});
  CHECK(processes["web"]["dependencies"] == Json{"db", "cache", "db"});
  CHECK_FALSE(processes["web"].contains("overrides"));
}

TEST_CASE("nix library: a process without a command is refused by the library", "[nix]") {
  if (!have_nix()) return;
  const auto result = cfg::evaluate_nix_file(kFixtures + "no_command.nix", dirs(), false);
  CHECK_THAT(result.error, Catch::Contains("createManagedProcess (broken)") &&
                               Catch::Contains("'process', 'foregroundProcess' or 'daemon'"));
}

TEST_CASE("nix: the library's output loads as definitions", "[nix]") {
  if (!have_nix()) return;
  const auto loaded = cfg::load_definitions_file(kFixtures + "library.nix", dirs());
  INFO(loaded.report());
  REQUIRE(loaded.ok());
  const auto* db = loaded.definitions->find("db");
  REQUIRE(db != nullptr);
  CHECK(db->kind == cfg::ProcessKind::daemon);
  CHECK(db->supervision.restart == cfg::RestartPolicy::always);
  CHECK(db->umask == 027);
  const auto* cache = loaded.definitions->find("cache");
  REQUIRE(cache != nullptr);
  CHECK(cache->environment == std::map<std::string, std::string>{{"SIZE", "64"}, {"VERBOSE", "true"}});
}

TEST_CASE("nix: the webapps example evaluates to the same instances as its YAML form", "[nix]") {
  if (!have_nix()) return;
  const auto nix = cfg::load_definitions_file(kExample, dirs());
  const auto yaml = cfg::load_definitions_file(kExample.substr(0, kExample.size() - 3) + "yaml", dirs());
  INFO(nix.report() << yaml.report());
  REQUIRE(nix.ok());
  REQUIRE(yaml.ok());
  REQUIRE(nix.definitions->instances.size() == yaml.definitions->instances.size());
  for (const auto& instance : yaml.definitions->instances) {
    const auto* other = nix.definitions->find(instance.name);
    REQUIRE(other != nullptr);
    INFO(instance.name);
    CHECK(other->same_behaviour(instance));
    CHECK(other->description == instance.description);
    CHECK(other->files == instance.files);
  }
}
