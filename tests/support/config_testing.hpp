#pragma once
// Helpers shared by the config unit tests: directory variables, raw-string YAML, and reading results.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"

namespace nixpm::testing {

using Lines = std::vector<std::string>;

inline const config::DirectoryVariables kDirs{"/state", "/state/run", "/state/log", "/state/tmp", "/state/cache"};

// Lets tests write YAML in a raw string that starts on the line after R"(.
inline std::string_view yaml(std::string_view text) {
  if (text.starts_with('\n')) text.remove_prefix(1);
  return text;
}

// Every diagnostic as "file:line:column: error: message".
inline Lines errors(const config::LoadResult& result) {
  Lines lines;
  for (const auto& diagnostic : result.diagnostics) lines.push_back(diagnostic.to_string());
  return lines;
}

// The named instance of a result that must have loaded.
inline const config::InstanceSpec& instance(const config::LoadResult& result, std::string_view name) {
  INFO(result.report());
  REQUIRE(result.ok());
  const config::InstanceSpec* spec = result.definitions->find(name);
  REQUIRE(spec != nullptr);
  return *spec;
}

}  // namespace nixpm::testing
