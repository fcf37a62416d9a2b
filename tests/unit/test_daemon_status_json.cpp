// Instance snapshots written straight to JSON text must be what the DOM gives: same members, same
// values, same order, for plain names and for text that needs escaping.

#include <catch2/catch.hpp>

#include <string>

#include "daemon/status_json.hpp"

using nixpm::InstanceState;
using nixpm::daemon::append_snapshot_json;
using nixpm::daemon::InstanceSnapshot;
using nixpm::daemon::snapshot_to_json;
using nixpm::protocol::Json;

namespace {

std::string text_of(const InstanceSnapshot& snapshot) {
  std::string text;
  append_snapshot_json(text, snapshot);
  return text;
}

void check_same_as_dom(const InstanceSnapshot& snapshot) {
  const std::string text = text_of(snapshot);
  const Json dom = snapshot_to_json(snapshot);
  const Json parsed = Json::parse(text);  // throws if the text is not JSON
  // The DOM as it goes on the wire (invalid UTF-8 replaced), read back.
  const Json sent = Json::parse(dom.dump(-1, ' ', false, Json::error_handler_t::replace));
  CHECK(parsed == sent);
  // Member order too: the same keys in the same order as the DOM (which sorts them) writes them.
  const auto ordered = nlohmann::ordered_json::parse(text);
  std::vector<std::string> written, sorted;
  for (const auto& [key, value] : ordered.items()) written.push_back(key);
  for (const auto& [key, value] : dom.items()) sorted.push_back(key);
  CHECK(written == sorted);
}

}  // namespace

TEST_CASE("status JSON: a running instance as text equals its DOM", "[status-json]") {
  InstanceSnapshot s;
  s.name = "webapp-1";
  s.description = "Web application 1";
  s.state = InstanceState::running;
  s.pid = 4242;
  s.wanted_up = true;
  s.since_unix_seconds = 1795657966.434009;
  s.uptime_seconds = 18.733489819;
  s.restarts = 3;
  s.last_exit = "exit 1";
  s.dependencies = {"db", "cache"};
  s.readiness = nixpm::config::ReadinessKind::tcp;
  check_same_as_dom(s);
  // Byte for byte, too, for this ordinary case.
  CHECK(text_of(s) == snapshot_to_json(s).dump());
}

TEST_CASE("status JSON: absent values are null, and whole seconds stay numbers", "[status-json]") {
  InstanceSnapshot s;
  s.name = "idle";
  s.state = InstanceState::stopped;
  s.since_unix_seconds = 0;
  check_same_as_dom(s);
  const Json parsed = Json::parse(text_of(s));
  CHECK(parsed["pid"].is_null());
  CHECK(parsed["uptime"].is_null());
  CHECK(parsed["error"].is_null());
  CHECK(parsed["lastExit"].is_null());
  CHECK(parsed["since"].is_number_float());
  s.uptime_seconds = 2.0;
  CHECK(Json::parse(text_of(s))["uptime"].is_number_float());
}

TEST_CASE("status JSON: quotes, control characters, non-ASCII and invalid UTF-8 are escaped as the DOM does",
          "[status-json]") {
  InstanceSnapshot s;
  s.name = "odd";
  s.state = InstanceState::failed;
  s.description = "say \"hi\" \\ tab\there\nnew line, caf\xc3\xa9";
  s.error = std::string("bad byte \xff here") + '\x01';
  s.waiting_for = {"a\"b"};
  check_same_as_dom(s);
  CHECK(text_of(s) == snapshot_to_json(s).dump(-1, ' ', false, Json::error_handler_t::replace));
}

TEST_CASE("status JSON: `fields` keeps only the members named, in the usual order", "[status-json]") {
  InstanceSnapshot s;
  s.name = "a";
  s.state = InstanceState::running;
  s.pid = 9;
  s.uptime_seconds = 1.5;
  std::string error;
  const auto members = nixpm::daemon::status_members_named(Json::array({"uptime", "name", "pid"}), error);
  REQUIRE(members);
  std::string text;
  append_snapshot_json(text, s, *members);
  CHECK(text == R"({"name":"a","pid":9,"uptime":1.5})");

  const auto none = nixpm::daemon::status_members_named(Json::array(), error);
  REQUIRE(none);
  text.clear();
  append_snapshot_json(text, s, *none);
  CHECK(text == "{}");
}

TEST_CASE("status JSON: `fields` that is not a list of known member names is refused", "[status-json]") {
  std::string error;
  CHECK_FALSE(nixpm::daemon::status_members_named(Json("name"), error));
  CHECK(error == "'fields' must be an array of member names");
  CHECK_FALSE(nixpm::daemon::status_members_named(Json::array({"name", "colour"}), error));
  CHECK(error.find(R"(unknown member "colour" in 'fields' (known: dependencies, description, error,)") == 0);
  CHECK_FALSE(nixpm::daemon::status_members_named(Json::array({7}), error));
  CHECK(error.find("unknown member 7 in 'fields'") == 0);
}
