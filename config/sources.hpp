#pragma once
// The front-ends that fill a DeclarationSet: YAML files with their includes (includes.cpp), a
// directory of agnostic JSON configs and a processes.nix evaluated to JSON (agnostic_json.cpp).
// Each records the files it read, in order, so that diagnostics can be sorted by file. Internal to
// the config library.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/declarations.hpp"
#include "config/loader.hpp"

namespace nixpm::config {

struct SourceFiles {
  std::vector<std::string> labels;  // every file read, in the order it was read
};

// The whole file, or nullopt with `error` set to the errno that stopped reading it.
std::optional<std::string> read_text_file(const std::filesystem::path& file, int& error);

// Parses YAML (or JSON, which is YAML) text; a syntax error is one diagnostic at its position.
std::optional<YAML::Node> parse_yaml(std::string_view text, const std::string& label, Diagnostics& diagnostics);

// A YAML definitions document and, recursively, the files its `include` lists (relative to the
// including file). Each file is read once; an include cycle is refused at the include item.
void load_yaml_text(std::string_view text, const std::string& label, DeclarationSet& set,
                    Diagnostics& diagnostics, SourceFiles& files);
void load_yaml_file(const std::filesystem::path& file, DeclarationSet& set, Diagnostics& diagnostics,
                    SourceFiles& files);

// One agnostic object (what createManagedProcess writes with processManager = null) as a plain,
// literal instance named `name`. Unknown keys are refused with the same validator as YAML;
// `dependencies` may be Nix store paths (/nix/store/<hash>-<name>), which name the instance <name>.
void read_agnostic_instance(const YAML::Node& object, const Text& name, YamlReader& reader, DeclarationSet& set);

// Every <name>.json in `directory`, sorted by name, as one instance each.
void load_agnostic_directory(const std::filesystem::path& directory, DeclarationSet& set,
                             Diagnostics& diagnostics, SourceFiles& files);

// Evaluates `file` with nix-instantiate and reads the resulting object of agnostic objects.
void load_nix_file(const std::filesystem::path& file, const DirectoryVariables& dirs, const LoadOptions& options,
                   DeclarationSet& set, Diagnostics& diagnostics, SourceFiles& files);

}  // namespace nixpm::config
