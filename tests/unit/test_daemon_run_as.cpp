// The --run-as identity text: what the supervisor writes is what nixpmd --run-as reads.

#include <catch2/catch.hpp>

#include "daemon/run_as.hpp"

using nixpm::daemon::format_run_as;
using nixpm::daemon::parse_run_as;
using nixpm::daemon::RunAsIdentity;

TEST_CASE("run-as identities round-trip and malformed ones are refused", "[run_as]") {
  const RunAsIdentity identity{33, 34, {34, 100, 4}};
  CHECK(format_run_as(identity) == "33:34:34,100,4");
  const auto parsed = parse_run_as("33:34:34,100,4");
  REQUIRE(parsed);
  CHECK(parsed->uid == 33);
  CHECK(parsed->gid == 34);
  CHECK(parsed->groups == std::vector<gid_t>{34, 100, 4});
  CHECK(parse_run_as("33:34:")->groups.empty());
  CHECK(parse_run_as("33:34")->groups.empty());
  for (const char* bad : {"", "33", "x:1", "1:y", "1:2:a", "1:2:3,,4", "-1:2", "99999999999:1"})
    CHECK_FALSE(parse_run_as(bad));
}
