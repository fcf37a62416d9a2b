// nix-processmgmt's agnostic configs: what createManagedProcess writes with processManager = null,
// one JSON object per process, either as <name>.json files in a directory or as the values of the
// object a processes.nix evaluates to. JSON is YAML, so yaml-cpp reads it with line and column.
#include <algorithm>
#include <cctype>
#include <system_error>

#include "config/nix_evaluator.hpp"
#include "config/sources.hpp"

namespace nixpm::config {
namespace {

namespace fs = std::filesystem;

// "/nix/store/<32-char hash>-webapp1" (or ".../webapp1.json") names the instance "webapp1"; a plain
// name is kept as it is.
std::string dependency_name(std::string text) {
  if (const auto slash = text.find_last_of('/'); slash != std::string::npos) {
    text = text.substr(slash + 1);
    const bool hashed = text.size() > 33 && text[32] == '-' &&
                        std::all_of(text.begin(), text.begin() + 32, [](char c) {
                          return std::isdigit(static_cast<unsigned char>(c)) != 0 ||
                                 std::islower(static_cast<unsigned char>(c)) != 0;
                        });
    if (hashed) text = text.substr(33);
  }
  if (text.ends_with(".json")) text.resize(text.size() - 5);
  return text;
}

}  // namespace

void read_agnostic_instance(const YAML::Node& object, const Text& name, YamlReader& reader, DeclarationSet& set) {
  InstanceDeclaration instance;
  instance.name = name;
  instance.literal = true;
  if (!object.IsMap()) {
    reader.error(object, "an agnostic process config must be an object, not " + describe(object));
    instance.broken = true;
  }
  for (const auto& item : instance.broken ? std::vector<MapEntry>{} : reader.entries(object)) {
    // Nix writes attributes that were set to null; they mean "not given". postInstall is a build step.
    if (item.value.IsNull() || item.key == "postInstall") continue;
    if (!read_property(reader, item, instance.properties)) report_unexpected_key(reader, item, {"postInstall"});
  }
  if (instance.properties.dependencies)
    for (auto& dependency : *instance.properties.dependencies) dependency.value = dependency_name(dependency.value);
  add_instance(std::move(instance), reader, set);
}

void load_agnostic_directory(const fs::path& directory, DeclarationSet& set, Diagnostics& diagnostics,
                             SourceFiles& files) {
  std::vector<fs::path> configs;
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".json" && it->is_regular_file(ec)) configs.push_back(it->path());
  if (ec) {
    diagnostics.push_back({{directory.string(), 0, 0}, "cannot read directory: " + ec.message()});
    return;
  }
  std::sort(configs.begin(), configs.end());
  if (configs.empty())
    // An error, not an empty system: a wrong path must not stop everything on a reload.
    diagnostics.push_back({{directory.string(), 0, 0}, "no <name>.json process configs in this directory"});
  for (const auto& config : configs) {
    const std::string label = config.string();
    files.labels.push_back(label);
    int error = 0;
    auto text = read_text_file(config, error);
    if (!text) {
      diagnostics.push_back({{label, 0, 0}, "cannot read file: " + std::generic_category().message(error)});
      continue;
    }
    auto root = parse_yaml(*text, label, diagnostics);
    if (!root) continue;
    YamlReader reader(label, diagnostics);
    const std::string name = config.stem().string();
    if (!is_instance_name(name)) {
      reader.error(reader.position(*root), "invalid instance name '" + name + "' (from the file name)");
      continue;
    }
    read_agnostic_instance(*root, Text{name, reader.position(*root)}, reader, set);
  }
}

void load_nix_file(const fs::path& file, const DirectoryVariables& dirs, const LoadOptions& options,
                   DeclarationSet& set, Diagnostics& diagnostics, SourceFiles& files) {
  const std::string label = file.string();
  files.labels.push_back(label);
  if (!nix_available()) {
    diagnostics.push_back({{label, 0, 0}, "nix-instantiate not found on PATH; install nix-bin"});
    return;
  }
  const NixEvaluation evaluation = evaluate_nix_file(file, dirs, options.force_disable_user_change);
  if (!evaluation.json) {
    diagnostics.push_back({{label, 0, 0}, evaluation.error});  // Nix's own message names file:line
    return;
  }
  // Positions inside the evaluated JSON mean nothing to the user: problems name the file and the
  // instance instead (the loader drops the line and column of this file's diagnostics).
  Diagnostics found;
  auto root = parse_yaml(*evaluation.json, label, found);
  YamlReader reader(label, found);
  if (root && !root->IsMap())
    reader.error(*root, "the evaluated expression must be an attribute set of processes, not " + describe(*root));
  if (root && root->IsMap()) {
    for (const auto& entry : reader.entries(*root)) {
      const std::size_t before = found.size();
      if (!is_instance_name(entry.key))
        reader.error(entry.key_node, "invalid instance name '" + entry.key + "'");
      else
        read_agnostic_instance(entry.value, Text{entry.key, {label, 0, 0}}, reader, set);
      for (std::size_t i = before; i < found.size(); ++i)
        if (!found[i].message.starts_with("in instance ")) found[i].message.insert(0, "in instance '" + entry.key + "': ");
    }
  }
  diagnostics.insert(diagnostics.end(), found.begin(), found.end());
}

}  // namespace nixpm::config
