#include "config/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <system_error>
#include <tuple>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include "config/dependency_graph.hpp"
#include "config/expansion.hpp"
#include "config/interpolation.hpp"
#include "config/properties.hpp"
#include "config/spelling.hpp"
#include "config/yaml_reader.hpp"

namespace nixpm::config {
namespace {

// Instance names become file names (logs, pid files) and unit names in the native adapters.
bool is_instance_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' || c == '@';
  });
}

class DefinitionsReader {
 public:
  DefinitionsReader(const std::string& file, const DirectoryVariables& dirs, Diagnostics& diagnostics)
      : reader_(file, diagnostics), dirs_(dirs) {}

  Definitions read(const YAML::Node& root);

 private:
  void read_constructor(const MapEntry& entry);
  std::optional<InstanceDeclaration> read_instance(const MapEntry& entry);
  void read_parameters(const MapEntry& entry, ConstructorDefinition& constructor);
  void read_arguments(const MapEntry& entry, InstanceDeclaration& instance);

  YamlReader reader_;
  const DirectoryVariables& dirs_;
  std::vector<ConstructorDefinition> constructors_;
};

Definitions DefinitionsReader::read(const YAML::Node& root) {
  Definitions definitions;
  definitions.source = reader_.file();
  if (!root.IsMap() && !root.IsNull()) {
    reader_.error(root,
                  "the top level must be a map with 'constructors' and 'instances', not " + describe(root));
    return definitions;
  }
  // Constructors first, wherever they appear, so instances can refer to any of them.
  std::optional<MapEntry> instances;
  for (const auto& entry : reader_.entries(root)) {
    if (entry.key == "constructors") {
      if (reader_.is_map(entry))
        for (const auto& constructor : reader_.entries(entry.value)) read_constructor(constructor);
    } else if (entry.key == "instances") {
      instances = entry;
    } else {
      reader_.error(entry.key_node, "unknown top-level key '" + entry.key + "'" +
                                        did_you_mean(entry.key, {"constructors", "instances"}));
    }
  }
  if (!instances || !reader_.is_map(*instances)) return definitions;

  std::vector<std::string> constructor_names;
  for (const auto& constructor : constructors_) constructor_names.push_back(constructor.name);
  for (const auto& entry : reader_.entries(instances->value)) {
    auto declaration = read_instance(entry);
    // A broken declaration still declares the name, so instances depending on it do not also get
    // "unknown dependency".
    auto placeholder = [&] {
      InstanceSpec spec;
      spec.name = entry.key;
      spec.position = reader_.position(entry.key_node);
      definitions.instances.push_back(std::move(spec));
    };
    if (!declaration) {
      placeholder();
      continue;
    }
    const ConstructorDefinition* constructor = nullptr;
    if (declaration->constructor) {
      auto it = std::find_if(constructors_.begin(), constructors_.end(),
                             [&](const auto& c) { return c.name == declaration->constructor->value; });
      if (it == constructors_.end()) {
        reader_.error(declaration->constructor->position,
                      "unknown constructor '" + declaration->constructor->value + "'" +
                          did_you_mean(declaration->constructor->value, constructor_names));
        placeholder();
        continue;
      }
      constructor = &*it;
    }
    definitions.instances.push_back(expand_instance(*declaration, constructor, dirs_, reader_));
  }
  return definitions;
}

void DefinitionsReader::read_constructor(const MapEntry& entry) {
  ConstructorDefinition constructor;
  constructor.name = entry.key;
  if (!entry.value.IsMap() && !entry.value.IsNull()) {
    reader_.error(entry.value, "constructor '" + entry.key + "' must be a map, not " + describe(entry.value));
  }
  for (const auto& item : reader_.entries(entry.value)) {
    if (item.key == "params") {
      read_parameters(item, constructor);
    } else if (!read_property(reader_, item, constructor.properties)) {
      report_unexpected_key(reader_, item, {"params"});
    }
  }
  // Kept even when parts were refused: instances using it should not add "unknown constructor".
  constructors_.push_back(std::move(constructor));
}

void DefinitionsReader::read_parameters(const MapEntry& entry, ConstructorDefinition& constructor) {
  if (!reader_.is_map(entry)) return;
  for (const auto& item : reader_.entries(entry.value)) {
    const auto name_position = reader_.position(item.key_node);
    if (!is_variable_name(item.key)) {
      reader_.error(name_position,
                    "invalid parameter name '" + item.key +
                        "' (use letters, digits, '_', '-' and '.', starting with a letter or '_')");
      continue;
    }
    const auto& builtins = builtin_variable_names();
    if (std::find(builtins.begin(), builtins.end(), item.key) != builtins.end()) {
      reader_.error(name_position,
                    "parameter '" + item.key + "' would hide the built-in variable of that name");
      continue;
    }
    ParameterDeclaration parameter{{item.key, name_position}, std::nullopt};
    if (item.value.IsScalar()) {
      parameter.default_value = Text{item.value.Scalar(), reader_.position(item.value)};
    } else if (!item.value.IsNull()) {
      reader_.error(item.value, "the default of parameter '" + item.key +
                                    "' must be a string or ~ (required), not " + describe(item.value));
      continue;
    }
    constructor.parameters.push_back(std::move(parameter));
  }
}

std::optional<InstanceDeclaration> DefinitionsReader::read_instance(const MapEntry& entry) {
  InstanceDeclaration instance;
  instance.name = {entry.key, reader_.position(entry.key_node)};
  if (!is_instance_name(entry.key)) {
    reader_.error(entry.key_node,
                  "invalid instance name '" + entry.key +
                      "' (use letters, digits, '_', '-', '.' and '@', not starting with '.' or '-')");
    return std::nullopt;
  }
  if (!entry.value.IsMap() && !entry.value.IsNull()) {
    reader_.error(entry.value, "instance '" + entry.key + "' must be a map, not " + describe(entry.value));
    return std::nullopt;
  }
  std::optional<MapEntry> params;
  for (const auto& item : reader_.entries(entry.value)) {
    if (item.key == "constructor") {
      instance.constructor = reader_.string(item);
    } else if (item.key == "params") {
      params = item;
    } else if (!read_property(reader_, item, instance.properties)) {
      report_unexpected_key(reader_, item, {"constructor", "params"});
    }
  }
  if (params) {
    if (instance.constructor)
      read_arguments(*params, instance);
    else
      reader_.error(params->key_node, "'params' is only allowed together with 'constructor'");
  }
  return instance;
}

void DefinitionsReader::read_arguments(const MapEntry& entry, InstanceDeclaration& instance) {
  if (!reader_.is_map(entry)) return;
  for (const auto& item : reader_.entries(entry.value)) {
    if (!item.value.IsScalar()) {
      reader_.error(item.value, "the value of parameter '" + item.key + "' must be a string, not " +
                                    describe(item.value));
      continue;
    }
    instance.arguments.push_back({Text{item.key, reader_.position(item.key_node)},
                                  Text{item.value.Scalar(), reader_.position(item.value)}});
  }
}

}  // namespace

DirectoryVariables DirectoryVariables::from(const Paths& paths) {
  return {paths.state_dir.string(), paths.runtime_dir.string(), paths.log_dir.string(),
          paths.tmp_dir.string(), paths.cache_dir.string()};
}

std::string LoadResult::report() const {
  std::string text;
  for (const auto& diagnostic : diagnostics) text += diagnostic.to_string() + "\n";
  return text;
}

LoadResult load_definitions_text(std::string_view yaml_text, const std::string& file_label,
                                 const DirectoryVariables& dirs) {
  LoadResult result;
  Diagnostics& diagnostics = result.diagnostics;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    SourcePosition where{file_label, 0, 0};
    if (e.mark.line >= 0 && e.mark.column >= 0) where = {file_label, e.mark.line + 1, e.mark.column + 1};
    diagnostics.push_back({where, "invalid YAML: " + e.msg});
    return result;
  }

  Definitions definitions;
  try {
    definitions = DefinitionsReader(file_label, dirs, diagnostics).read(root);
  } catch (const std::exception& e) {
    // The reader checks every node before using it; this is a last line of defence for callers
    // that must never see an exception from a bad file.
    diagnostics.push_back({{file_label, 0, 0}, std::string("cannot load definitions: ") + e.what()});
    return result;
  }

  auto dependency_problems = validate_dependencies(definitions);
  diagnostics.insert(diagnostics.end(), dependency_problems.begin(), dependency_problems.end());
  // File order reads best; problems found at the same place keep the order they were found in.
  std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.position.line, a.position.column) < std::tie(b.position.line, b.position.column);
  });
  if (diagnostics.empty()) result.definitions = std::move(definitions);
  return result;
}

namespace {

// The whole file, or the errno that stopped reading it. POSIX calls rather than iostreams, whose
// error reporting cannot tell a directory or an I/O error from an empty file.
std::optional<std::string> read_file(const std::filesystem::path& file, int& error) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
    return std::nullopt;
  }
  std::string text;
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    error = errno;
  } else if (S_ISDIR(status.st_mode)) {
    error = EISDIR;
  } else {
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        text.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        error = errno;
        break;
      }
    }
  }
  ::close(fd);
  if (error != 0) return std::nullopt;
  return text;
}

}  // namespace

LoadResult load_definitions_file(const std::filesystem::path& file, const DirectoryVariables& dirs) {
  int error = 0;
  auto text = read_file(file, error);
  if (!text) {
    LoadResult result;
    result.diagnostics.push_back(
        {{file.string(), 0, 0}, "cannot read file: " + std::generic_category().message(error)});
    return result;
  }
  auto result = load_definitions_text(*text, file.string(), dirs);
  if (result.definitions) result.definitions->source = file;
  return result;
}

}  // namespace nixpm::config
