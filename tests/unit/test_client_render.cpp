// Rendering of daemon replies: tables, uptime, colour, JSON passthrough.

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "client/render.hpp"

using nixpm::client::Cell;
using nixpm::protocol::Json;
namespace c = nixpm::client;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

Json status_entry(const std::string& name, const std::string& state) {
  return Json{{"name", name},     {"state", state},     {"pid", nullptr},   {"wanted", "down"},
              {"since", 1700000000}, {"uptime", nullptr}, {"restarts", 0},    {"lastExit", nullptr},
              {"error", nullptr}, {"description", ""},  {"dependencies", Json::array()}};
}

}  // namespace

TEST_CASE("uptime is compact with at most two units", "[client][render]") {
  CHECK(c::format_uptime(0) == "0s");
  CHECK(c::format_uptime(3) == "3s");
  CHECK(c::format_uptime(3.9) == "3s");
  CHECK(c::format_uptime(59) == "59s");
  CHECK(c::format_uptime(60) == "1m00s");
  CHECK(c::format_uptime(5 * 60 + 12) == "5m12s");
  CHECK(c::format_uptime(5 * 60 + 3) == "5m03s");
  CHECK(c::format_uptime(3599) == "59m59s");
  CHECK(c::format_uptime(2 * 3600 + 3 * 60 + 59) == "2h03m");
  CHECK(c::format_uptime(86399) == "23h59m");
  CHECK(c::format_uptime(4 * 86400 + 3600 + 5) == "4d01h");
  CHECK(c::format_uptime(400 * 86400) == "400d00h");
  CHECK(c::format_uptime(-5) == "0s");
}

TEST_CASE("state colours follow the state's meaning", "[client][render]") {
  CHECK(c::state_colour("running") == "\x1b[32m");
  CHECK(c::state_colour("done") == "\x1b[32m");
  CHECK(c::state_colour("starting") == "\x1b[33m");
  CHECK(c::state_colour("stopping") == "\x1b[33m");
  CHECK(c::state_colour("backoff") == "\x1b[33m");
  CHECK(c::state_colour("failed") == "\x1b[31m");
  CHECK(c::state_colour("stopped").empty());
  CHECK(c::state_colour("something-new").empty());
}

TEST_CASE("tables align columns and leave no trailing blanks", "[client][render]") {
  const std::string text =
      c::render_table({"A", "LONGER", "Z"}, {{Cell{"wide-value"}, Cell{"x"}, Cell{"end"}}, {Cell{"b"}}}, false);
  const auto lines = lines_of(text);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "A           LONGER  Z");
  CHECK(lines[1] == "wide-value  x       end");
  CHECK(lines[2] == "b");
}

TEST_CASE("status table shows every column with dashes for absent values", "[client][render]") {
  Json running = status_entry("webapp1", "running");
  running["pid"] = 4242;
  running["uptime"] = 312.4;
  running["restarts"] = 2;
  running["lastExit"] = "exited 1";
  Json stopped = status_entry("nginx", "stopped");

  const auto lines = lines_of(c::render_status_table(Json::array({running, stopped}), false));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "NAME     STATE    PID   UPTIME  RESTARTS  LAST-EXIT");
  CHECK(lines[1] == "webapp1  running  4242  5m12s   2         exited 1");
  CHECK(lines[2] == "nginx    stopped  -     -       0         -");
}

TEST_CASE("status table explains failed instances below the table", "[client][render]") {
  Json failed = status_entry("webapp1", "failed");
  failed["error"] = "exec: No such file or directory";
  const auto lines = lines_of(c::render_status_table(Json::array({failed}), false));
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].rfind("webapp1  failed", 0) == 0);
  CHECK(lines[2] == "webapp1 failed: exec: No such file or directory");
}

TEST_CASE("status table says what a waiting instance waits for", "[client][render]") {
  Json waiting = status_entry("nginx", "stopped");
  waiting["waitingFor"] = Json::array({"webapp1", "webapp2"});
  Json none = status_entry("webapp1", "backoff");
  none["waitingFor"] = Json::array();
  const auto lines = lines_of(c::render_status_table(Json::array({waiting, none}), false));
  REQUIRE(lines.size() == 4);
  CHECK(lines[3] == "nginx is waiting for webapp1, webapp2");
}

TEST_CASE("the status table reads no member beyond those `status` asks the daemon for", "[client][render]") {
  Json failed = status_entry("webapp1", "failed");
  failed.update(Json{{"pid", 17}, {"uptime", 3.5}, {"restarts", 4}, {"lastExit", "exited 2"},
                     {"error", "crash loop"}, {"waitingFor", {"db"}}, {"description", "not shown"},
                     {"since", 1795657966.5}});
  Json trimmed = Json::object();
  for (const auto& name : c::status_table_members())
    if (failed.contains(name)) trimmed[name] = failed[name];
  CHECK(trimmed.size() < failed.size());
  CHECK(c::render_status_table(Json::array({trimmed}), false) == c::render_status_table(Json::array({failed}), false));
}

TEST_CASE("colour is emitted only when asked for and does not disturb alignment", "[client][render]") {
  Json a = status_entry("a", "running");
  Json b = status_entry("bbbbbb", "stopped");
  const Json instances = Json::array({a, b});

  const std::string plain = c::render_status_table(instances, false);
  CHECK(plain.find('\x1b') == std::string::npos);

  const std::string coloured = c::render_status_table(instances, true);
  const auto lines = lines_of(coloured);
  REQUIRE(lines.size() == 3);
  CHECK(lines[1] == "a       \x1b[32mrunning\x1b[0m  -    -       0         -");
  CHECK(lines[2] == "bbbbbb  stopped  -    -       0         -");  // stopped has no colour

  // Removing the escape sequences gives back the plain table exactly.
  std::string stripped = coloured;
  for (const std::string seq : {"\x1b[32m", "\x1b[0m"})
    for (auto pos = stripped.find(seq); pos != std::string::npos; pos = stripped.find(seq))
      stripped.erase(pos, seq.size());
  CHECK(stripped == plain);
}

TEST_CASE("list table shows autostart and description", "[client][render]") {
  const Json instances = Json::array({
      Json{{"name", "webapp1"}, {"state", "failed"}, {"autostart", true}, {"description", "Simple web app"}},
      Json{{"name", "db"}, {"state", "stopped"}, {"autostart", false}, {"description", ""}},
  });
  const auto lines = lines_of(c::render_list_table(instances, true));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "NAME     STATE    AUTOSTART  DESCRIPTION");
  CHECK(lines[1] == "webapp1  \x1b[31mfailed\x1b[0m   yes        Simple web app");
  CHECK(lines[2] == "db       stopped  no         -");
}

TEST_CASE("empty instance lists render just the header", "[client][render]") {
  CHECK(c::render_status_table(Json::array(), false) == "NAME  STATE  PID  UPTIME  RESTARTS  LAST-EXIT\n");
  CHECK(c::render_list_table(Json(), false) == "NAME  STATE  AUTOSTART  DESCRIPTION\n");
}

TEST_CASE("JSON output is the result member, pretty, in the daemon's key order", "[client][render]") {
  const std::string payload =
      R"({"id":3,"ok":true,"result":{"instances":[{"name":"web","state":"running","pid":7,"extra":{"z":1,"a":2}}]}})";
  const std::string expected = R"({
  "instances": [
    {
      "name": "web",
      "state": "running",
      "pid": 7,
      "extra": {
        "z": 1,
        "a": 2
      }
    }
  ]
}
)";
  CHECK(c::render_json_result(payload) == expected);
  CHECK(c::render_json_result(R"({"id":1,"ok":true,"result":{}})") == "{}\n");
}

TEST_CASE("failures name the verb, the instance and the reason", "[client][render]") {
  Json failed = status_entry("webapp1", "failed");
  failed["error"] = "exec: No such file or directory";
  Json crashed = status_entry("worker", "failed");
  crashed["lastExit"] = "killed by SIGKILL";
  Json fine = status_entry("db", "running");
  const auto lines = c::describe_failures("start", Json::array({failed, fine, crashed}));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "start webapp1: failed: exec: No such file or directory");
  CHECK(lines[1] == "start worker: failed: killed by SIGKILL");
  CHECK(c::describe_failures("start", Json::array({fine})).empty());
}
