// Readers for the properties whose values are more than a string or a list of strings.
#include <algorithm>
#include <charconv>
#include <cctype>
#include <climits>
#include <cstdint>
#include <string_view>

#include "common/signal_names.hpp"
#include "config/properties.hpp"
#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

std::string quoted_or_kind(const YAML::Node& node) {
  return node.IsScalar() ? "'" + node.Scalar() + "'" : describe(node);
}

// `key: true`, the only value the flag forms of readiness accept.
bool is_true(YamlReader& reader, const MapEntry& entry) {
  auto value = reader.boolean(entry);
  if (value && !value->value) reader.error(value->position, "'" + entry.key + "' can only be true");
  return value && value->value;
}

// Checks `entry.value`'s keys against `allowed`; reports the others with a suggestion.
std::vector<MapEntry> checked_entries(YamlReader& reader, const MapEntry& entry,
                                      const std::vector<std::string>& allowed) {
  std::vector<MapEntry> known;
  if (!reader.is_map(entry)) return known;
  for (auto& item : reader.entries(entry.value)) {
    if (std::find(allowed.begin(), allowed.end(), item.key) != allowed.end()) {
      known.push_back(std::move(item));
      continue;
    }
    reader.error(item.key_node, "unknown key '" + item.key + "' in '" + entry.key + "'" +
                                    did_you_mean(item.key, allowed));
  }
  return known;
}

std::optional<std::vector<std::pair<Text, TextPairs>>> read_principals(
    YamlReader& reader, const MapEntry& entry, const std::vector<std::string>& fields) {
  if (!reader.is_map(entry)) return std::nullopt;
  std::vector<std::pair<Text, TextPairs>> principals;
  bool ok = true;
  for (const auto& principal : reader.entries(entry.value)) {
    TextPairs values;
    for (const auto& field : checked_entries(reader, principal, fields)) {
      if (auto text = reader.string(field))
        values.push_back({Text{field.key, reader.position(field.key_node)}, std::move(*text)});
      else
        ok = false;
    }
    principals.push_back({Text{principal.key, reader.position(principal.key_node)}, std::move(values)});
  }
  if (!ok) return std::nullopt;
  return principals;
}

}  // namespace

std::optional<At<double>> read_seconds(YamlReader& reader, const MapEntry& entry, bool zero_allowed) {
  auto value = reader.number(entry);
  if (!value) return std::nullopt;
  if (zero_allowed ? value->value < 0 : value->value <= 0) {
    reader.error(value->position, "'" + entry.key + "' must be " +
                                      (zero_allowed ? "at least 0" : "greater than 0") + " seconds, not " +
                                      entry.value.Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<At<RestartPolicy>> read_restart_policy(YamlReader& reader, const MapEntry& entry) {
  auto text = reader.string(entry);
  if (!text) return std::nullopt;
  if (text->value == "always") return At<RestartPolicy>{RestartPolicy::always, text->position};
  if (text->value == "on-failure") return At<RestartPolicy>{RestartPolicy::on_failure, text->position};
  if (text->value == "never") return At<RestartPolicy>{RestartPolicy::never, text->position};
  reader.error(text->position, "'restart' must be always, on-failure or never, not '" + text->value + "'");
  return std::nullopt;
}

std::optional<At<int>> read_restart_limit(YamlReader& reader, const MapEntry& entry) {
  auto value = reader.integer(entry);
  if (!value) return std::nullopt;
  if (value->value < 1 || value->value > INT_MAX) {
    reader.error(value->position, "'restartLimit' must be at least 1, not " + entry.value.Scalar());
    return std::nullopt;
  }
  return At<int>{static_cast<int>(value->value), value->position};
}

std::optional<At<int>> read_stop_signal(YamlReader& reader, const MapEntry& entry) {
  auto text = reader.string(entry);
  if (!text) return std::nullopt;
  if (auto number = parse_signal(text->value)) return At<int>{*number, text->position};
  reader.error(
      text->position,
      "'stopSignal' must be a signal name such as TERM or SIGTERM, or a number, not '" + text->value + "'");
  return std::nullopt;
}

std::optional<At<ProcessType>> read_process_type(YamlReader& reader, const MapEntry& entry) {
  auto text = reader.string(entry);
  if (!text) return std::nullopt;
  if (text->value == "process") return At<ProcessType>{ProcessType::process, text->position};
  if (text->value == "oneshot") return At<ProcessType>{ProcessType::oneshot, text->position};
  reader.error(text->position, "'type' must be process or oneshot, not '" + text->value + "'");
  return std::nullopt;
}

std::optional<RawReadiness> read_readiness(YamlReader& reader, const MapEntry& entry) {
  static const std::vector<std::string> kinds{"started", "pidFile", "tcp", "command", "notify"};
  RawReadiness readiness;
  readiness.position = reader.position(entry.value);
  if (entry.value.IsScalar()) {
    const std::string& word = entry.value.Scalar();
    if (word == "started") return readiness;
    if (word == "pidFile") readiness.kind = ReadinessKind::pid_file;
    if (word == "notify") readiness.kind = ReadinessKind::notify;
    if (readiness.kind != ReadinessKind::started) return readiness;
    reader.error(entry.value, "'readiness' must be started, pidFile, notify, {tcp: ...} or {command: [...]}, "
                              "not '" + word + "'" + did_you_mean(word, kinds));
    return std::nullopt;
  }
  if (!entry.value.IsMap() || entry.value.size() != 1) {
    reader.error(entry.value, "'readiness' must be a word or a map with one of started, pidFile, tcp, "
                              "command and notify, not " + describe(entry.value) +
                                  (entry.value.IsMap() ? " with " + std::to_string(entry.value.size()) + " keys"
                                                       : ""));
    return std::nullopt;
  }
  auto items = checked_entries(reader, entry, kinds);
  if (items.empty()) return std::nullopt;
  const MapEntry& item = items.front();
  if (item.key == "started" || item.key == "pidFile" || item.key == "notify") {
    if (!is_true(reader, item)) return std::nullopt;
    readiness.kind = item.key == "started"   ? ReadinessKind::started
                     : item.key == "pidFile" ? ReadinessKind::pid_file
                                             : ReadinessKind::notify;
    return readiness;
  }
  if (item.key == "command") {
    readiness.kind = ReadinessKind::command;
    auto command = reader.string_list(item);
    if (!command) return std::nullopt;
    if (command->empty()) {
      reader.error(item.value, "the readiness 'command' is empty");
      return std::nullopt;
    }
    readiness.command = std::move(*command);
    return readiness;
  }
  readiness.kind = ReadinessKind::tcp;
  if (item.value.IsScalar()) {  // `tcp: 8080`
    readiness.port = Text{item.value.Scalar(), reader.position(item.value)};
    return readiness;
  }
  bool ok = true;
  for (const auto& field : checked_entries(reader, item, {"host", "port"})) {
    auto text = reader.string(field);
    ok = ok && text.has_value();
    (field.key == "host" ? readiness.host : readiness.port) = text;
  }
  if (ok && !readiness.port) {
    reader.error(item.value, "the readiness 'tcp' check needs a 'port'");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return readiness;
}

std::optional<RawLiveness> read_liveness(YamlReader& reader, const MapEntry& entry) {
  RawLiveness liveness;
  liveness.position = reader.position(entry.value);
  bool ok = reader.is_map(entry);
  bool has_command = false;
  for (const auto& field : checked_entries(reader, entry, {"command", "interval", "timeout"})) {
    if (field.key == "command") {
      has_command = true;
      auto command = reader.string_list(field);
      if (command && command->empty()) reader.error(field.value, "the liveness 'command' is empty");
      if (!command || command->empty()) ok = false;
      if (command) liveness.command = std::move(*command);
      continue;
    }
    auto seconds = read_seconds(reader, field, false);
    if (!seconds) ok = false;
    else (field.key == "interval" ? liveness.interval : liveness.timeout) = seconds->value;
  }
  if (ok && !has_command) {
    reader.error(entry.value, "'liveness' needs a 'command'");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return liveness;
}

std::optional<std::vector<At<int>>> read_exit_codes(YamlReader& reader, const MapEntry& entry) {
  if (!entry.value.IsSequence()) {
    reader.error(entry.value, "'" + entry.key + "' must be a list of exit codes, not " + describe(entry.value));
    return std::nullopt;
  }
  std::vector<At<int>> codes;
  bool ok = true;
  for (const auto& item : entry.value) {
    int code = -1;
    const std::string text = item.IsScalar() ? item.Scalar() : "";
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
    if (!item.IsScalar() || ec != std::errc() || end != text.data() + text.size() || code < 0 || code > 255) {
      reader.error(item, "items of '" + entry.key + "' must be exit codes from 0 to 255, not " +
                             quoted_or_kind(item));
      ok = false;
      continue;
    }
    codes.push_back({code, reader.position(item)});
  }
  if (!ok) return std::nullopt;
  return codes;
}

std::optional<RawCredentials> read_credentials(YamlReader& reader, const MapEntry& entry) {
  RawCredentials credentials;
  bool ok = reader.is_map(entry);
  for (const auto& part : checked_entries(reader, entry, {"groups", "users"})) {
    auto principals =
        part.key == "groups"
            ? read_principals(reader, part, {"gid"})
            : read_principals(reader, part, {"uid", "group", "description", "homeDir", "createHomeDir", "shell"});
    if (!principals) ok = false;
    else (part.key == "groups" ? credentials.groups : credentials.users) = std::move(*principals);
  }
  if (!ok) return std::nullopt;
  return credentials;
}

namespace {

// Limits counted in bytes, which also take a binary suffix (K, M, G, T) as systemd's LimitAS= does.
bool counts_bytes(std::string_view name) {
  for (std::string_view bytes : {"fsize", "data", "stack", "core", "rss", "as", "memlock", "msgqueue"})
    if (name == bytes) return true;
  return false;
}

// One limit value: a whole number ≥ 0 (with a suffix for byte limits), or infinity/unlimited.
std::optional<std::uint64_t> limit_value(YamlReader& reader, const YAML::Node& node, const std::string& limit,
                                         const std::string& what) {
  const std::string text = node.IsScalar() ? node.Scalar() : "";
  if (text == "infinity" || text == "unlimited") return kUnlimited;
  std::string_view digits(text);
  std::uint64_t scale = 1;
  if (counts_bytes(limit) && !digits.empty()) {
    const char suffix = digits.back();
    const std::string_view suffixes = "KMGT";
    if (auto at = suffixes.find(static_cast<char>(std::toupper(static_cast<unsigned char>(suffix))));
        at != std::string_view::npos) {
      scale = std::uint64_t{1} << (10 * (at + 1));
      digits.remove_suffix(1);
    }
  }
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  const bool whole =
      node.IsScalar() && !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
  if (whole && value <= (kUnlimited - 1) / scale) return value * scale;
  reader.error(node, "the " + what + "'" + limit + "' limit must be a whole number" +
                         (counts_bytes(limit) ? " of bytes (K, M, G or T may follow)" : "") +
                         " or infinity, not " + quoted_or_kind(node));
  return std::nullopt;
}

// "did you mean" for a limit name, also recognising systemd's LimitNOFILE and C's RLIMIT_NOFILE.
std::string limit_suggestion(const std::string& name) {
  std::string bare = name;
  for (std::string_view prefix : {"Limit", "RLIMIT_"})
    if (bare.size() > prefix.size() && bare.starts_with(prefix)) bare.erase(0, prefix.size());
  std::transform(bare.begin(), bare.end(), bare.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto& names = resource_limit_names();
  if (bare != name && std::find(names.begin(), names.end(), bare) != names.end())
    return " (did you mean '" + bare + "'?)";
  return did_you_mean(name, names);
}

}  // namespace

const std::vector<std::string>& resource_limit_names() {
  // setrlimit's resources as Linux has them (the Limit*= family of systemd.exec, in lower case).
  static const std::vector<std::string> names{
      "nofile", "nproc", "core",  "as",         "data",     "stack", "fsize",  "cpu",
      "memlock", "rss",  "locks", "sigpending", "msgqueue", "nice",  "rtprio", "rttime"};
  return names;
}

std::optional<At<std::vector<ResourceLimit>>> read_rlimits(YamlReader& reader, const MapEntry& entry) {
  At<std::vector<ResourceLimit>> limits{{}, reader.position(entry.value)};
  bool ok = reader.is_map(entry);
  for (const auto& item : reader.entries(entry.value)) {
    const auto& names = resource_limit_names();
    if (std::find(names.begin(), names.end(), item.key) == names.end()) {
      reader.error(item.key_node,
                   "unknown limit '" + item.key + "' in 'rlimits'" + limit_suggestion(item.key));
      ok = false;
      continue;
    }
    ResourceLimit limit{item.key, {}, {}};
    if (item.value.IsScalar()) {  // `nofile: 4096` sets both, as `ulimit -n 4096` and LimitNOFILE=4096 do
      auto value = limit_value(reader, item.value, item.key, "");
      if (!value) {
        ok = false;
        continue;
      }
      limit.soft = limit.hard = value;
    } else if (item.value.IsMap()) {
      bool fields_ok = true;
      for (const auto& field : checked_entries(reader, item, {"soft", "hard"})) {
        auto value = limit_value(reader, field.value, item.key, field.key + " ");
        fields_ok = fields_ok && value.has_value();
        (field.key == "soft" ? limit.soft : limit.hard) = value;
      }
      if (fields_ok && !limit.soft && !limit.hard) {
        reader.error(item.value, "the '" + item.key + "' limit needs 'soft', 'hard' or both");
        fields_ok = false;
      }
      if (fields_ok && limit.soft && limit.hard && *limit.soft > *limit.hard) {
        reader.error(item.value, "the soft '" + item.key + "' limit is above its hard limit");
        fields_ok = false;
      }
      if (!fields_ok) {
        ok = false;
        continue;
      }
    } else {
      reader.error(item.value, "the '" + item.key +
                                   "' limit must be a number, infinity or {soft, hard}, not " +
                                   describe(item.value));
      ok = false;
      continue;
    }
    limits.value.push_back(std::move(limit));
  }
  if (!ok) return std::nullopt;
  std::sort(limits.value.begin(), limits.value.end(),
            [](const ResourceLimit& a, const ResourceLimit& b) { return a.name < b.name; });
  return limits;
}

const std::vector<std::string>& manager_names() {
  static const std::vector<std::string> names{"systemd", "supervisord", "sysvinit", "bsdrc",  "launchd", "cygrunsrv",
                                              "s6-rc",   "runit",       "s6",       "docker", "disnix"};
  return names;
}

std::optional<At<std::map<std::string, nlohmann::json>>> read_overrides(YamlReader& reader,
                                                                        const MapEntry& entry) {
  At<std::map<std::string, nlohmann::json>> overrides{{}, reader.position(entry.value)};
  bool ok = reader.is_map(entry);
  for (const auto& manager : reader.entries(entry.value)) {
    const auto& names = manager_names();
    if (std::find(names.begin(), names.end(), manager.key) == names.end()) {
      reader.error(manager.key_node,
                   "unknown process manager '" + manager.key + "' in 'overrides'" + did_you_mean(manager.key, names));
      ok = false;
      continue;
    }
    overrides.value[manager.key] = to_json(manager.value);
  }
  if (!ok) return std::nullopt;
  return overrides;
}

nlohmann::json to_json(const YAML::Node& node) {
  if (node.IsMap()) {
    auto object = nlohmann::json::object();
    for (auto it = node.begin(); it != node.end(); ++it)
      if (it->first.IsScalar()) object[it->first.Scalar()] = to_json(it->second);
    return object;
  }
  if (node.IsSequence()) {
    auto array = nlohmann::json::array();
    for (const auto& item : node) array.push_back(to_json(item));
    return array;
  }
  if (!node.IsScalar()) return nullptr;
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text == "true") return true;
  if (text == "false") return false;
  if (text == "null" || text == "~") return nullptr;
  const char* end = text.data() + text.size();
  long long integer = 0;
  if (auto [ptr, ec] = std::from_chars(text.data(), end, integer); ec == std::errc() && ptr == end && !text.empty())
    return integer;
  double number = 0;
  if (auto [ptr, ec] = std::from_chars(text.data(), end, number); ec == std::errc() && ptr == end && !text.empty())
    return number;
  return text;
}

}  // namespace nixpm::config
