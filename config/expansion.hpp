#pragma once
// Turning one declared instance (plain, or an invocation of a constructor) into an InstanceSpec:
// binding parameters, resolving their defaults, interpolating every string property. Internal to
// the config library.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/loader.hpp"
#include "config/model.hpp"
#include "config/properties.hpp"
#include "config/yaml_reader.hpp"

namespace nixpm::config {

struct ParameterDeclaration {
  Text name;
  std::optional<Text> default_value;  // none: the parameter is required
};

struct ConstructorDefinition {
  std::string name;
  std::vector<ParameterDeclaration> parameters;
  RawProperties properties;
};

struct InstanceDeclaration {
  Text name;  // the key under `instances`, where the instance is declared
  std::optional<Text> constructor;
  std::vector<std::pair<Text, Text>> arguments;  // `params`: name -> value as written
  RawProperties properties;
};

// The names interpolation always knows besides an instance's parameters.
const std::vector<std::string>& builtin_variable_names();

// `constructor` is null for a plain instance. Problems are reported through `reader`; the spec is
// returned regardless (with whatever could be resolved) so that later checks, such as dependency
// validation, still know the instance exists.
InstanceSpec expand_instance(const InstanceDeclaration& instance, const ConstructorDefinition* constructor,
                             const DirectoryVariables& dirs, YamlReader& reader);

}  // namespace nixpm::config
