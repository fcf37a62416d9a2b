// Catch2 runner for the unit tests. The daemon's code logs through spdlog; unit tests assert on
// behaviour, so that output is switched off here (set NIXPM_TEST_LOG=1 to see it).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

#include <spdlog/spdlog.h>

int main(int argc, char* argv[]) {
  if (!std::getenv("NIXPM_TEST_LOG")) spdlog::set_level(spdlog::level::off);
  return Catch::Session().run(argc, argv);
}
