// Unique ids from pools: assignment, stability across reloads, full pools, and ids.json.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "config/loader.hpp"

#include "support/config_testing.hpp"

using namespace nixpm::config;
using namespace nixpm::testing;

namespace {



// A webapp constructor drawing a port, and whichever instances `names` lists.
std::string definitions(const Lines& names, const std::string& pool = "{ min: 5000, max: 5003 }") {
  std::string text = "idPools:\n  webappPorts: " + pool + "\n  uids: { min: 2000, max: 2999 }\n" +
                     "constructors:\n  webapp:\n    process: /bin/webapp\n    args: [\"${ids.webappPorts}\"]\n" +
                     "    requiresUniqueIdsFor: [webappPorts]\ninstances:\n";
  for (const auto& name : names) text += "  " + name + ": { constructor: webapp }\n";
  return text;
}

LoadResult load(const std::string& text, const IdTable* previous = nullptr) {
  LoadOptions options;
  options.previous_ids = previous;
  return load_definitions_text(text, "ids.yaml", kDirs, options);
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "nixpm-ids-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("ids: each requesting instance gets the lowest free id, usable in templates") {
  const auto result = load(definitions({"webapp1", "webapp2"}));
  INFO(result.report());
  REQUIRE(result.ok());
  CHECK(result.ids == IdTable{{"webappPorts", {{"webapp1", 5000}, {"webapp2", 5001}}}});
  CHECK(result.definitions->find("webapp2")->arguments == Lines{"5001"});
  CHECK(result.definitions->find("webapp2")->ids == std::map<std::string, long long>{{"webappPorts", 5001}});
}

TEST_CASE("ids: a reload keeps existing ids, releases removed ones and fills gaps from the bottom") {
  const auto first = load(definitions({"webapp1", "webapp2", "webapp3"}));
  REQUIRE(first.ok());
  CHECK(first.ids.at("webappPorts") == std::map<std::string, long long>{{"webapp1", 5000}, {"webapp2", 5001},
                                                                         {"webapp3", 5002}});
  // webapp1 goes away, two new ones arrive (declared before the old ones on purpose).
  const auto second = load(definitions({"new1", "webapp2", "webapp3", "new2"}), &first.ids);
  REQUIRE(second.ok());
  CHECK(second.ids.at("webappPorts") ==
        std::map<std::string, long long>{{"new1", 5000}, {"webapp2", 5001}, {"webapp3", 5002}, {"new2", 5003}});
  // A previous id outside the (shrunk) range is given up for a valid one.
  const auto third = load(definitions({"webapp3"}, "{ min: 5000, max: 5001 }"), &second.ids);
  REQUIRE(third.ok());
  CHECK(third.ids.at("webappPorts") == std::map<std::string, long long>{{"webapp3", 5000}});
}

TEST_CASE("ids: a full pool, an unknown pool and bad pool declarations are errors") {
  const auto full = load(definitions({"a", "b"}, "{ min: 5000, max: 5000 }"));
  CHECK_FALSE(full.ok());
  CHECK(full.ids.empty());
  CHECK(full.report() == "ids.yaml:8:28: error: id pool 'webappPorts' (5000..5000) is full: no id left for "
                         "instance 'b'\n");
  const auto bad = load(R"(idPools:
  ports: { min: 10, max: 1 }
  half: { min: 1 }
  typo: { min: 1, maks: 2 }
  ports: { min: 1, max: 2 }
instances:
  a: { process: /bin/a, requiresUniqueIdsFor: [prots], args: ["${ids.uids}"] }
)");
  CHECK(bad.report() ==
        "ids.yaml:2:3: error: id pool 'ports' has 'min' (10) greater than 'max' (1)\n"
        "ids.yaml:3:3: error: id pool 'half' needs both 'min' and 'max'\n"
        "ids.yaml:4:19: error: unknown key 'maks' in id pool 'typo' (did you mean 'max'?)\n"
        "ids.yaml:5:3: error: duplicate key 'ports'\n"
        "ids.yaml:7:48: error: unknown id pool 'prots'\n"
        "ids.yaml:7:63: error: in instance 'a': unknown id pool 'uids'\n");
  const auto missing = load(definitions({"a"}) + "  b: { process: /bin/b, args: [\"${ids.uids}\"] }\n");
  CHECK(missing.report() == "ids.yaml:11:32: error: in instance 'b': instance 'b' has no id from pool 'uids' "
                            "(list the pool in its requiresUniqueIdsFor)\n");
}

TEST_CASE("ids: another instance's id is reachable through a reference") {
  const auto result = load(definitions({"webapp1"}) +
                           "  proxy: { process: /bin/proxy, args: [\"${instances.webapp1.ids.webappPorts}\"] }\n");
  INFO(result.report());
  REQUIRE(result.ok());
  CHECK(result.definitions->find("proxy")->arguments == Lines{"5000"});
  CHECK(result.definitions->find("proxy")->dependencies.at(0).name == "webapp1");
}

TEST_CASE("ids: assignments survive a round trip through ids.json") {
  TempDir dir;
  const auto file = id_assignments_path(dir.path);
  CHECK(file == dir.path / "lib" / "nixpm" / "ids.json");
  Diagnostics problems;
  // No file yet: a first run, not an error.
  CHECK(load_id_assignments(file, problems) == IdTable{});
  CHECK(problems.empty());

  const auto first = load(definitions({"webapp1", "webapp2"}));
  REQUIRE(first.ok());
  REQUIRE_FALSE(save_id_assignments(file, first.ids));
  CHECK_FALSE(std::filesystem::exists(file.string() + ".tmp"));
  const auto stored = load_id_assignments(file, problems);
  REQUIRE(stored);
  CHECK(*stored == first.ids);

  const auto reloaded = load(definitions({"webapp2", "webapp3"}), &*stored);
  REQUIRE(reloaded.ok());
  CHECK(reloaded.ids.at("webappPorts") == std::map<std::string, long long>{{"webapp2", 5001}, {"webapp3", 5000}});

  std::ofstream(file) << "{\"webappPorts\": {\"a\": \"x\"}}";
  CHECK_FALSE(load_id_assignments(file, problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].to_string() == file.string() + ": error: invalid id assignments: the id of 'a' in pool "
                                                   "'webappPorts' must be an integer");
}
