// `nixpmctl generate`: its options parse into the invocation, and run_generate's local outcomes.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/commands.hpp"
#include "client/generate_command.hpp"

namespace nixpm::client {
namespace {

struct Run {
  int status;
  std::string out;
  std::string err;
};

Run run_generate_with(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Terminal term{out, err};
  const auto env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  const int status = run(args, env, 0, term);
  return {status, out.str(), err.str()};
}

TEST_CASE("generate: options land in the invocation", "[client][generate]") {
  std::ostringstream out, err;
  const auto parsed =
      parse_command_line({"generate", "--manager", "runit", "-o", "/tmp/x", "--strict", "--user"}, out, err);
  REQUIRE(parsed.invocation);
  CHECK(parsed.invocation->verb->name == "generate");
  CHECK(parsed.invocation->manager == "runit");
  CHECK(parsed.invocation->output_dir == std::filesystem::path("/tmp/x"));
  CHECK(parsed.invocation->strict);
  CHECK(parsed.invocation->globals.overrides.mode == Mode::user);
  CHECK_FALSE(parse_command_line({"generate", "--list", "--capabilities"}, out, err).invocation);
}

TEST_CASE("generate: usage errors exit 2 before anything is loaded", "[client][generate]") {
  const auto unknown = run_generate_with({"generate", "--manager", "upstart", "-o", "/nonexistent/out"});
  CHECK(unknown.status == 2);
  CHECK(unknown.err.find("unknown process manager 'upstart'; known managers: systemd, supervisord") !=
        std::string::npos);
  const auto no_output = run_generate_with({"generate", "--manager", "systemd"});
  CHECK(no_output.status == 2);
  CHECK(no_output.err.find("-o DIR is required") != std::string::npos);
}

TEST_CASE("generate: --list and --capabilities describe the adapters", "[client][generate]") {
  const auto list = run_generate_with({"generate", "--list"});
  CHECK(list.status == 0);
  CHECK(list.out.starts_with("systemd      systemd .service units"));
  const auto table = run_generate_with({"generate", "--capabilities", "--manager", "sysvinit"});
  CHECK(table.status == 0);
  CHECK(table.out.starts_with(
      "| property | sysvinit | how |\n|---|---|---|\n| `foregroundProcess` | emulated |"));
}

TEST_CASE("generate: writes the files with their modes, or nothing under --strict", "[client][generate]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nixpm-generate-unit-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "p.yaml") << "instances:\n  a: { process: /bin/true, umask: \"077\" }\n"; }
  const std::string config = (dir / "p.yaml").string();
  const auto strict =
      run_generate_with({"generate", "--manager", "sysvinit", "-c", config, "-o", (dir / "strict").string(),
                         "--strict", "--state-dir", (dir / "state").string()});
  CHECK(strict.status == 1);
  CHECK(strict.err.find("a: foregroundProcess: emulated on sysvinit: ") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "strict"));

  const auto written = run_generate_with({"generate", "--manager", "sysvinit", "-c", config, "-o",
                                          (dir / "out").string(), "--state-dir", (dir / "state").string()});
  CHECK(written.status == 0);
  CHECK(std::filesystem::status(dir / "out" / "init.d" / "a").permissions() == std::filesystem::perms(0755));
  CHECK(std::filesystem::is_symlink(dir / "out" / "rc2.d" / "S01a"));
  CHECK(std::filesystem::read_symlink(dir / "out" / "rc2.d" / "S01a") == "../init.d/a");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nixpm::client
