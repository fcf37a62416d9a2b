#pragma once
// Loading definitions: read, parse, expand constructors, interpolate, validate. The pipeline collects
// every diagnostic it can (with file:line:column) instead of stopping at the first, and never throws
// for bad input. The daemon, `nixpmctl check` and the adapters all load through here.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/paths.hpp"
#include "config/model.hpp"

namespace nixpm::config {

// The built-in directory variables (${stateDir}, ${runtimeDir}, ${logDir}, ${tmpDir}, ${cacheDir}).
struct DirectoryVariables {
  std::string state_dir;
  std::string runtime_dir;
  std::string log_dir;
  std::string tmp_dir;
  std::string cache_dir;

  static DirectoryVariables from(const Paths& paths);
};

struct LoadResult {
  std::optional<Definitions> definitions;  // set only when there are no diagnostics
  Diagnostics diagnostics;

  bool ok() const { return definitions.has_value(); }
  // All diagnostics, one per line.
  std::string report() const;
};

LoadResult load_definitions_file(const std::filesystem::path& file, const DirectoryVariables& dirs);
// `file_label` names the text in diagnostics.
LoadResult load_definitions_text(std::string_view yaml_text, const std::string& file_label,
                                 const DirectoryVariables& dirs);

}  // namespace nixpm::config
