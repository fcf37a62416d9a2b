#include "config/expansion.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include "config/interpolation.hpp"
#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

namespace fs = std::filesystem;

std::string format_seconds(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

// Relative paths in definitions mean "under the state dir", so specs never depend on the
// daemon's working directory.
std::string under_state_dir(const std::string& path, const DirectoryVariables& dirs) {
  fs::path result(path);
  if (result.is_relative()) result = fs::path(dirs.state_dir) / result;
  return result.lexically_normal().string();
}

class Expander {
 public:
  Expander(const InstanceDeclaration& instance, const ConstructorDefinition* constructor,
           const DirectoryVariables& dirs, YamlReader& reader)
      : instance_(instance), constructor_(constructor), dirs_(dirs), reader_(reader) {
    builtins_ = {{"instanceName", instance.name.value},
                 {"stateDir", dirs.state_dir},
                 {"runtimeDir", dirs.runtime_dir},
                 {"logDir", dirs.log_dir},
                 {"tmpDir", dirs.tmp_dir},
                 {"cacheDir", dirs.cache_dir}};
  }

  InstanceSpec run();

 private:
  enum class State { unresolved, resolving, resolved, failed };
  struct Parameter {
    std::string name;
    std::optional<Text> text;  // the value or default as written; none when a required one is missing
    State state = State::unresolved;
    std::string value;
  };

  void bind_parameters();
  std::optional<std::string> resolve(std::size_t index);
  std::optional<std::string> expand(const Text& text);
  std::optional<std::vector<std::string>> expand_all(const std::vector<Text>& texts);
  void error(const SourcePosition& where, const std::string& message) {
    reader_.error(where, "in instance '" + instance_.name.value + "': " + message);
  }

  void fill_command(const RawProperties& properties, InstanceSpec& spec);
  void fill_environment(const RawProperties& properties, InstanceSpec& spec);
  void fill_files(const RawProperties& properties, InstanceSpec& spec);
  void fill_supervision(const RawProperties& properties, InstanceSpec& spec);

  const InstanceDeclaration& instance_;
  const ConstructorDefinition* constructor_;
  const DirectoryVariables& dirs_;
  YamlReader& reader_;
  std::map<std::string, std::string, std::less<>> builtins_;
  std::vector<Parameter> parameters_;
  std::vector<std::size_t> resolving_;  // the chain being resolved, to name a cycle
};

void Expander::bind_parameters() {
  if (constructor_ == nullptr) return;
  for (const auto& declaration : constructor_->parameters) {
    Parameter parameter{declaration.name.value, declaration.default_value, State::unresolved, {}};
    auto given = std::find_if(instance_.arguments.begin(), instance_.arguments.end(),
                              [&](const auto& argument) { return argument.first.value == parameter.name; });
    if (given != instance_.arguments.end()) parameter.text = given->second;
    if (!parameter.text) {
      reader_.error(instance_.name.position, "instance '" + instance_.name.value +
                                                 "' misses required parameter '" + parameter.name +
                                                 "' of constructor '" + constructor_->name + "'");
      // Failed already, so templates using it stay quiet instead of adding "unknown variable".
      parameter.state = State::failed;
    }
    parameters_.push_back(std::move(parameter));
  }
  std::vector<std::string> declared;
  for (const auto& declaration : constructor_->parameters) declared.push_back(declaration.name.value);
  for (const auto& [name, value] : instance_.arguments) {
    if (std::find(declared.begin(), declared.end(), name.value) != declared.end()) continue;
    reader_.error(name.position, "unknown parameter '" + name.value + "' of constructor '" +
                                     constructor_->name + "'" + did_you_mean(name.value, declared));
  }
}

std::optional<std::string> Expander::resolve(std::size_t index) {
  Parameter& parameter = parameters_[index];
  switch (parameter.state) {
    case State::resolved:
      return parameter.value;
    case State::failed:
      return std::nullopt;
    case State::resolving: {
      auto start = std::find(resolving_.begin(), resolving_.end(), index);
      std::string chain;
      for (auto it = start; it != resolving_.end(); ++it) chain += parameters_[*it].name + " -> ";
      error(parameter.text->position, "parameter cycle: " + chain + parameter.name);
      return std::nullopt;
    }
    case State::unresolved:
      break;
  }
  parameter.state = State::resolving;
  resolving_.push_back(index);
  auto value = expand(*parameter.text);
  resolving_.pop_back();
  parameter.state = value ? State::resolved : State::failed;
  if (value) parameter.value = *value;
  return value;
}

std::optional<std::string> Expander::expand(const Text& text) {
  bool reported_elsewhere = false;
  std::string unknown;
  auto lookup = [&](std::string_view name) -> std::optional<std::string> {
    if (auto it = builtins_.find(name); it != builtins_.end()) return it->second;
    for (std::size_t i = 0; i < parameters_.size(); ++i) {
      if (parameters_[i].name != name) continue;
      auto value = resolve(i);
      if (!value) reported_elsewhere = true;
      return value;
    }
    unknown = name;
    return std::nullopt;
  };
  InterpolationError failure;
  auto result = interpolate(text.value, lookup, failure);
  if (!result && !reported_elsewhere) {
    std::string message = failure.message;
    if (!unknown.empty()) {
      std::vector<std::string> known(builtin_variable_names());
      for (const auto& parameter : parameters_) known.push_back(parameter.name);
      message += did_you_mean(unknown, known);
    }
    error(text.position, message);
  }
  return result;
}

std::optional<std::vector<std::string>> Expander::expand_all(const std::vector<Text>& texts) {
  std::vector<std::string> values;
  bool ok = true;
  for (const auto& text : texts) {
    auto value = expand(text);
    if (value) values.push_back(std::move(*value));
    ok = ok && value.has_value();
  }
  if (!ok) return std::nullopt;
  return values;
}

void Expander::fill_command(const RawProperties& properties, InstanceSpec& spec) {
  // As in createManagedProcess: foregroundProcess defaults to process, and foregroundProcessArgs
  // defaults to args ++ foregroundProcessExtraArgs.
  const bool foreground = properties.foreground_process.has_value();
  const auto& command = foreground ? properties.foreground_process : properties.process;
  if (!properties.keys.contains("process") && !properties.keys.contains("foregroundProcess")) {
    reader_.error(instance_.name.position,
                  "instance '" + spec.name + "' has neither 'process' nor 'foregroundProcess'");
  } else if (command) {
    if (auto executable = expand(*command)) {
      if (executable->empty())
        error(command->position,
              std::string("'") + (foreground ? "foregroundProcess" : "process") + "' is empty");
      spec.executable = std::move(*executable);
    }
  }

  if (properties.foreground_process_args) {
    if (auto arguments = expand_all(*properties.foreground_process_args))
      spec.arguments = std::move(*arguments);
    return;
  }
  if (properties.args)
    if (auto arguments = expand_all(*properties.args)) spec.arguments = std::move(*arguments);
  if (properties.foreground_process_extra_args)
    if (auto extra = expand_all(*properties.foreground_process_extra_args))
      spec.arguments.insert(spec.arguments.end(), extra->begin(), extra->end());
}

void Expander::fill_environment(const RawProperties& properties, InstanceSpec& spec) {
  if (!properties.environment) return;
  for (const auto& [name, value] : *properties.environment) {
    if (name.value.empty() || name.value.find('=') != std::string::npos) {
      reader_.error(name.position, "invalid environment variable name '" + name.value + "'");
      continue;
    }
    if (auto expanded = expand(value)) spec.environment[name.value] = std::move(*expanded);
  }
}

void Expander::fill_files(const RawProperties& properties, InstanceSpec& spec) {
  if (!properties.files) return;
  std::set<std::string> paths;
  for (const auto& [path, content] : *properties.files) {
    auto expanded_path = expand(path);
    auto expanded_content = expand(content);
    if (!expanded_path || !expanded_content) continue;
    if (expanded_path->empty()) {
      error(path.position, "file path is empty");
      continue;
    }
    std::string absolute = under_state_dir(*expanded_path, dirs_);
    if (!paths.insert(absolute).second) {
      error(path.position, "file '" + absolute + "' is declared twice");
      continue;
    }
    spec.files.push_back({absolute, std::move(*expanded_content)});
  }
}

void Expander::fill_supervision(const RawProperties& properties, InstanceSpec& spec) {
  SupervisionPolicy& policy = spec.supervision;
  if (properties.restart) policy.restart = properties.restart->value;
  if (properties.restart_delay) policy.restart_delay_seconds = properties.restart_delay->value;
  if (properties.max_restart_delay) policy.max_restart_delay_seconds = properties.max_restart_delay->value;
  if (properties.stable_after) policy.stable_after_seconds = properties.stable_after->value;
  if (properties.restart_limit) policy.restart_limit = properties.restart_limit->value;
  if (properties.stop_signal) policy.stop_signal = properties.stop_signal->value;
  if (properties.stop_timeout) policy.stop_timeout_seconds = properties.stop_timeout->value;
  if (policy.max_restart_delay_seconds >= policy.restart_delay_seconds) return;
  if (!properties.max_restart_delay) {
    // Only the first delay was raised: the default cap follows it rather than contradicting it.
    policy.max_restart_delay_seconds = policy.restart_delay_seconds;
    return;
  }
  error(properties.max_restart_delay->position,
        "'maxRestartDelay' (" + format_seconds(policy.max_restart_delay_seconds) +
            ") is less than 'restartDelay' (" + format_seconds(policy.restart_delay_seconds) + ")");
}

InstanceSpec Expander::run() {
  InstanceSpec spec;
  spec.name = instance_.name.value;
  spec.position = instance_.name.position;
  if (constructor_ != nullptr) spec.constructor = constructor_->name;

  bind_parameters();
  // Resolve every parameter, used or not, so a broken default is reported in any case.
  for (std::size_t i = 0; i < parameters_.size(); ++i) resolve(i);

  const RawProperties properties =
      constructor_ != nullptr ? merge(constructor_->properties, instance_.properties) : instance_.properties;

  spec.description = spec.name;
  if (properties.description)
    if (auto description = expand(*properties.description)) spec.description = std::move(*description);
  fill_command(properties, spec);
  fill_environment(properties, spec);
  if (properties.directory)
    if (auto directory = expand(*properties.directory); directory && !directory->empty())
      spec.directory = under_state_dir(*directory, dirs_);
  if (properties.dependencies) {
    std::set<std::string> named;
    for (const auto& dependency : *properties.dependencies)
      if (auto name = expand(dependency); name && named.insert(*name).second)
        spec.dependencies.push_back({*name, dependency.position});
  }
  fill_files(properties, spec);
  if (properties.autostart) spec.autostart = properties.autostart->value;
  fill_supervision(properties, spec);
  return spec;
}

}  // namespace

const std::vector<std::string>& builtin_variable_names() {
  static const std::vector<std::string> names{"instanceName", "stateDir", "runtimeDir",
                                              "logDir",       "tmpDir",   "cacheDir"};
  return names;
}

InstanceSpec expand_instance(const InstanceDeclaration& instance, const ConstructorDefinition* constructor,
                             const DirectoryVariables& dirs, YamlReader& reader) {
  return Expander(instance, constructor, dirs, reader).run();
}

}  // namespace nixpm::config
