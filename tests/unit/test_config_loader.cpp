#include <csignal>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config/loader.hpp"

#include "support/config_testing.hpp"

using namespace nixpm::config;
using namespace nixpm::testing;

namespace {


const std::string kFixtures = std::string(NIXPM_FIXTURES_DIR) + "/definitions";


LoadResult load(std::string_view text) {
  return load_definitions_text(yaml(text), "test.yaml", kDirs);
}


Lines errors(std::string_view text) {
  auto result = load(text);
  CHECK_FALSE(result.ok());
  return nixpm::testing::errors(result);
}


}  // namespace

TEST_CASE("loader: the webapps example expands to the expected specs") {
  const auto result = load_definitions_file(kFixtures + "/valid/webapps.yaml", kDirs);
  INFO(result.report());
  REQUIRE(result.ok());
  REQUIRE(result.diagnostics.empty());
  const Definitions& definitions = *result.definitions;
  CHECK(definitions.source == kFixtures + "/valid/webapps.yaml");
  REQUIRE(definitions.instances.size() == 3);
  CHECK(definitions.instances[0].name == "webapp1");
  CHECK(definitions.instances[1].name == "webapp2");
  CHECK(definitions.instances[2].name == "nginx");

  const InstanceSpec& webapp1 = definitions.instances[0];
  CHECK(webapp1.constructor == "webapp");
  CHECK(webapp1.description == "Web application webapp1 on port 5001");
  CHECK(webapp1.executable == "/usr/bin/python3");
  CHECK(webapp1.arguments ==
        Lines{"-m", "http.server", "5001", "--bind", "127.0.0.1", "--directory", "/state/lib/webapp1"});
  CHECK(webapp1.environment ==
        std::map<std::string, std::string>{
            {"PORT", "5001"}, {"DNS_NAME", "webapp1.local"}, {"DEBUG", "false"}, {"WORKERS", "4"}});
  CHECK(webapp1.directory.empty());
  CHECK(webapp1.dependencies.empty());
  CHECK(webapp1.files ==
        std::vector<GeneratedFile>{{"/state/lib/webapp1/index.html", "<h1>webapp1 on port 5001</h1>\n"}});
  CHECK(webapp1.autostart);
  CHECK(webapp1.supervision == SupervisionPolicy{});
  CHECK(webapp1.position == SourcePosition{kFixtures + "/valid/webapps.yaml", 13, 3});

  const InstanceSpec& webapp2 = definitions.instances[1];
  CHECK(webapp2.arguments[2] == "5002");
  CHECK(webapp2.environment.at("DNS_NAME") == "second.local");
  CHECK(webapp2.supervision.restart == RestartPolicy::always);
  CHECK_FALSE(webapp2.autostart);

  const InstanceSpec& nginx = definitions.instances[2];
  CHECK(nginx.constructor.empty());
  CHECK(nginx.description == "nginx");
  CHECK(nginx.executable == "/usr/sbin/nginx");
  CHECK(nginx.arguments == Lines{"-c", "/state/etc/nginx.conf", "-g", "daemon off;"});
  REQUIRE(nginx.dependencies.size() == 2);
  CHECK(nginx.dependencies[0].name == "webapp1");
  CHECK(nginx.dependencies[0].position == SourcePosition{kFixtures + "/valid/webapps.yaml", 22, 20});
  CHECK(nginx.dependencies[1].name == "webapp2");
  CHECK(nginx.supervision.stop_signal == SIGQUIT);
  CHECK(nginx.supervision.stop_timeout_seconds == 3.0);
  CHECK(nginx.supervision.restart == RestartPolicy::on_failure);
  CHECK(nginx.files == std::vector<GeneratedFile>{{"/etc/absolute.conf", "cost: $5, literal ${port}\n"}});
}

TEST_CASE("loader: the example from the issue loads") {
  const auto result = load(R"(
constructors:
  webapp:
    params: { port: ~, dnsName: "${instanceName}.local" }
    description: "Web application ${instanceName} on port ${port}"
    process: /usr/bin/python3
    args: ["-m", "http.server", "${port}", "--bind", "127.0.0.1", "--directory", "${stateDir}/lib/${instanceName}"]
    files:
      "lib/${instanceName}/index.html": "<h1>${instanceName} on port ${port}</h1>\n"
instances:
  webapp1: { constructor: webapp, params: { port: 5001 } }
  nginx:
    foregroundProcess: /usr/sbin/nginx
    foregroundProcessArgs: ["-c", "${stateDir}/etc/nginx.conf", "-g", "daemon off;"]
    dependencies: [webapp1]
    stopSignal: QUIT
)");
  const InstanceSpec& webapp1 = instance(result, "webapp1");
  CHECK(webapp1.arguments[2] == "5001");
  CHECK(webapp1.files.at(0).path == "/state/lib/webapp1/index.html");
  CHECK(instance(result, "nginx").supervision.stop_signal == SIGQUIT);
  CHECK(result.report().empty());
}

TEST_CASE("loader: empty definitions are valid") {
  for (const char* text : {"", "# nothing yet\n", "instances:\n", "constructors: {}\ninstances: {}\n"}) {
    auto result = load(text);
    REQUIRE(result.ok());
    CHECK(result.definitions->instances.empty());
    CHECK(result.definitions->source == "test.yaml");
  }
}

TEST_CASE("loader: defaults of a plain instance") {
  const auto result = load(R"(
instances:
  worker: { process: /bin/worker }
)");
  const InstanceSpec& worker = instance(result, "worker");
  CHECK(worker.name == "worker");
  CHECK(worker.constructor.empty());
  CHECK(worker.description == "worker");
  CHECK(worker.executable == "/bin/worker");
  CHECK(worker.arguments.empty());
  CHECK(worker.environment.empty());
  CHECK(worker.directory.empty());
  CHECK(worker.files.empty());
  CHECK(worker.autostart);
  CHECK(worker.supervision == SupervisionPolicy{});
  CHECK(worker.position == SourcePosition{"test.yaml", 2, 3});
}

TEST_CASE("loader: supervision keys") {
  const auto result = load(R"(
instances:
  a:
    process: /bin/a
    restart: never
    restartDelay: 0.5
    maxRestartDelay: 60
    stableAfter: 0
    restartLimit: 3
    stopSignal: SIGINT
    stopTimeout: 0
  b: { process: /bin/b, stopSignal: 9, restart: always, autostart: no }
  c: { process: /bin/c, stopSignal: hup, restartDelay: 45 }
)");
  const SupervisionPolicy& a = instance(result, "a").supervision;
  CHECK(a.restart == RestartPolicy::never);
  CHECK(a.restart_delay_seconds == 0.5);
  CHECK(a.max_restart_delay_seconds == 60.0);
  CHECK(a.stable_after_seconds == 0.0);
  CHECK(a.restart_limit == 3);
  CHECK(a.stop_signal == SIGINT);
  CHECK(a.stop_timeout_seconds == 0.0);
  CHECK(instance(result, "b").supervision.stop_signal == SIGKILL);
  CHECK(instance(result, "b").supervision.restart == RestartPolicy::always);
  CHECK_FALSE(instance(result, "b").autostart);
  CHECK(instance(result, "c").supervision.stop_signal == SIGHUP);
  // A first delay above the default cap raises the cap with it.
  CHECK(instance(result, "c").supervision.max_restart_delay_seconds == 45.0);
}

TEST_CASE("loader: how process, foregroundProcess and their arguments combine") {
  const auto result = load(R"(
instances:
  only-args: { process: /bin/p, args: [a, b] }
  fg-args-replace: { process: /bin/p, args: [a, b], foregroundProcessArgs: [x] }
  extra-args-append: { process: /bin/p, args: [a, b], foregroundProcessExtraArgs: [x, y] }
  fg-wins: { process: /bin/p, foregroundProcess: /bin/fg, args: [a] }
  fg-only: { foregroundProcess: /bin/fg }
)");
  CHECK(instance(result, "only-args").executable == "/bin/p");
  CHECK(instance(result, "only-args").arguments == Lines{"a", "b"});
  CHECK(instance(result, "fg-args-replace").arguments == Lines{"x"});
  CHECK(instance(result, "extra-args-append").arguments == Lines{"a", "b", "x", "y"});
  CHECK(instance(result, "fg-wins").executable == "/bin/fg");
  CHECK(instance(result, "fg-wins").arguments == Lines{"a"});
  CHECK(instance(result, "fg-only").executable == "/bin/fg");
  CHECK(instance(result, "fg-only").arguments.empty());
}

TEST_CASE("loader: instance properties replace the constructor's") {
  const auto result = load(R"(
constructors:
  svc:
    params: { flag: "--quiet" }
    process: /bin/svc
    args: ["${flag}"]
    environment: { A: "1", B: "2" }
    stopTimeout: 5
instances:
  plain: { constructor: svc }
  custom:
    constructor: svc
    params: { flag: "--loud" }
    environment: { C: "${flag}" }
    stopTimeout: 1
)");
  CHECK(instance(result, "plain").arguments == Lines{"--quiet"});
  CHECK(instance(result, "plain").environment == std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}});
  CHECK(instance(result, "plain").supervision.stop_timeout_seconds == 5.0);
  CHECK(instance(result, "custom").arguments == Lines{"--loud"});
  CHECK(instance(result, "custom").environment == std::map<std::string, std::string>{{"C", "--loud"}});
  CHECK(instance(result, "custom").supervision.stop_timeout_seconds == 1.0);
}

TEST_CASE("loader: parameter defaults may use other parameters and built-ins") {
  const auto result = load(R"(
constructors:
  app:
    params: { url: "http://${host}:${port}/", host: "${instanceName}.local", port: ~, data: "${cacheDir}/${port}" }
    process: /bin/app
    args: ["${url}", "${data}", "${runtimeDir}", "${logDir}", "${tmpDir}", "$${port}", "$PATH"]
    directory: "work/${instanceName}"
    dependencies: ["${dep}"]
  dep: { params: { dep: ~ }, process: /bin/dep }
instances:
  db: { process: /bin/db }
  app1: { constructor: app, params: { port: 80, dep: db } }
)");
  // The `dep` parameter is declared on another constructor, so this must fail...
  CHECK_FALSE(result.ok());
  CHECK(errors(result) == Lines{"test.yaml:7:20: error: in instance 'app1': unknown variable 'dep'",
                                "test.yaml:11:49: error: unknown parameter 'dep' of constructor 'app'"});

  // ...and succeeds once it is declared where it is used.
  const auto fixed = load(R"(
constructors:
  app:
    params: { url: "http://${host}:${port}/", host: "${instanceName}.local", port: ~, data: "${cacheDir}/${port}", dep: ~ }
    process: /bin/app
    args: ["${url}", "${data}", "${runtimeDir}", "${logDir}", "${tmpDir}", "$${port}", "$PATH"]
    directory: "work/${instanceName}"
    dependencies: ["${dep}"]
instances:
  db: { process: /bin/db }
  app1: { constructor: app, params: { port: 80, dep: db } }
)");
  const InstanceSpec& app1 = instance(fixed, "app1");
  CHECK(app1.arguments == Lines{"http://app1.local:80/", "/state/cache/80", "/state/run", "/state/log",
                                "/state/tmp", "${port}", "$PATH"});
  CHECK(app1.directory == "/state/work/app1");
  REQUIRE(app1.dependencies.size() == 1);
  CHECK(app1.dependencies[0].name == "db");
  CHECK(app1.dependencies[0].position == SourcePosition{"test.yaml", 7, 20});
}

TEST_CASE("loader: parameter values keep their YAML spelling") {
  const auto result = load(R"(
constructors:
  c: { params: { a: ~, b: ~, c: ~, d: ~ }, process: /bin/c, args: ["${a}", "${b}", "${c}", "${d}"] }
instances:
  i: { constructor: c, params: { a: true, b: 0x1F, c: 1.50, d: "quoted ${instanceName}" } }
)");
  CHECK(instance(result, "i").arguments == Lines{"true", "0x1F", "1.50", "quoted i"});
}

TEST_CASE("loader: generated file paths") {
  const auto result = load(R"(
instances:
  web:
    process: /bin/web
    files:
      conf/web.conf: "listen ${instanceName}"
      ../outside.txt: "x"
      /etc/web/abs.conf: ""
      ./lib/./a//b.txt: "y"
)");
  CHECK(instance(result, "web").files == std::vector<GeneratedFile>{{"/state/conf/web.conf", "listen web"},
                                                                    {"/outside.txt", "x"},
                                                                    {"/etc/web/abs.conf", ""},
                                                                    {"/state/lib/a/b.txt", "y"}});
}

TEST_CASE("loader: a YAML syntax error is one diagnostic at its position") {
  CHECK(errors(R"(
instances:
  web: { process: /bin/web
  other: {}
)") == Lines{"test.yaml:3:8: error: invalid YAML: end of map flow not found"});
  CHECK(errors("instances:\n  a: 1\n b: 2\n") ==
        Lines{"test.yaml:3:2: error: invalid YAML: end of map not found"});
}

TEST_CASE("loader: unknown keys get a suggestion") {
  CHECK(errors(R"(
instance:
  web: { process: /bin/web }
)") == Lines{"test.yaml:1:1: error: unknown top-level key 'instance' (did you mean 'instances'?)"});
  CHECK(errors(R"(
instances:
  web:
    proces: /bin/web
    Environment: {}
    foregroundProcesArgs: []
    frobnicate: 1
)") == Lines{
           "test.yaml:2:3: error: instance 'web' has none of 'process', 'foregroundProcess' and 'daemon'",
           "test.yaml:3:5: error: unknown key 'proces' (did you mean 'process'?)",
           "test.yaml:4:5: error: unknown key 'Environment' (did you mean 'environment'?)",
           "test.yaml:5:5: error: unknown key 'foregroundProcesArgs' (did you mean 'foregroundProcessArgs'?)",
           "test.yaml:6:5: error: unknown key 'frobnicate'"});
  CHECK(errors(R"(
constructors:
  c: { param: {}, process: /bin/c }
)") == Lines{"test.yaml:2:8: error: unknown key 'param' (did you mean 'params'?)"});
}

TEST_CASE("loader: constructor invocation errors") {
  CHECK(
      errors(R"(
constructors:
  webapp: { params: { port: ~, host: localhost }, process: /bin/web, args: ["${port}"] }
instances:
  webapp1: { constructor: webapp, params: {} }
  webapp2: { constructor: webapp, params: { port: 1, prot: 2, extra: 3 } }
  webapp3: { constructor: webap, params: { port: 1 } }
  webapp4: { constructor: database }
)") ==
      Lines{
          "test.yaml:4:3: error: instance 'webapp1' misses required parameter 'port' of constructor 'webapp'",
          "test.yaml:5:54: error: unknown parameter 'prot' of constructor 'webapp' (did you mean 'port'?)",
          "test.yaml:5:63: error: unknown parameter 'extra' of constructor 'webapp'",
          "test.yaml:6:27: error: unknown constructor 'webap' (did you mean 'webapp'?)",
          "test.yaml:7:27: error: unknown constructor 'database'"});
}

TEST_CASE("loader: parameter declarations are checked") {
  // Lists and maps are valid parameter values; dots are not allowed in names (they select map
  // entries), and a plain instance's own params need values.
  CHECK(errors(R"(
constructors:
  c:
    params: { stateDir: x, "bad name": y, list: [1], ok: ~, a.b: 1, for: 2, ids: 3 }
    process: /bin/c
instances:
  i: { process: /bin/i, params: { a: 1, b: ~ } }
  j: { constructor: c, params: { ok: [1] } }
)") == Lines{
           "test.yaml:3:15: error: parameter 'stateDir' would hide the built-in variable of that name",
           "test.yaml:3:28: error: invalid parameter name 'bad name' (use letters, digits, '_' and '-', "
           "starting with a letter or '_')",
           "test.yaml:3:61: error: invalid parameter name 'a.b' (use letters, digits, '_' and '-', "
           "starting with a letter or '_')",
           "test.yaml:3:69: error: parameter 'for' would hide the built-in variable of that name",
           "test.yaml:3:77: error: parameter 'ids' would hide the built-in variable of that name",
           "test.yaml:6:44: error: parameter 'b' needs a value"});
}

TEST_CASE("loader: unknown dependencies and cycles are refused") {
  CHECK(errors(R"(
instances:
  webapp1: { process: /bin/w }
  nginx: { process: /bin/n, dependencies: [webapp1, webap1, db] }
)") == Lines{
           "test.yaml:3:53: error: unknown dependency 'webap1' of instance 'nginx' (did you mean 'webapp1'?)",
           "test.yaml:3:61: error: unknown dependency 'db' of instance 'nginx'"});
  CHECK(errors(R"(
instances:
  a: { process: /bin/a, dependencies: [b] }
  b: { process: /bin/b, dependencies: [c] }
  c: { process: /bin/c, dependencies: [a] }
  d: { process: /bin/d, dependencies: [d] }
)") == Lines{"test.yaml:2:3: error: dependency cycle: a -> b -> c -> a",
             "test.yaml:5:3: error: dependency cycle: d -> d"});
}

TEST_CASE("loader: values of the wrong type name the key and the expected type") {
  CHECK(errors(R"(
instances:
  web:
    process: [/bin/web]
    args: { a: 1 }
    environment: [A=1]
    dependencies: [[a]]
    autostart: maybe
    restart: sometimes
    restartDelay: 0
    restartLimit: 1.5
    stopTimeout: -1
    files: { a: { b: c } }
    description: ~
)") == Lines{"test.yaml:3:14: error: 'process' must be a string, not a list",
             "test.yaml:4:11: error: 'args' must be a list of strings, not a map",
             "test.yaml:5:18: error: 'environment' must be a map, not a list",
             "test.yaml:6:20: error: items of 'dependencies' must be strings, not a list",
             "test.yaml:7:16: error: 'autostart' must be true or false, not 'maybe'",
             "test.yaml:8:14: error: 'restart' must be always, on-failure or never, not 'sometimes'",
             "test.yaml:9:19: error: 'restartDelay' must be greater than 0 seconds, not 0",
             "test.yaml:10:19: error: 'restartLimit' must be a whole number, not '1.5'",
             "test.yaml:11:18: error: 'stopTimeout' must be at least 0 seconds, not -1",
             "test.yaml:12:17: error: values of 'files' must be strings, not a map",
             "test.yaml:13:18: error: 'description' must be a string, not null"});
  CHECK(errors("- a\n- b\n") == Lines{"test.yaml:1:1: error: the top level must be a map with 'constructors' "
                                      "and 'instances', not a list"});
  CHECK(errors("instances: [a]\n") == Lines{"test.yaml:1:12: error: 'instances' must be a map, not a list"});
  CHECK(errors("instances:\n  a: /bin/a\n") ==
        Lines{"test.yaml:2:6: error: instance 'a' must be a map, not a string"});
}

TEST_CASE("loader: a missing or empty command") {
  CHECK(errors(R"(
instances:
  nothing: { description: idle }
  empty: { process: "" }
constructors:
  c: { params: { cmd: "" }, foregroundProcess: "${cmd}" }
)") == Lines{"test.yaml:2:3: error: instance 'nothing' has none of 'process', 'foregroundProcess' and 'daemon'",
             "test.yaml:3:21: error: in instance 'empty': 'process' is empty"});
  CHECK(errors(R"(
constructors:
  c: { params: { cmd: "" }, foregroundProcess: "${cmd}" }
instances:
  i: { constructor: c }
)") == Lines{"test.yaml:2:48: error: in instance 'i': 'foregroundProcess' is empty"});
}

TEST_CASE("loader: interpolation errors name the instance and the scalar") {
  CHECK(errors(R"(
constructors:
  webapp:
    params: { port: ~ }
    process: /bin/web
    args: ["--port=${prot}"]
    environment: { X: "${port" }
instances:
  webapp1: { constructor: webapp, params: { port: 1 } }
  other: { process: "${stateDir}/bin/${nme}", description: "${instanceName} ${}" }
)") == Lines{"test.yaml:5:12: error: in instance 'webapp1': unknown variable 'prot' (did you mean 'port'?)",
             "test.yaml:6:23: error: in instance 'webapp1': unterminated '${'",
             "test.yaml:9:21: error: in instance 'other': unknown variable 'nme'",
             "test.yaml:9:60: error: in instance 'other': empty variable name in '${}'"});
}

TEST_CASE("loader: parameters that refer to each other are reported, not looped on") {
  CHECK(errors(R"(
constructors:
  c:
    params: { a: "${b}", b: "x${c}", c: "${a}", self: "${self}", uses: "${a}" }
    process: /bin/c
    args: ["${uses}"]
instances:
  i: { constructor: c }
)") == Lines{"test.yaml:3:18: error: in instance 'i': parameter cycle: a -> b -> c -> a",
             "test.yaml:3:55: error: in instance 'i': parameter cycle: self -> self"});
}

TEST_CASE("loader: duplicate keys are refused") {
  CHECK(errors(R"(
instances:
  a: { process: /bin/a, process: /bin/b }
  a: { process: /bin/c }
)") == Lines{"test.yaml:2:25: error: duplicate key 'process'", "test.yaml:3:3: error: duplicate key 'a'"});
}

TEST_CASE("loader: invalid instance names") {
  CHECK(errors(R"(
instances:
  "a/b": { process: /bin/a }
  .hidden: { process: /bin/a }
)") == Lines{"test.yaml:2:3: error: invalid instance name 'a/b' (use letters, digits, '_', '-', '.' and '@', "
             "not "
             "starting with '.' or '-')",
             "test.yaml:3:3: error: invalid instance name '.hidden' (use letters, digits, '_', '-', '.' and "
             "'@', not "
             "starting with '.' or '-')"});
}

TEST_CASE("loader: every error of a file is reported, in file order") {
  const std::string file = kFixtures + "/invalid/several_errors.yaml";
  const auto result = load_definitions_file(file, kDirs);
  CHECK_FALSE(result.ok());
  CHECK(
      errors(result) ==
      Lines{
          file + ":5:33: error: in instance 'webapp1': unknown variable 'prot' (did you mean 'port'?)",
          file + ":5:33: error: in instance 'webapp2': unknown variable 'prot' (did you mean 'port'?)",
          file + ":6:5: error: unknown key 'pidfile' (did you mean 'pidFile'?)",
          file + ":8:57: error: unknown parameter 'bind' of constructor 'webapp'",
          file + ":9:3: error: instance 'webapp2' misses required parameter 'port' of constructor 'webapp'",
          file + ":10:26: error: unknown constructor 'wepapp' (did you mean 'webapp'?)",
          file + ":13:29: error: unknown dependency 'webapp3' of instance 'nginx' (did you mean 'webapp1'?)",
          file + ":14:19: error: 'restartDelay' must be a number, not 'soon'",
          file +
              ":15:17: error: 'stopSignal' must be a signal name such as TERM or SIGTERM, or a number, not "
              "'TERMINATE'",
          file + ":16:3: error: instance 'lonely' has none of 'process', 'foregroundProcess' and 'daemon'"});
  std::string expected_report;
  for (const auto& line : errors(result)) expected_report += line + "\n";
  CHECK(result.report() == expected_report);
}

TEST_CASE("loader: an unreadable file is a diagnostic, not an exception") {
  auto result = load_definitions_file(kFixtures + "/does-not-exist.yaml", kDirs);
  CHECK_FALSE(result.ok());
  CHECK(errors(result) ==
        Lines{kFixtures + "/does-not-exist.yaml: error: cannot read file: No such file or directory"});

  // A directory is read as agnostic JSON configs; one without any is refused rather than empty.
  result = load_definitions_file(kFixtures, kDirs);
  CHECK(errors(result) == Lines{kFixtures + ": error: no <name>.json process configs in this directory"});
}

TEST_CASE("loader: directory variables come from the resolved paths") {
  nixpm::Paths paths;
  paths.state_dir = "/s";
  paths.runtime_dir = "/r";
  paths.log_dir = "/l";
  paths.tmp_dir = "/t";
  paths.cache_dir = "/c";
  const auto dirs = DirectoryVariables::from(paths);
  CHECK(dirs.state_dir == "/s");
  CHECK(dirs.runtime_dir == "/r");
  CHECK(dirs.log_dir == "/l");
  CHECK(dirs.tmp_dir == "/t");
  CHECK(dirs.cache_dir == "/c");
}
