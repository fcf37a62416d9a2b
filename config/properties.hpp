#pragma once
// The process properties shared by constructors and instances, read from YAML (or agnostic JSON)
// but not yet interpolated: a constructor's properties are templates that each instance expands with
// its own variables. Internal to the config library.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace nixpm::config {

// `readiness` as written; host, port and command are interpolated later.
struct RawReadiness {
  ReadinessKind kind = ReadinessKind::started;
  std::optional<Text> host;
  std::optional<Text> port;
  std::vector<Text> command;
  SourcePosition position;
};

struct RawLiveness {
  std::vector<Text> command;
  std::optional<double> interval;
  std::optional<double> timeout;
  SourcePosition position;
};

// `credentials`: each group or user name with its fields as written (field names already checked).
struct RawCredentials {
  std::vector<std::pair<Text, TextPairs>> groups;
  std::vector<std::pair<Text, TextPairs>> users;
};

struct RawProperties {
  // createManagedProcess's properties.
  std::optional<Text> name;
  std::optional<Text> instance_name;
  std::optional<Text> description;
  std::optional<Text> process;
  std::optional<std::vector<Text>> args;
  std::optional<Text> foreground_process;
  std::optional<std::vector<Text>> foreground_process_args;
  std::optional<std::vector<Text>> foreground_process_extra_args;
  std::optional<Text> daemon;
  std::optional<std::vector<Text>> daemon_args;
  std::optional<std::vector<Text>> daemon_extra_args;
  std::optional<Text> pid_file;
  std::optional<Text> initialize;
  std::optional<std::vector<Text>> path;
  std::optional<TextPairs> environment;
  std::optional<Text> directory;
  std::optional<Text> umask;
  std::optional<Text> nice;
  std::optional<At<std::vector<ResourceLimit>>> rlimits;  // checked when read, not interpolated
  std::optional<Text> user;
  std::optional<RawCredentials> credentials;
  std::optional<std::vector<Text>> dependencies;
  std::optional<At<std::map<std::string, nlohmann::json>>> overrides;
  // nixpm's own.
  std::optional<TextPairs> files;
  std::optional<At<bool>> autostart;
  std::optional<std::vector<Text>> unique_id_pools;  // requiresUniqueIdsFor
  std::optional<At<ProcessType>> type;
  std::optional<RawReadiness> readiness;
  std::optional<At<double>> start_timeout;
  std::optional<std::vector<At<int>>> success_exit_codes;
  std::optional<RawLiveness> liveness;
  std::optional<At<RestartPolicy>> restart;
  std::optional<At<double>> restart_delay;
  std::optional<At<double>> max_restart_delay;
  std::optional<At<double>> stable_after;
  std::optional<At<int>> restart_limit;
  std::optional<At<int>> stop_signal;
  std::optional<At<double>> stop_timeout;

  // Every property key written, valid or not: a key whose value was refused still counts as
  // given, so one mistake is not followed by "has none of 'process', ...".
  std::set<std::string> keys;
};

// Reads `entry` into `properties` if its key is a property (reporting bad values) and returns
// true; returns false, reporting nothing, for any other key.
bool read_property(YamlReader& reader, const MapEntry& entry, RawProperties& properties);

// Reports a key that is neither a property nor one of `context_keys` (the keys the enclosing map
// allows besides properties) as "unknown key", with a suggestion.
void report_unexpected_key(YamlReader& reader, const MapEntry& entry,
                           const std::vector<std::string>& context_keys);

// Each property set in `overrides` replaces the one in `base` as a whole (no merging of lists or
// maps), which keeps the rule easy to predict.
RawProperties merge(const RawProperties& base, const RawProperties& overrides);

// Readers of the structured properties (property_readers.cpp).
std::optional<At<double>> read_seconds(YamlReader& reader, const MapEntry& entry, bool zero_allowed);
std::optional<At<RestartPolicy>> read_restart_policy(YamlReader& reader, const MapEntry& entry);
std::optional<At<int>> read_restart_limit(YamlReader& reader, const MapEntry& entry);
std::optional<At<int>> read_stop_signal(YamlReader& reader, const MapEntry& entry);
std::optional<At<ProcessType>> read_process_type(YamlReader& reader, const MapEntry& entry);
std::optional<RawReadiness> read_readiness(YamlReader& reader, const MapEntry& entry);
std::optional<RawLiveness> read_liveness(YamlReader& reader, const MapEntry& entry);
std::optional<std::vector<At<int>>> read_exit_codes(YamlReader& reader, const MapEntry& entry);
std::optional<RawCredentials> read_credentials(YamlReader& reader, const MapEntry& entry);
std::optional<At<std::vector<ResourceLimit>>> read_rlimits(YamlReader& reader, const MapEntry& entry);
std::optional<At<std::map<std::string, nlohmann::json>>> read_overrides(YamlReader& reader,
                                                                        const MapEntry& entry);

// The limit names `rlimits` accepts, in the order the documentation lists them.
const std::vector<std::string>& resource_limit_names();

// The manager names `overrides` accepts.
const std::vector<std::string>& manager_names();

// A YAML tree as JSON: plain scalars that read as numbers, booleans or null become those; quoted
// scalars stay strings.
nlohmann::json to_json(const YAML::Node& node);

}  // namespace nixpm::config
