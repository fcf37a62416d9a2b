#include "config/loader.hpp"

#include <algorithm>
#include <system_error>
#include <tuple>

#include "config/dependency_graph.hpp"
#include "config/expansion.hpp"
#include "config/sources.hpp"

namespace nixpm::config {
namespace {

// Expands, validates and sorts: the part every front-end shares.
LoadResult finish(const DeclarationSet& set, const std::filesystem::path& source, const SourceFiles& files,
                  const DirectoryVariables& dirs, const LoadOptions& options, Diagnostics diagnostics) {
  LoadResult result;
  Definitions definitions;
  definitions.source = source;
  try {
    YamlReader reporter(source.string(), diagnostics);
    Expansion expansion = expand_instances(set, dirs, options, reporter);
    definitions.instances = std::move(expansion.instances);
    result.ids = std::move(expansion.ids);
  } catch (const std::exception& e) {
    // The readers check every node before using it; this is a last line of defence for callers
    // that must never see an exception from a bad file.
    diagnostics.push_back({{source.string(), 0, 0}, std::string("cannot load definitions: ") + e.what()});
  }
  auto dependency_problems = validate_dependencies(definitions);
  diagnostics.insert(diagnostics.end(), dependency_problems.begin(), dependency_problems.end());

  // A text shared by both command forms (e.g. `args`) is expanded twice; say each problem once.
  Diagnostics unique;
  for (auto& diagnostic : diagnostics)
    if (std::none_of(unique.begin(), unique.end(), [&](const Diagnostic& d) {
          return d.position == diagnostic.position && d.message == diagnostic.message;
        }))
      unique.push_back(std::move(diagnostic));
  diagnostics = std::move(unique);

  // Files in the order they were read, then file order within each; problems found at the same
  // place keep the order they were found in.
  auto rank = [&](const SourcePosition& position) {
    auto it = std::find(files.labels.begin(), files.labels.end(), position.file);
    return static_cast<std::size_t>(it - files.labels.begin());
  };
  std::stable_sort(diagnostics.begin(), diagnostics.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    return std::tuple(rank(a.position), a.position.line, a.position.column) <
           std::tuple(rank(b.position), b.position.line, b.position.column);
  });
  const bool failed = std::any_of(diagnostics.begin(), diagnostics.end(),
                                  [](const Diagnostic& d) { return d.severity == Severity::error; });
  result.diagnostics = std::move(diagnostics);
  if (!failed) result.definitions = std::move(definitions);
  else result.ids.clear();
  return result;
}

}  // namespace

DirectoryVariables DirectoryVariables::from(const Paths& paths) {
  return {paths.state_dir.string(), paths.runtime_dir.string(), paths.log_dir.string(),
          paths.tmp_dir.string(), paths.cache_dir.string()};
}

bool LoadResult::has_warnings() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::warning; });
}

std::string LoadResult::report() const {
  std::string text;
  for (const auto& diagnostic : diagnostics) text += diagnostic.to_string() + "\n";
  return text;
}

LoadResult load_definitions_text(std::string_view yaml_text, const std::string& file_label,
                                 const DirectoryVariables& dirs, const LoadOptions& options) {
  DeclarationSet set;
  Diagnostics diagnostics;
  SourceFiles files;
  load_yaml_text(yaml_text, file_label, set, diagnostics, files);
  return finish(set, file_label, files, dirs, options, std::move(diagnostics));
}

LoadResult load_definitions_file(const std::filesystem::path& file, const DirectoryVariables& dirs,
                                 const LoadOptions& options) {
  DeclarationSet set;
  Diagnostics diagnostics;
  SourceFiles files;
  std::error_code ec;
  const bool nix = file.extension() == ".nix";
  if (std::filesystem::is_directory(file, ec))
    load_agnostic_directory(file, set, diagnostics, files);
  else if (nix)
    load_nix_file(file, dirs, options, set, diagnostics, files);
  else
    load_yaml_file(file, set, diagnostics, files);
  auto result = finish(set, file, files, dirs, options, std::move(diagnostics));
  if (nix) {
    // Lines and columns would point into Nix's JSON output, not into anything the user wrote.
    auto forget = [&](SourcePosition& position) {
      if (position.file == file.string()) position.line = position.column = 0;
    };
    for (auto& diagnostic : result.diagnostics) forget(diagnostic.position);
    if (result.definitions)
      for (auto& spec : result.definitions->instances) {
        forget(spec.position);
        for (auto& dependency : spec.dependencies) forget(dependency.position);
      }
  }
  return result;
}

}  // namespace nixpm::config
