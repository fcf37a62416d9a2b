#pragma once
// The process properties shared by constructors and instances, read from YAML but not yet
// interpolated: a constructor's properties are templates that each instance expands with its own
// variables. Internal to the config library.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace nixpm::config {

struct RawProperties {
  std::optional<Text> description;
  std::optional<Text> process;
  std::optional<std::vector<Text>> args;
  std::optional<Text> foreground_process;
  std::optional<std::vector<Text>> foreground_process_args;
  std::optional<std::vector<Text>> foreground_process_extra_args;
  std::optional<TextPairs> environment;
  std::optional<Text> directory;
  std::optional<std::vector<Text>> dependencies;
  std::optional<TextPairs> files;
  std::optional<At<bool>> autostart;
  std::optional<At<RestartPolicy>> restart;
  std::optional<At<double>> restart_delay;
  std::optional<At<double>> max_restart_delay;
  std::optional<At<double>> stable_after;
  std::optional<At<int>> restart_limit;
  std::optional<At<int>> stop_signal;
  std::optional<At<double>> stop_timeout;

  // Every property key written, valid or not: a key whose value was refused still counts as
  // given, so one mistake is not followed by "has neither 'process' nor 'foregroundProcess'".
  std::set<std::string> keys;
};

// Reads `entry` into `properties` if its key is a property (reporting bad values) and returns
// true; returns false, reporting nothing, for any other key.
bool read_property(YamlReader& reader, const MapEntry& entry, RawProperties& properties);

// Reports a key that is neither a property nor one of `context_keys` (the keys the enclosing map
// allows besides properties): "not supported yet" for createManagedProcess keys nixpm will learn
// later, otherwise "unknown key" with a suggestion.
void report_unexpected_key(YamlReader& reader, const MapEntry& entry,
                           const std::vector<std::string>& context_keys);

// Each property set in `overrides` replaces the one in `base` as a whole (no merging of lists or
// maps), which keeps the rule easy to predict.
RawProperties merge(const RawProperties& base, const RawProperties& overrides);

}  // namespace nixpm::config
