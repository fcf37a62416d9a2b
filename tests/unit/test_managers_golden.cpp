// Golden tests of systemd, supervisord, sysvinit and bsdrc for both fixtures: the full fixture (every
// property) and the webapps example. Refresh with NIXPM_UPDATE_GOLDEN=1 (see unit/support/golden.hpp).

#include <catch2/catch.hpp>

#include "config/managers/manager_adapter.hpp"
#include "unit/support/golden.hpp"

namespace nixpm::managers {
namespace {

void check_manager(std::string_view manager) {
  const auto* adapter = find_manager(manager);
  REQUIRE(adapter != nullptr);
  SECTION("full") {
    testing::check_golden(
        adapter->generate(testing::load_golden_fixture(testing::full_fixture()), testing::golden_options()),
        manager, "full");
  }
  SECTION("webapps") {
    testing::check_golden(adapter->generate(testing::load_golden_fixture(testing::webapps_fixture()),
                                            testing::golden_options()),
                          manager, "webapps");
  }
}

TEST_CASE("golden: systemd") {
  check_manager("systemd");
}
TEST_CASE("golden: supervisord") {
  check_manager("supervisord");
}
TEST_CASE("golden: sysvinit") {
  check_manager("sysvinit");
}
TEST_CASE("golden: bsdrc") {
  check_manager("bsdrc");
}

TEST_CASE("golden: systemd user units") {
  const auto* adapter = find_manager("systemd");
  testing::check_golden(
      adapter->generate(testing::load_golden_fixture(testing::webapps_fixture(), Scope::user),
                        testing::golden_options(Scope::user)),
      "systemd", "webapps-user");
}

}  // namespace
}  // namespace nixpm::managers
