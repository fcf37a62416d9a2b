// List and map parameters, references between instances, template loops and included files.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config/loader.hpp"

#include "support/config_testing.hpp"

using namespace nixpm::config;
using namespace nixpm::testing;

namespace {


const std::string kIncludes = std::string(NIXPM_FIXTURES_DIR) + "/definitions/include";


LoadResult load(std::string_view text) { return load_definitions_text(yaml(text), "test.yaml", kDirs); }


Lines errors(std::string_view text) {
  auto result = load(text);
  CHECK_FALSE(result.ok());
  return nixpm::testing::errors(result);
}


Lines dependency_names(const InstanceSpec& spec) {
  Lines names;
  for (const auto& dependency : spec.dependencies) names.push_back(dependency.name);
  return names;
}

}  // namespace

TEST_CASE("references: list and map parameters") {
  const auto result = load(R"(
constructors:
  app:
    params: { hosts: [a, "${instanceName}.local"], db: { host: localhost, port: 5432 } }
    process: /bin/app
    args: ["--db=${db.host}:${db.port}", "${for h in hosts}--allow=${h} ${end}"]
instances:
  app1: { constructor: app }
  app2: { constructor: app, params: { hosts: [], db: { host: db2, port: 1 } } }
)");
  CHECK(instance(result, "app1").arguments == Lines{"--db=localhost:5432", "--allow=a --allow=app1.local "});
  CHECK(instance(result, "app2").arguments == Lines{"--db=db2:1", ""});
}

TEST_CASE("references: another instance's parameters, which also make a dependency") {
  const auto result = load(R"(
constructors:
  webapp:
    params: { port: ~, dnsName: "${instanceName}.local" }
    process: /bin/webapp
    args: ["${port}"]
instances:
  webapp1: { constructor: webapp, params: { port: 5001 } }
  webapp2: { constructor: webapp, params: { port: "${instances.webapp1.port}2" } }
  proxy:
    process: /bin/proxy
    dependencies: [webapp1]
    args: ["${instances.webapp1.dnsName}=${instances.webapp1.port}", "${instances.webapp2.instanceName}"]
)");
  const InstanceSpec& webapp2 = instance(result, "webapp2");
  CHECK(webapp2.arguments == Lines{"50012"});
  REQUIRE(webapp2.dependencies.size() == 1);
  CHECK(webapp2.dependencies[0].name == "webapp1");
  CHECK(webapp2.dependencies[0].position == SourcePosition{"test.yaml", 8, 51});
  const InstanceSpec& proxy = instance(result, "proxy");
  CHECK(proxy.arguments == Lines{"webapp1.local=5001", "webapp2"});
  CHECK(dependency_names(proxy) == Lines{"webapp1", "webapp2"});  // webapp1 counted once
  CHECK(proxy.dependencies[1].position == SourcePosition{"test.yaml", 12, 70});
}

TEST_CASE("references: a loop over instances renders each one and depends on it") {
  const auto result = load(R"(
constructors:
  webapp: { params: { port: ~, dnsName: "${instanceName}.local" }, process: /bin/webapp }
instances:
  webapp1: { constructor: webapp, params: { port: 5001 } }
  webapp2: { constructor: webapp, params: { port: 5002, dnsName: two.local } }
  nginx:
    params: { webapps: [webapp1, webapp2], upstreams: [{ name: a, ports: [1, 2] }] }
    process: /bin/nginx
    files:
      nginx.conf: |
        ${for w in webapps}server ${w.dnsName} -> 127.0.0.1:${w.port};
        ${end}${for u in upstreams}${u.name}:${for p in u.ports}[${p}]${end}${end}
)");
  const InstanceSpec& nginx = instance(result, "nginx");
  REQUIRE(nginx.files.size() == 1);
  CHECK(nginx.files[0].content ==
        "server webapp1.local -> 127.0.0.1:5001;\nserver two.local -> 127.0.0.1:5002;\na:[1][2]\n");
  CHECK(dependency_names(nginx) == Lines{"webapp1", "webapp2"});
}

TEST_CASE("references: errors in references and loops") {
  CHECK(errors(R"(
constructors:
  webapp: { params: { port: ~, cfg: { a: 1 } }, process: /bin/webapp }
instances:
  webapp1: { constructor: webapp, params: { port: 1 } }
  x:
    params: { list: [webapp1, webapp3], word: w }
    process: /bin/x
    args:
      - "${instances.webap1.port}"
      - "${instances.webapp1.prot}"
      - "${instances.webapp1}"
      - "${list}"
      - "${for w in list}${w.port}"
      - "${end}"
      - "${for w in word}${end}"
      - "${for w list}${end}"
      - "${for w in list}${w.port}${end}"
      - "${instances.webapp1.cfg.b}"
      - "${ids.ports}"
)") == Lines{
      "test.yaml:9:9: error: in instance 'x': unknown instance 'webap1' in 'instances.webap1.port' (did you mean "
      "'webapp1'?)",
      "test.yaml:10:9: error: in instance 'x': instance 'webapp1' has no parameter 'prot' (did you mean 'port'?)",
      "test.yaml:11:9: error: in instance 'x': 'instances.webapp1' must name a parameter, e.g. "
      "instances.webapp1.instanceName",
      "test.yaml:12:9: error: in instance 'x': 'list' is a list, not a string (walk a list with ${for x in list})",
      "test.yaml:13:9: error: in instance 'x': '${for w in list}' has no matching '${end}'",
      "test.yaml:14:9: error: in instance 'x': '${end}' without a '${for ...}' to close",
      "test.yaml:15:9: error: in instance 'x': 'word' in '${for w in word}' is a string, not a list",
      "test.yaml:16:9: error: in instance 'x': invalid loop '${for w list}' (write ${for item in list})",
      "test.yaml:17:9: error: in instance 'x': unknown instance 'webapp3' in 'instances.webapp3.port' (did you mean "
      "'webapp1'?)",
      "test.yaml:18:9: error: in instance 'x': parameter 'cfg' has no entry 'b'",
      "test.yaml:19:9: error: in instance 'x': unknown id pool 'ports'"});
}

TEST_CASE("references: cycles between instances' parameters are reported") {
  CHECK(errors(R"(
instances:
  a: { params: { x: "${instances.b.y}" }, process: /bin/a }
  b: { params: { y: "${instances.a.x}" }, process: /bin/b }
)") == Lines{"test.yaml:2:3: error: dependency cycle: a -> b -> a",
             "test.yaml:2:21: error: in instance 'a': parameter cycle: a.x -> b.y -> a.x"});
  // References that make a dependency loop are refused like explicit ones.
  CHECK(errors(R"(
instances:
  a: { params: { x: 1 }, process: /bin/a, args: ["${instances.b.y}"] }
  b: { params: { y: 2 }, process: /bin/b, args: ["${instances.a.x}"] }
)") == Lines{"test.yaml:2:3: error: dependency cycle: a -> b -> a"});
}

TEST_CASE("includes: constructors and instances merge across files") {
  const auto result = load_definitions_file(kIncludes + "/main.yaml", kDirs);
  INFO(result.report());
  REQUIRE(result.ok());
  Lines names;
  for (const auto& spec : result.definitions->instances) names.push_back(spec.name);
  CHECK(names == Lines{"webapp1", "webapp2", "nginx"});
  CHECK(instance(result, "webapp1").arguments == Lines{"-m", "http.server", "5000"});
  CHECK(instance(result, "webapp2").arguments == Lines{"-m", "http.server", "5001"});
  const InstanceSpec& nginx = instance(result, "nginx");
  CHECK(nginx.files.at(0).content == "server one.local -> 5000;\nserver webapp2.local -> 5001;\n");
  CHECK(dependency_names(nginx) == Lines{"webapp1", "webapp2"});
  // Positions name the file each value came from.
  CHECK(nginx.position == SourcePosition{kIncludes + "/shared/proxy.yaml", 3, 3});
  CHECK(instance(result, "webapp2").position == SourcePosition{kIncludes + "/webapps.yaml", 8, 3});
}

TEST_CASE("includes: names declared twice, cycles and missing files") {
  auto result = load_definitions_file(kIncludes + "/duplicate.yaml", kDirs);
  CHECK(errors(result) ==
        Lines{kIncludes + "/webapps.yaml:2:3: error: constructor 'webapp' is declared twice (first declared at " +
                  kIncludes + "/duplicate.yaml:3:3)",
              kIncludes + "/webapps.yaml:8:3: error: instance 'webapp2' is declared twice (first declared at " +
                  kIncludes + "/duplicate.yaml:5:3)"});
  result = load_definitions_file(kIncludes + "/cycle_a.yaml", kDirs);
  CHECK(errors(result) ==
        Lines{kIncludes + "/cycle_b.yaml:1:11: error: include cycle: " + kIncludes + "/cycle_a.yaml -> " +
                  kIncludes + "/cycle_b.yaml -> " + kIncludes + "/cycle_a.yaml",
              kIncludes + "/cycle_b.yaml:1:25: error: cannot read included file '" + kIncludes +
                  "/missing.yaml': No such file or directory"});
}
