#pragma once
// Typed access to yaml-cpp nodes that turns every surprise into a diagnostic at the node's
// file:line:column instead of an exception. Internal to the config library.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/source_position.hpp"

namespace nixpm::config {

// A value together with where it was written, so that problems found later (during expansion or
// interpolation) still point at the right place.
template <typename T>
struct At {
  T value;
  SourcePosition position;
};

using Text = At<std::string>;
using TextPairs = std::vector<std::pair<Text, Text>>;

// One key of a YAML map.
struct MapEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

class YamlReader {
 public:
  YamlReader(std::string file, Diagnostics& diagnostics)
      : file_(std::move(file)), diagnostics_(diagnostics) {}

  const std::string& file() const { return file_; }
  SourcePosition position(const YAML::Node& node) const;
  SourcePosition position(const YAML::Mark& mark) const;
  void error(const SourcePosition& where, std::string message);
  void error(const YAML::Node& where, std::string message) { error(position(where), std::move(message)); }
  void warning(const SourcePosition& where, std::string message);
  // Where problems go; later stages (id assignment) add to it directly.
  Diagnostics& diagnostics() { return diagnostics_; }

  // The entries of a map in document order. A null node counts as an empty map (the YAML
  // spelling of `key:` with nothing after it). Duplicate and non-scalar keys are reported and
  // skipped, so callers see each key once.
  std::vector<MapEntry> entries(const YAML::Node& map);

  // The readers below report "'key' must be ..." at the value and return nullopt when the value
  // has the wrong shape. Lists and maps accept null as empty.
  std::optional<Text> string(const MapEntry& entry);
  std::optional<std::vector<Text>> string_list(const MapEntry& entry);
  // A map of scalars to scalars, e.g. `environment`.
  std::optional<TextPairs> string_map(const MapEntry& entry);
  std::optional<At<bool>> boolean(const MapEntry& entry);
  std::optional<At<double>> number(const MapEntry& entry);
  std::optional<At<long long>> integer(const MapEntry& entry);
  // Checks that the value is a map (or null) and reports otherwise.
  bool is_map(const MapEntry& entry);

 private:
  std::string file_;
  Diagnostics& diagnostics_;
};

// "a string", "a list", "a map" or "null", for "must be X, not Y" messages.
std::string describe(const YAML::Node& node);

}  // namespace nixpm::config
