#pragma once
// Definitions as declared, before expansion: constructors, instances and id pools gathered from
// every file (YAML documents, included files, agnostic JSON). Internal to the config library.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/id_assignments.hpp"
#include "config/properties.hpp"
#include "config/values.hpp"
#include "config/yaml_reader.hpp"

namespace nixpm::config {

struct ParameterDeclaration {
  Text name;
  std::optional<ParamValue> default_value;  // none: the parameter is required
};

struct ConstructorDefinition {
  std::string name;
  SourcePosition position;
  std::vector<ParameterDeclaration> parameters;
  RawProperties properties;
};

struct InstanceDeclaration {
  Text name;  // the key under `instances` (or the JSON file's base name), where it is declared
  std::optional<Text> constructor;
  // `params`: name -> value as written. For a constructor invocation these are its arguments; a
  // plain instance declares its own variables with them.
  std::vector<std::pair<Text, ParamValue>> arguments;
  RawProperties properties;
  bool literal = false;  // agnostic JSON and Nix output: strings are final, never interpolated
  bool broken = false;   // refused; kept only so that the name counts as declared
};

struct DeclarationSet {
  std::vector<ConstructorDefinition> constructors;
  std::vector<InstanceDeclaration> instances;
  std::vector<IdPool> pools;

  // By name, through an index of the names seen so far: add_instance looks every new name up, and a
  // search of the vector made reading N instances cost N² (10,000 instances took seconds in `check`).
  const InstanceDeclaration* find_instance(std::string_view name) const;

  // The index behind find_instance: entries [0, indexed) of `instances` by name. It catches up with
  // instances appended since, and starts over if the vector shrank.
  mutable std::unordered_map<std::string, std::size_t> instance_index{};
  mutable std::size_t indexed = 0;
};

// Adds one YAML definitions document to `set`, reporting names declared twice (within or across
// files) at the second declaration. Returns the document's `include` items, in order.
std::vector<Text> read_document(const YAML::Node& root, YamlReader& reader, DeclarationSet& set);

// Adds an instance unless its name is taken (then reports it and returns false).
bool add_instance(InstanceDeclaration instance, YamlReader& reader, DeclarationSet& set);

// Instance names become file names (logs, pid files) and unit names in the native adapters.
bool is_instance_name(std::string_view name);

}  // namespace nixpm::config
