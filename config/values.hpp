#pragma once
// Parameter values: a parameter may be a string, a list or a map (nested freely). Values are kept
// as written (with positions) until an instance resolves them; resolved values are plain text trees.
// Internal to the config library.

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/yaml_reader.hpp"

namespace nixpm::config {

enum class ValueKind { scalar, list, map };

struct ParamEntry;

// A parameter value as written. Scalars are interpolated when the instance resolves them.
struct ParamValue {
  ValueKind kind = ValueKind::scalar;
  Text text;  // the scalar; for lists and maps only the position is meaningful
  std::vector<ParamValue> items;
  std::vector<ParamEntry> entries;
};

struct ParamEntry {
  Text key;
  ParamValue value;
};

// A parameter value after interpolation.
struct Resolved {
  ValueKind kind = ValueKind::scalar;
  std::string text;
  std::vector<Resolved> items;
  std::vector<std::string> keys;  // map entries: keys[i] -> items[i]
};

// Reads a YAML node into a ParamValue; null is refused by the caller (it means "required").
ParamValue read_param_value(const YAML::Node& node, YamlReader& reader);

// "a string", "a list" or "a map".
const char* describe(ValueKind kind);

}  // namespace nixpm::config
