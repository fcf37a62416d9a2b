#include "model.hpp"

#include <algorithm>

namespace nixpm::config {

std::string SourcePosition::to_string() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::to_string() const {
  return position.to_string() + (severity == Severity::warning ? ": warning: " : ": error: ") + message;
}

bool InstanceSpec::same_behaviour(const InstanceSpec& other) const {
  auto dependency_names = [](const InstanceSpec& spec) {
    std::vector<std::string> names;
    for (const auto& d : spec.dependencies) names.push_back(d.name);
    return names;
  };
  // Everything that shapes the running process; description, overrides and positions do not.
  return name == other.name && kind == other.kind && executable == other.executable &&
         arguments == other.arguments && pid_file == other.pid_file && initialize == other.initialize &&
         path == other.path && environment == other.environment && directory == other.directory &&
         umask == other.umask && nice == other.nice && rlimits == other.rlimits && user == other.user &&
         credentials == other.credentials && files == other.files && supervision == other.supervision &&
         dependency_names(*this) == dependency_names(other);
}

const InstanceSpec* Definitions::find(std::string_view name) const {
  auto it = std::find_if(instances.begin(), instances.end(), [&](const auto& i) { return i.name == name; });
  return it == instances.end() ? nullptr : &*it;
}

}  // namespace nixpm::config
