#include "config/yaml_reader.hpp"

#include <charconv>
#include <cmath>
#include <unordered_set>

namespace nixpm::config {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
  }
  return "an unknown node";
}

SourcePosition YamlReader::position(const YAML::Mark& mark) const {
  // yaml-cpp counts from 0 and uses -1 for "no mark"; SourcePosition counts from 1 and uses 0.
  if (mark.line < 0 || mark.column < 0) return {file_, 0, 0};
  return {file_, mark.line + 1, mark.column + 1};
}

SourcePosition YamlReader::position(const YAML::Node& node) const {
  return position(node.Mark());
}

void YamlReader::error(const SourcePosition& where, std::string message) {
  diagnostics_.push_back({where, std::move(message)});
}

void YamlReader::warning(const SourcePosition& where, std::string message) {
  diagnostics_.push_back({where, std::move(message), Severity::warning});
}

std::vector<MapEntry> YamlReader::entries(const YAML::Node& map) {
  std::vector<MapEntry> result;
  if (!map.IsMap()) return result;
  std::unordered_set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key, "keys must be strings, not " + describe(key));
      continue;
    }
    // yaml-cpp keeps both copies of a repeated key; lookups would silently use the first.
    if (!seen.insert(key.Scalar()).second) {
      error(key, "duplicate key '" + key.Scalar() + "'");
      continue;
    }
    result.push_back({key.Scalar(), key, it->second});
  }
  return result;
}

std::optional<Text> YamlReader::string(const MapEntry& entry) {
  if (!entry.value.IsScalar()) {
    error(entry.value, "'" + entry.key + "' must be a string, not " + describe(entry.value));
    return std::nullopt;
  }
  return Text{entry.value.Scalar(), position(entry.value)};
}

std::optional<std::vector<Text>> YamlReader::string_list(const MapEntry& entry) {
  std::vector<Text> items;
  if (entry.value.IsNull()) return items;
  if (!entry.value.IsSequence()) {
    error(entry.value, "'" + entry.key + "' must be a list of strings, not " + describe(entry.value));
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : entry.value) {
    if (!item.IsScalar()) {
      error(item, "items of '" + entry.key + "' must be strings, not " + describe(item));
      ok = false;
      continue;
    }
    items.push_back({item.Scalar(), position(item)});
  }
  if (!ok) return std::nullopt;
  return items;
}

std::optional<TextPairs> YamlReader::string_map(const MapEntry& entry) {
  if (!is_map(entry)) return std::nullopt;
  TextPairs pairs;
  bool ok = true;
  for (const auto& item : entries(entry.value)) {
    if (!item.value.IsScalar()) {
      error(item.value, "values of '" + entry.key + "' must be strings, not " + describe(item.value));
      ok = false;
      continue;
    }
    pairs.push_back(
        {Text{item.key, position(item.key_node)}, Text{item.value.Scalar(), position(item.value)}});
  }
  if (!ok) return std::nullopt;
  return pairs;
}

bool YamlReader::is_map(const MapEntry& entry) {
  if (entry.value.IsMap() || entry.value.IsNull()) return true;
  error(entry.value, "'" + entry.key + "' must be a map, not " + describe(entry.value));
  return false;
}

std::optional<At<bool>> YamlReader::boolean(const MapEntry& entry) {
  if (entry.value.IsScalar()) {
    const std::string& text = entry.value.Scalar();
    for (const char* yes : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
      if (text == yes) return At<bool>{true, position(entry.value)};
    for (const char* no : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
      if (text == no) return At<bool>{false, position(entry.value)};
  }
  error(entry.value, "'" + entry.key + "' must be true or false, not " +
                         (entry.value.IsScalar() ? "'" + entry.value.Scalar() + "'" : describe(entry.value)));
  return std::nullopt;
}

std::optional<At<double>> YamlReader::number(const MapEntry& entry) {
  if (entry.value.IsScalar()) {
    const std::string& text = entry.value.Scalar();
    double value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec == std::errc() && ptr == end && std::isfinite(value))
      return At<double>{value, position(entry.value)};
  }
  error(entry.value, "'" + entry.key + "' must be a number, not " +
                         (entry.value.IsScalar() ? "'" + entry.value.Scalar() + "'" : describe(entry.value)));
  return std::nullopt;
}

std::optional<At<long long>> YamlReader::integer(const MapEntry& entry) {
  if (entry.value.IsScalar()) {
    const std::string& text = entry.value.Scalar();
    long long value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec == std::errc() && ptr == end) return At<long long>{value, position(entry.value)};
  }
  error(entry.value, "'" + entry.key + "' must be a whole number, not " +
                         (entry.value.IsScalar() ? "'" + entry.value.Scalar() + "'" : describe(entry.value)));
  return std::nullopt;
}

}  // namespace nixpm::config
