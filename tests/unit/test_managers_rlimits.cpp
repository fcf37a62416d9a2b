// `rlimits` on every manager: the ulimit lines of generated shell (flags, units, soft and hard), systemd's
// Limit*=, launchd's resource-limit dictionaries, and the losses for limits a manager cannot carry.

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "config/managers/manager_adapter.hpp"
#include "config/managers/shell_steps.hpp"
#include "unit/support/golden.hpp"

namespace nixpm::managers {
namespace {

using testing::definitions_from_yaml;
using testing::generated_file;
using testing::has_line;

Generated generate(std::string_view manager, const config::Definitions& definitions) {
  return find_manager(manager)->generate(definitions, testing::golden_options());
}

const Loss* loss_of(const Generated& generated, std::string_view instance, std::string_view property) {
  const auto found = std::find_if(generated.losses.begin(), generated.losses.end(), [&](const Loss& loss) {
    return loss.instance == instance && loss.property == property;
  });
  return found == generated.losses.end() ? nullptr : &*found;
}

const char* const kLimits = R"(
instances:
  app:
    process: /bin/sleep
    args: [1000]
    rlimits:
      nofile: 4096
      core: { soft: 1M }
      as: { soft: 1G, hard: infinity }
      fsize: { hard: 2K }
      nproc: 100
)";

TEST_CASE("rlimits: ulimit lines use sh's units and set hard before soft") {
  const auto definitions = definitions_from_yaml(kLimits);
  const auto lines = shell::resource_limits(definitions.instances.at(0), "", " || exit 1");
  // The model keeps limits sorted by name; core and fsize are in 512-byte blocks, as in KiB.
  CHECK(has_line(lines, "\tulimit -v unlimited || exit 1"));
  CHECK(has_line(lines, "\tulimit -S -v 1048576 || exit 1"));
  CHECK(has_line(lines, "\tulimit -S -c 2048 || exit 1"));
  CHECK(has_line(lines, "\tulimit -H -f 4 || exit 1"));
  CHECK(has_line(lines, "\tulimit -n 4096 || exit 1"));
  CHECK(lines.find("nproc") == std::string::npos);
  CHECK(lines.find("-u") == std::string::npos);
  CHECK(lines.find("ulimit -v unlimited") < lines.find("ulimit -S -v"));
  CHECK(has_line(lines, "# shellcheck disable=SC3045"));
  CHECK(shell::resource_limits(definitions_from_yaml("instances: { b: { process: /bin/true } }").instances.at(0),
                               "", "")
            .empty());
}

TEST_CASE("rlimits: managers that use ulimit set it before the program and report nproc lost") {
  const auto definitions = definitions_from_yaml(kLimits);
  struct Case {
    std::string_view manager, file;
  };
  for (const auto& [manager, file] : {Case{"sysvinit", "init.d/app"}, Case{"bsdrc", "rc.d/app"},
                                      Case{"runit", "app/run"}, Case{"s6", "app/run"},
                                      Case{"supervisord", "conf.d/nixpm/app.sh"}, Case{"cygrunsrv", "app.sh"}}) {
    INFO(manager);
    const auto generated = generate(manager, definitions);
    CHECK(generated_file(generated, file).content.find("ulimit -n 4096") != std::string::npos);
    const Loss* loss = loss_of(generated, "app", "rlimits");
    REQUIRE(loss != nullptr);
    CHECK(loss->support == Support::lost);
    CHECK(loss->note.find("nproc") != std::string::npos);
  }
}

TEST_CASE("rlimits: a limit every sh carries is supported by the script managers, emulated by wrappers") {
  const auto definitions = definitions_from_yaml(R"(
instances:
  app: { process: /bin/sleep, args: [1000], rlimits: { nofile: 1024 } }
)");
  CHECK(loss_of(generate("sysvinit", definitions), "app", "rlimits") == nullptr);
  CHECK(loss_of(generate("runit", definitions), "app", "rlimits") == nullptr);
  const auto supervisord = generate("supervisord", definitions);
  const Loss* loss = loss_of(supervisord, "app", "rlimits");
  REQUIRE(loss != nullptr);
  CHECK(loss->support == Support::emulated);
  // The wrapper, not the bare command, is what supervisord runs now.
  CHECK(generated_file(supervisord, "conf.d/app.conf").content.find("nixpm/app.sh") != std::string::npos);
}

TEST_CASE("rlimits: systemd writes Limit*= as soft:hard, and a half-given limit is emulated") {
  const auto generated = generate("systemd", definitions_from_yaml(kLimits));
  const auto& unit = generated_file(generated, "app.service").content;
  CHECK(has_line(unit, "LimitNOFILE=4096"));
  CHECK(has_line(unit, "LimitAS=1073741824:infinity"));
  CHECK(has_line(unit, "LimitCORE=1048576"));
  CHECK(has_line(unit, "LimitFSIZE=2048"));
  CHECK(has_line(unit, "LimitNPROC=100"));
  const Loss* loss = loss_of(generated, "app", "rlimits");
  REQUIRE(loss != nullptr);
  CHECK(loss->support == Support::emulated);
  CHECK(loss->note.find("core, fsize") != std::string::npos);

  const auto whole = generate("systemd", definitions_from_yaml(R"(
instances:
  app: { process: /bin/sleep, args: [1000], rlimits: { nofile: { soft: 1024, hard: 4096 } } }
)"));
  CHECK(has_line(generated_file(whole, "app.service").content, "LimitNOFILE=1024:4096"));
  CHECK(loss_of(whole, "app", "rlimits") == nullptr);
}

TEST_CASE("rlimits: launchd fills Soft- and HardResourceLimits and loses the limits it has no key for") {
  const auto generated = generate("launchd", definitions_from_yaml(kLimits));
  const auto& plist = generated_file(generated, "LaunchDaemons/org.nixpm.app.plist").content;
  const auto soft = plist.find("<key>SoftResourceLimits</key>");
  const auto hard = plist.find("<key>HardResourceLimits</key>");
  REQUIRE(soft != std::string::npos);
  REQUIRE(hard != std::string::npos);
  CHECK(plist.find("<key>NumberOfProcesses</key>", soft) < hard);
  CHECK(plist.find("<key>FileSize</key>", hard) != std::string::npos);
  CHECK(plist.find("<key>FileSize</key>", soft) > hard);  // fsize has a hard limit only
  const Loss* loss = loss_of(generated, "app", "rlimits");
  REQUIRE(loss != nullptr);
  CHECK(loss->support == Support::lost);
  CHECK(loss->note == "not set: as (launchd has no key for it)");
}

}  // namespace
}  // namespace nixpm::managers
