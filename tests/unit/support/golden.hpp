#pragma once
// Golden (expected-output) tests for the native-manager adapters. What an adapter generates for a fixture
// is compared byte for byte with tests/golden/managers/<manager>/<fixture>/<path>; the start order, each
// file's mode, the symbolic links and the loss report are compared with
// tests/golden/managers/<manager>/<fixture>.report.
//
// After an intended change, run the tests once with NIXPM_UPDATE_GOLDEN=1 in the environment: the golden
// files are then rewritten from what the adapters generate (and stale ones removed), and `git diff` shows
// what changed.

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "config/managers/manager_adapter.hpp"

namespace nixpm::testing {

inline std::filesystem::path golden_root() {
  return std::filesystem::path(NIXPM_FIXTURES_DIR) / ".." / "golden" / "managers";
}

inline bool updating_golden() {
  const char* flag = std::getenv("NIXPM_UPDATE_GOLDEN");
  return flag != nullptr && std::string_view(flag) == "1";
}

// The directories the golden fixtures are generated with: a system-scope installation (state in /var),
// or, for the user scope, a user's ~/.local/state/nixpm.
inline const config::DirectoryVariables kGoldenDirs{"/var", "/var/run", "/var/log", "/var/tmp", "/var/cache"};
inline const config::DirectoryVariables kGoldenUserDirs{
    "/home/alice/.local/state/nixpm", "/run/user/1000/nixpm", "/home/alice/.local/state/nixpm/log",
    "/home/alice/.local/state/nixpm/tmp", "/home/alice/.local/state/nixpm/cache"};

inline const config::DirectoryVariables& golden_dirs(managers::Scope scope) {
  return scope == managers::Scope::system ? kGoldenDirs : kGoldenUserDirs;
}

inline managers::GenerateOptions golden_options(managers::Scope scope = managers::Scope::system) {
  const auto& dirs = golden_dirs(scope);
  managers::GenerateOptions options;
  options.scope = scope;
  options.state_dir = dirs.state_dir;
  options.runtime_dir = dirs.runtime_dir;
  options.log_dir = dirs.log_dir;
  options.tmp_dir = dirs.tmp_dir;
  options.lib_dir = dirs.state_dir + "/lib";
  options.cache_dir = dirs.cache_dir;
  return options;
}

// tests/fixtures/managers/full.yaml or the webapps example, loaded with the scope's golden directories
// (must load).
inline config::Definitions load_golden_fixture(const std::filesystem::path& file,
                                               managers::Scope scope = managers::Scope::system) {
  const auto result = config::load_definitions_file(file, golden_dirs(scope));
  INFO(result.report());
  REQUIRE(result.ok());
  return *result.definitions;
}
inline std::filesystem::path full_fixture() {
  return std::filesystem::path(NIXPM_FIXTURES_DIR) / "managers" / "full.yaml";
}
inline std::filesystem::path webapps_fixture() {
  return std::filesystem::path(NIXPM_FIXTURES_DIR) / ".." / ".." / "examples" / "webapps" / "processes.yaml";
}

// Definitions from YAML text (loaded with kGoldenDirs; must load), for the adapters' unit tests.
inline config::Definitions definitions_from_yaml(std::string_view text) {
  if (text.starts_with('\n')) text.remove_prefix(1);
  const auto result = config::load_definitions_text(text, "test.yaml", kGoldenDirs);
  INFO(result.report());
  REQUIRE(result.ok());
  return *result.definitions;
}

// The generated file at `path`; fails the test when there is none.
inline const managers::OutputFile& generated_file(const managers::Generated& generated,
                                                  std::string_view path) {
  for (const auto& file : generated.files)
    if (file.path.generic_string() == path) return file;
  FAIL("no generated file " << path);
  throw std::logic_error("unreachable");
}

// What one manager generates from `yaml` (which must load) with the golden options.
inline managers::Generated generate_yaml(std::string_view manager, std::string_view yaml,
                                         managers::Scope scope = managers::Scope::system) {
  return managers::find_manager(manager)->generate(definitions_from_yaml(yaml), golden_options(scope));
}

// The generated file at `path`, or nullptr.
inline const managers::OutputFile* find_generated(const managers::Generated& generated, std::string_view path) {
  for (const auto& file : generated.files)
    if (file.path.generic_string() == path) return &file;
  return nullptr;
}

inline std::string generated_content(const managers::Generated& generated, std::string_view path) {
  const auto* file = find_generated(generated, path);
  INFO("no file " << path);
  REQUIRE(file != nullptr);
  return file->content;
}

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Losses as "instance: property: support: note" lines.
inline std::vector<std::string> loss_notes(const std::vector<managers::Loss>& losses) {
  std::vector<std::string> text;
  for (const auto& loss : losses)
    text.push_back(loss.instance + ": " + loss.property + ": " + std::string(managers::to_string(loss.support)) +
                   ": " + loss.note);
  return text;
}

// Whether `text` has a line equal to `line`.
inline bool has_line(std::string_view text, std::string_view line) {
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    if (text.substr(begin, end - begin) == line) return true;
    begin = end + 1;
  }
  return false;
}

// Losses as "instance: property: support" lines, to compare whole reports.
inline std::vector<std::string> loss_lines(const managers::Generated& generated) {
  std::vector<std::string> lines;
  for (const auto& loss : generated.losses)
    lines.push_back(loss.instance + ": " + loss.property + ": " +
                    std::string(managers::to_string(loss.support)));
  return lines;
}

// Start order, modes and losses as text, so that the report is golden-tested too.
inline std::string golden_report(const managers::Generated& generated) {
  std::ostringstream out;
  out << "start order:\n";
  for (const auto& name : generated.start_order) out << "  " << name << '\n';
  out << "files:\n";
  for (const auto& file : generated.files) {
    if (!file.link_target.empty()) {
      out << "  link " << file.path.generic_string() << " -> " << file.link_target.generic_string() << '\n';
      continue;
    }
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", file.mode);
    out << "  " << mode << ' ' << file.path.generic_string() << '\n';
  }
  out << "losses:\n";
  for (const auto& loss : generated.losses)
    out << "  " << loss.instance << ": " << loss.property << ": " << managers::to_string(loss.support) << ": "
        << loss.note << '\n';
  return out.str();
}

inline std::string read_golden_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_golden_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Compares (or, with NIXPM_UPDATE_GOLDEN=1, rewrites) the golden files of one manager and fixture.
inline void check_golden(const managers::Generated& generated, std::string_view manager,
                         std::string_view fixture) {
  const auto dir = golden_root() / manager / fixture;
  const auto report_path = golden_root() / manager / (std::string(fixture) + ".report");
  if (updating_golden()) {
    std::filesystem::remove_all(dir);
    // Links are described in the report only: a repository of dangling links helps nobody.
    for (const auto& file : generated.files)
      if (file.link_target.empty()) write_golden_file(dir / file.path, file.content);
    write_golden_file(report_path, golden_report(generated));
    WARN("rewrote golden files in " << dir.string());
    return;
  }
  INFO("refresh with NIXPM_UPDATE_GOLDEN=1 after an intended change");
  REQUIRE(std::filesystem::is_directory(dir));
  std::set<std::string> expected_paths;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) expected_paths.insert(entry.path().lexically_relative(dir).generic_string());
  std::set<std::string> generated_paths;
  for (const auto& file : generated.files) {
    if (!file.link_target.empty()) continue;  // compared through the report
    generated_paths.insert(file.path.generic_string());
    INFO("golden file " << (dir / file.path).string());
    CHECK(file.content == read_golden_file(dir / file.path));
  }
  CHECK(generated_paths == expected_paths);
  INFO("golden report " << report_path.string());
  CHECK(golden_report(generated) == read_golden_file(report_path));
}

}  // namespace nixpm::testing
