#include <catch2/catch.hpp>

#include <csignal>

#include "common/instance_state.hpp"
#include "common/signal_names.hpp"

TEST_CASE("signals are named and parsed in every usual spelling", "[signals]") {
  CHECK(nixpm::signal_name(SIGTERM) == "SIGTERM");
  CHECK(nixpm::signal_name(SIGKILL) == "SIGKILL");
  CHECK(nixpm::signal_name(200) == "signal 200");
  CHECK(nixpm::parse_signal("TERM") == SIGTERM);
  CHECK(nixpm::parse_signal("SIGQUIT") == SIGQUIT);
  CHECK(nixpm::parse_signal("hup") == SIGHUP);
  CHECK(nixpm::parse_signal("9") == 9);
  CHECK_FALSE(nixpm::parse_signal("TERMINATE"));
  CHECK_FALSE(nixpm::parse_signal("0"));
  CHECK_FALSE(nixpm::parse_signal("9x"));
  CHECK_FALSE(nixpm::parse_signal(""));
}

TEST_CASE("instance states have stable names", "[states]") {
  using nixpm::InstanceState;
  for (auto state : {InstanceState::stopped, InstanceState::starting, InstanceState::running, InstanceState::stopping,
                     InstanceState::backoff, InstanceState::failed, InstanceState::done}) {
    CHECK(nixpm::instance_state_from_string(nixpm::to_string(state)) == state);
  }
  CHECK(nixpm::to_string(InstanceState::backoff) == "backoff");
  CHECK_FALSE(nixpm::instance_state_from_string("sleeping"));
}
