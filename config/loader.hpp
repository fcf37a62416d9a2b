#pragma once
// Loading definitions: read, parse, expand constructors, interpolate, validate. The pipeline collects
// every diagnostic it can (with file:line:column) instead of stopping at the first, and never throws
// for bad input. The daemon, `nixpmctl check` and the adapters all load through here.
//
// Sources: a YAML file (with its `include`s), a directory of nix-processmgmt agnostic JSON configs
// (<name>.json each), or a *.nix file evaluated with nix-instantiate to the same JSON.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/paths.hpp"
#include "config/id_assignments.hpp"
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

struct LoadOptions {
  // Check that absolute commands exist and are executable here (errors) and that bare command names
  // are found in `path`/PATH (warnings). Off by default: definitions are often checked or generated
  // for another machine, and golden tests must not depend on this one.
  bool check_executables = false;
  // The assignments in use (ids.json), so that every instance keeps its ids; null: a first run.
  const IdTable* previous_ids = nullptr;
  // Passed to the Nix evaluation of a *.nix file (forceDisableUserChange).
  bool force_disable_user_change = false;
};

struct LoadResult {
  std::optional<Definitions> definitions;  // set only when there are no errors (warnings are fine)
  Diagnostics diagnostics;                 // errors and warnings, sorted by file, line and column
  // The id assignments these definitions use. Save them (save_id_assignments) only once the
  // definitions are accepted, so that a refused reload changes nothing.
  IdTable ids;

  bool ok() const { return definitions.has_value(); }
  bool has_warnings() const;
  // All diagnostics, one per line.
  std::string report() const;
};

// `file` is a YAML file, a directory of agnostic JSON configs, or a *.nix file.
LoadResult load_definitions_file(const std::filesystem::path& file, const DirectoryVariables& dirs,
                                 const LoadOptions& options = {});
// YAML text; `file_label` names it in diagnostics and its directory anchors relative includes.
LoadResult load_definitions_text(std::string_view yaml_text, const std::string& file_label,
                                 const DirectoryVariables& dirs, const LoadOptions& options = {});

}  // namespace nixpm::config
