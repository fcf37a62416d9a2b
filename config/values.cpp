#include "config/values.hpp"

namespace nixpm::config {

ParamValue read_param_value(const YAML::Node& node, YamlReader& reader) {
  ParamValue value;
  value.text.position = reader.position(node);
  if (node.IsSequence()) {
    value.kind = ValueKind::list;
    for (const auto& item : node) value.items.push_back(read_param_value(item, reader));
  } else if (node.IsMap()) {
    value.kind = ValueKind::map;
    for (const auto& entry : reader.entries(node))
      value.entries.push_back({Text{entry.key, reader.position(entry.key_node)},
                               read_param_value(entry.value, reader)});
  } else if (node.IsScalar()) {
    value.text.value = node.Scalar();
  }
  // A null inside a list or map reads as the empty string, as `key:` does in YAML tools.
  return value;
}

const char* describe(ValueKind kind) {
  switch (kind) {
    case ValueKind::scalar:
      return "a string";
    case ValueKind::list:
      return "a list";
    case ValueKind::map:
      return "a map";
  }
  return "a value";
}

}  // namespace nixpm::config
