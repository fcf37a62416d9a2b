#include "config/declarations.hpp"

#include <algorithm>
#include <cctype>

#include "config/expansion.hpp"
#include "config/interpolation.hpp"
#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

class DocumentReader {
 public:
  DocumentReader(YamlReader& reader, DeclarationSet& set) : reader_(reader), set_(set) {}

  std::vector<Text> read(const YAML::Node& root);

 private:
  void read_constructor(const MapEntry& entry);
  void read_instance(const MapEntry& entry);
  void read_pool(const MapEntry& entry);
  std::optional<std::pair<Text, ParamValue>> read_parameter(const MapEntry& item, bool value_required);

  YamlReader& reader_;
  DeclarationSet& set_;
};

std::string already(const SourcePosition& first) { return " (first declared at " + first.to_string() + ")"; }

std::vector<Text> DocumentReader::read(const YAML::Node& root) {
  std::vector<Text> includes;
  if (!root.IsMap() && !root.IsNull()) {
    reader_.error(root,
                  "the top level must be a map with 'constructors' and 'instances', not " + describe(root));
    return includes;
  }
  // Constructors and pools first, wherever they appear, so instances can refer to any of them.
  std::optional<MapEntry> instances;
  for (const auto& entry : reader_.entries(root)) {
    if (entry.key == "constructors") {
      if (reader_.is_map(entry))
        for (const auto& constructor : reader_.entries(entry.value)) read_constructor(constructor);
    } else if (entry.key == "instances") {
      instances = entry;
    } else if (entry.key == "idPools") {
      if (reader_.is_map(entry))
        for (const auto& pool : reader_.entries(entry.value)) read_pool(pool);
    } else if (entry.key == "include") {
      if (auto items = reader_.string_list(entry)) includes = std::move(*items);
    } else {
      reader_.error(entry.key_node,
                    "unknown top-level key '" + entry.key + "'" +
                        did_you_mean(entry.key, {"constructors", "instances", "include", "idPools"}));
    }
  }
  if (instances && reader_.is_map(*instances))
    for (const auto& entry : reader_.entries(instances->value)) read_instance(entry);
  return includes;
}

void DocumentReader::read_constructor(const MapEntry& entry) {
  const auto position = reader_.position(entry.key_node);
  for (const auto& other : set_.constructors) {
    if (other.name != entry.key) continue;
    reader_.error(position, "constructor '" + entry.key + "' is declared twice" + already(other.position));
    return;
  }
  ConstructorDefinition constructor;
  constructor.name = entry.key;
  constructor.position = position;
  if (!entry.value.IsMap() && !entry.value.IsNull()) {
    reader_.error(entry.value, "constructor '" + entry.key + "' must be a map, not " + describe(entry.value));
  }
  for (const auto& item : reader_.entries(entry.value)) {
    if (item.key == "params") {
      if (!reader_.is_map(item)) continue;
      for (const auto& parameter : reader_.entries(item.value))
        if (auto declared = read_parameter(parameter, false))
          constructor.parameters.push_back(
              {declared->first, parameter.value.IsNull() ? std::nullopt : std::optional(declared->second)});
    } else if (!read_property(reader_, item, constructor.properties)) {
      report_unexpected_key(reader_, item, {"params"});
    }
  }
  // Kept even when parts were refused: instances using it should not add "unknown constructor".
  set_.constructors.push_back(std::move(constructor));
}

std::optional<std::pair<Text, ParamValue>> DocumentReader::read_parameter(const MapEntry& item,
                                                                          bool value_required) {
  const auto name_position = reader_.position(item.key_node);
  if (!is_variable_name(item.key) || item.key.find('.') != std::string::npos) {
    reader_.error(name_position, "invalid parameter name '" + item.key +
                                     "' (use letters, digits, '_' and '-', starting with a letter or '_')");
    return std::nullopt;
  }
  const auto& reserved = reserved_variable_names();
  if (std::find(reserved.begin(), reserved.end(), item.key) != reserved.end()) {
    reader_.error(name_position, "parameter '" + item.key + "' would hide the built-in variable of that name");
    return std::nullopt;
  }
  if (value_required && item.value.IsNull()) {
    reader_.error(item.value, "parameter '" + item.key + "' needs a value");
    return std::nullopt;
  }
  return std::pair{Text{item.key, name_position}, read_param_value(item.value, reader_)};
}

void DocumentReader::read_instance(const MapEntry& entry) {
  InstanceDeclaration instance;
  instance.name = {entry.key, reader_.position(entry.key_node)};
  if (!is_instance_name(entry.key)) {
    reader_.error(entry.key_node,
                  "invalid instance name '" + entry.key +
                      "' (use letters, digits, '_', '-', '.' and '@', not starting with '.' or '-')");
    instance.broken = true;
  } else if (!entry.value.IsMap() && !entry.value.IsNull()) {
    reader_.error(entry.value, "instance '" + entry.key + "' must be a map, not " + describe(entry.value));
    instance.broken = true;
  }
  std::optional<MapEntry> params;
  for (const auto& item : instance.broken ? std::vector<MapEntry>{} : reader_.entries(entry.value)) {
    if (item.key == "constructor") {
      instance.constructor = reader_.string(item);
    } else if (item.key == "params") {
      params = item;
    } else if (!read_property(reader_, item, instance.properties)) {
      report_unexpected_key(reader_, item, {"constructor", "params"});
    }
  }
  if (params && reader_.is_map(*params)) {
    // An invocation's arguments may be null only to say "the empty string"; a plain instance's
    // variables have no constructor to supply a default, so they need a value.
    for (const auto& item : reader_.entries(params->value))
      if (auto argument = read_parameter(item, !instance.constructor))
        instance.arguments.push_back(std::move(*argument));
  }
  add_instance(std::move(instance), reader_, set_);
}

void DocumentReader::read_pool(const MapEntry& entry) {
  IdPool pool{entry.key, 0, 0, reader_.position(entry.key_node)};
  if (!is_variable_name(entry.key) || entry.key.find('.') != std::string::npos) {
    reader_.error(pool.position, "invalid id pool name '" + entry.key + "'");
    return;
  }
  for (const auto& other : set_.pools) {
    if (other.name != entry.key) continue;
    reader_.error(pool.position, "id pool '" + entry.key + "' is declared twice" + already(other.position));
    return;
  }
  if (!reader_.is_map(entry)) return;
  bool has_min = false, has_max = false, ok = true;
  for (const auto& item : reader_.entries(entry.value)) {
    if (item.key != "min" && item.key != "max") {
      reader_.error(item.key_node, "unknown key '" + item.key + "' in id pool '" + entry.key + "'" +
                                       did_you_mean(item.key, {"min", "max"}));
      ok = false;
      continue;
    }
    auto value = reader_.integer(item);
    if (!value) {
      ok = false;
      continue;
    }
    (item.key == "min" ? pool.min : pool.max) = value->value;
    (item.key == "min" ? has_min : has_max) = true;
  }
  if (ok && (!has_min || !has_max)) {
    reader_.error(pool.position, "id pool '" + entry.key + "' needs both 'min' and 'max'");
    ok = false;
  }
  if (ok && pool.min > pool.max) {
    reader_.error(pool.position, "id pool '" + entry.key + "' has 'min' (" + std::to_string(pool.min) +
                                     ") greater than 'max' (" + std::to_string(pool.max) + ")");
    ok = false;
  }
  if (ok) set_.pools.push_back(pool);
}

}  // namespace

const InstanceDeclaration* DeclarationSet::find_instance(std::string_view name) const {
  if (indexed > instances.size()) {
    instance_index.clear();
    indexed = 0;
  }
  // The first declaration of a name wins, as the search from the front did.
  for (; indexed < instances.size(); ++indexed) instance_index.try_emplace(instances[indexed].name.value, indexed);
  const auto found = instance_index.find(std::string(name));
  return found == instance_index.end() ? nullptr : &instances[found->second];
}

bool add_instance(InstanceDeclaration instance, YamlReader& reader, DeclarationSet& set) {
  if (const auto* other = set.find_instance(instance.name.value)) {
    reader.error(instance.name.position,
                 "instance '" + instance.name.value + "' is declared twice" + already(other->name.position));
    return false;
  }
  set.instances.push_back(std::move(instance));
  return true;
}

bool is_instance_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' || c == '@';
  });
}

std::vector<Text> read_document(const YAML::Node& root, YamlReader& reader, DeclarationSet& set) {
  return DocumentReader(reader, set).read(root);
}

}  // namespace nixpm::config
