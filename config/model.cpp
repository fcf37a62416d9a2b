#include "model.hpp"

#include <algorithm>

namespace nixpm::config {

std::string SourcePosition::to_string() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::to_string() const { return position.to_string() + ": error: " + message; }

bool InstanceSpec::same_behaviour(const InstanceSpec& other) const {
  auto dependency_names = [](const InstanceSpec& spec) {
    std::vector<std::string> names;
    for (const auto& d : spec.dependencies) names.push_back(d.name);
    return names;
  };
  return name == other.name && executable == other.executable && arguments == other.arguments &&
         environment == other.environment && directory == other.directory && files == other.files &&
         supervision == other.supervision && dependency_names(*this) == dependency_names(other);
}

const InstanceSpec* Definitions::find(std::string_view name) const {
  auto it = std::find_if(instances.begin(), instances.end(), [&](const auto& i) { return i.name == name; });
  return it == instances.end() ? nullptr : &*it;
}

}  // namespace nixpm::config
