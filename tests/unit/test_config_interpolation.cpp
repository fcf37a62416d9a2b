#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "config/interpolation.hpp"

using nixpm::config::interpolate;
using nixpm::config::InterpolationError;
using nixpm::config::is_variable_name;

namespace {

const std::map<std::string, std::string, std::less<>> kVariables{
    {"port", "5001"},     {"instanceName", "webapp1"},
    {"stateDir", "/var"}, {"ids.http", "8080"},
    {"a-b", "dash"},      {"empty", ""},
};

std::optional<std::string> lookup(std::string_view name) {
  auto it = kVariables.find(name);
  if (it == kVariables.end()) return std::nullopt;
  return it->second;
}

std::string expand_ok(std::string_view text) {
  InterpolationError error;
  auto result = interpolate(text, lookup, error);
  INFO("error: " << error.message << " at " << error.offset);
  REQUIRE(result.has_value());
  return *result;
}

InterpolationError expand_error(std::string_view text) {
  InterpolationError error;
  auto result = interpolate(text, lookup, error);
  REQUIRE_FALSE(result.has_value());
  return error;
}

}  // namespace

TEST_CASE("interpolation replaces variables") {
  CHECK(expand_ok("") == "");
  CHECK(expand_ok("plain text") == "plain text");
  CHECK(expand_ok("${port}") == "5001");
  CHECK(expand_ok("port ${port}!") == "port 5001!");
  CHECK(expand_ok("${stateDir}/lib/${instanceName}") == "/var/lib/webapp1");
  CHECK(expand_ok("${port}${port}") == "50015001");
  CHECK(expand_ok("[${empty}]") == "[]");
  CHECK(expand_ok("${ids.http} ${a-b}") == "8080 dash");
}

TEST_CASE("interpolation does not expand the values it inserts") {
  const auto tricky = [](std::string_view name) -> std::optional<std::string> {
    if (name == "x") return std::string("${y}");
    return std::nullopt;
  };
  InterpolationError error;
  CHECK(interpolate("<${x}>", tricky, error) == std::optional<std::string>("<${y}>"));
}

TEST_CASE("interpolation: $${ is a literal ${") {
  CHECK(expand_ok("$${port}") == "${port}");
  CHECK(expand_ok("a $${b} ${port}") == "a ${b} 5001");
  CHECK(expand_ok("$${") == "${");
  CHECK(expand_ok("$${unknown") == "${unknown");
}

TEST_CASE("interpolation: a $ not followed by { is literal") {
  CHECK(expand_ok("$") == "$");
  CHECK(expand_ok("cost: 5$") == "cost: 5$");
  CHECK(expand_ok("$HOME and $1") == "$HOME and $1");
  CHECK(expand_ok("$$") == "$$");
  CHECK(expand_ok("a$$b") == "a$$b");
  CHECK(expand_ok("}{$}") == "}{$}");
  CHECK(expand_ok("$ {port}") == "$ {port}");
}

TEST_CASE("interpolation: unterminated ${ is an error at its offset") {
  auto error = expand_error("abc ${port");
  CHECK(error.offset == 4);
  CHECK(error.message == "unterminated '${'");

  error = expand_error("${port} ${");
  CHECK(error.offset == 8);
  CHECK(error.message == "unterminated '${'");
}

TEST_CASE("interpolation: an unknown variable is an error at its offset") {
  auto error = expand_error("--port=${prot}");
  CHECK(error.offset == 7);
  CHECK(error.message == "unknown variable 'prot'");

  // The first problem wins.
  error = expand_error("${port} ${nope} ${also}");
  CHECK(error.offset == 8);
  CHECK(error.message == "unknown variable 'nope'");
}

TEST_CASE("interpolation: malformed names are errors") {
  auto error = expand_error("x${}");
  CHECK(error.offset == 1);
  CHECK(error.message == "empty variable name in '${}'");

  error = expand_error("${a b}");
  CHECK(error.offset == 0);
  CHECK(error.message == "invalid variable name 'a b'");

  error = expand_error("${1st}");
  CHECK(error.message == "invalid variable name '1st'");
}

TEST_CASE("variable names") {
  CHECK(is_variable_name("port"));
  CHECK(is_variable_name("_x"));
  CHECK(is_variable_name("ids.http-2"));
  CHECK_FALSE(is_variable_name(""));
  CHECK_FALSE(is_variable_name("2port"));
  CHECK_FALSE(is_variable_name(".x"));
  CHECK_FALSE(is_variable_name("a b"));
  CHECK_FALSE(is_variable_name("a}"));
}
