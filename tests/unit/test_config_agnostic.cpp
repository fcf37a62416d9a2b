// nix-processmgmt's agnostic JSON configs: a directory of <name>.json files loads to the same
// instances as the YAML form of the webapps example.
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config/loader.hpp"

#include "support/config_testing.hpp"

using namespace nixpm::config;
using namespace nixpm::testing;

namespace {


// nix-processmgmt's system-mode defaults, which the JSON fixtures were written with.
const DirectoryVariables kVar{"/var", "/var/run", "/var/log", "/tmp", "/var/cache"};
const std::string kJson = std::string(NIXPM_FIXTURES_DIR) + "/nixproc-json";
const std::string kExample = std::string(NIXPM_FIXTURES_DIR) + "/../../examples/webapps/processes.yaml";


Lines dependency_names(const InstanceSpec& spec) {
  Lines names;
  for (const auto& dependency : spec.dependencies) names.push_back(dependency.name);
  return names;
}

}  // namespace

TEST_CASE("agnostic: the webapps directory resolves like the YAML example") {
  const auto json = load_definitions_file(kJson + "/webapps", kVar);
  const auto yaml = load_definitions_file(kExample, kVar);
  INFO(json.report() << yaml.report());
  REQUIRE(json.ok());
  REQUIRE(yaml.ok());
  CHECK(json.diagnostics.empty());
  // Files are read sorted by name.
  Lines names;
  for (const auto& spec : json.definitions->instances) names.push_back(spec.name);
  CHECK(names == Lines{"nginx", "webapp1", "webapp2"});
  for (const auto& expected : yaml.definitions->instances) {
    INFO(expected.name);
    const InstanceSpec* actual = json.definitions->find(expected.name);
    REQUIRE(actual != nullptr);
    CHECK(actual->kind == expected.kind);
    CHECK(actual->executable == expected.executable);
    CHECK(actual->arguments == expected.arguments);
    CHECK(actual->environment == expected.environment);
    CHECK(actual->description == expected.description);
    CHECK(dependency_names(*actual) == dependency_names(expected));
  }
  const InstanceSpec& nginx = *json.definitions->find("nginx");
  CHECK(nginx.position == SourcePosition{kJson + "/webapps/nginx.json", 1, 1});
  CHECK(nginx.dependencies[0].position == SourcePosition{kJson + "/webapps/nginx.json", 11, 5});
  CHECK(nginx.daemon_arguments == Lines{"-p", "/var/lib/nginx", "-c", "/var/etc/nginx.conf", "-e", "stderr", "-g",
                                        "pid /var/run/nginx.pid;"});
  // JSON strings are final, as Nix wrote them: ${...} in a shell snippet is not interpolated.
  CHECK(nginx.initialize == "mkdir -p /var/lib/nginx /var/etc \"${TMPDIR:-/tmp}/nginx\"\n");
  CHECK(nginx.credentials.users == std::vector<UserCredential>{{"nginx", {}, "nginx", "Nginx user", "", false, ""}});
  CHECK(nginx.overrides.at("sysvinit") == nlohmann::json::parse(R"({"runlevels": [3, 4, 5]})"));
}

TEST_CASE("agnostic: every problem names its own file, line and column") {
  const std::string dir = kJson + "/invalid";
  const auto result = load_definitions_file(dir, kVar);
  CHECK_FALSE(result.ok());
  CHECK(errors(result) ==
        Lines{dir + "/bad.json:1:1: error: instance 'bad' has none of 'process', 'foregroundProcess' and 'daemon'",
              dir + "/bad.json:3:3: error: unknown key 'proces' (did you mean 'process'?)",
              dir + "/bad.json:4:11: error: 'args' must be a list of strings, not a string",
              dir + "/bad.json:5:12: error: in instance 'bad': 'umask' must be an octal string such as \"027\", "
                    "not '999'",
              dir + "/bad.json:6:20: error: unknown dependency 'databse' of instance 'bad'",
              dir + "/bad.json:7:18: error: unknown process manager 'systemdd' in 'overrides' (did you mean "
                    "'systemd'?)",
              dir + "/broken.json:4:1: error: invalid YAML: end of map flow not found",
              dir + "/renamed.json:1:11: error: in instance 'renamed': 'name' must equal the instance name "
                    "'renamed', not 'other' (the instance key is its name)"});
}

TEST_CASE("agnostic: a .nix file without nix-instantiate is a clear error") {
  const char* old = std::getenv("PATH");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  ::setenv("PATH", "/nonexistent", 1);
  const auto result = load_definitions_file(kJson + "/processes.nix", kVar);
  if (saved) ::setenv("PATH", saved->c_str(), 1);
  CHECK(errors(result) == Lines{kJson + "/processes.nix: error: nix-instantiate not found on PATH; install nix-bin"});
}
