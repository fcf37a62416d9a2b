#include "config/scope.hpp"

#include <algorithm>

#include "config/expansion.hpp"
#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

Lookup scalar(std::string text) {
  Resolved value;
  value.text = std::move(text);
  return {value, {}};
}

Lookup failure(std::string message) { return {std::nullopt, std::move(message)}; }

}  // namespace

InstanceScope::InstanceScope(const InstanceDeclaration& declaration, const ConstructorDefinition* constructor,
                             const DirectoryVariables& dirs, std::map<std::string, long long> ids,
                             ScopeRegistry& registry, YamlReader& reporter)
    : declaration_(declaration),
      constructor_(constructor),
      dirs_(dirs),
      ids_(std::move(ids)),
      registry_(registry),
      reporter_(reporter) {
  builtins_ = {{"instanceName", declaration.name.value},
               {"stateDir", dirs.state_dir},
               {"runtimeDir", dirs.runtime_dir},
               {"logDir", dirs.log_dir},
               {"tmpDir", dirs.tmp_dir},
               {"cacheDir", dirs.cache_dir}};
}

void InstanceScope::error(const SourcePosition& where, const std::string& message) {
  reporter_.error(where, "in instance '" + name() + "': " + message);
}

void InstanceScope::bind_parameters() {
  if (constructor_ == nullptr) {
    // A plain instance's params are its own variables.
    for (const auto& [parameter_name, value] : declaration_.arguments)
      parameters_.push_back({parameter_name.value, value, State::unresolved, {}});
  } else {
    for (const auto& declared : constructor_->parameters) {
      Parameter parameter{declared.name.value, declared.default_value, State::unresolved, {}};
      auto given = std::find_if(declaration_.arguments.begin(), declaration_.arguments.end(),
                                [&](const auto& argument) { return argument.first.value == parameter.name; });
      if (given != declaration_.arguments.end()) parameter.value = given->second;
      if (!parameter.value) {
        reporter_.error(declaration_.name.position, "instance '" + name() + "' misses required parameter '" +
                                                        parameter.name + "' of constructor '" +
                                                        constructor_->name + "'");
        // Failed already, so templates using it stay quiet instead of adding "unknown variable".
        parameter.state = State::failed;
      }
      parameters_.push_back(std::move(parameter));
    }
    std::vector<std::string> declared;
    for (const auto& parameter : constructor_->parameters) declared.push_back(parameter.name.value);
    for (const auto& [argument, value] : declaration_.arguments) {
      if (std::find(declared.begin(), declared.end(), argument.value) != declared.end()) continue;
      reporter_.error(argument.position, "unknown parameter '" + argument.value + "' of constructor '" +
                                             constructor_->name + "'" + did_you_mean(argument.value, declared));
    }
  }
}

void InstanceScope::resolve_parameters() {
  for (std::size_t i = 0; i < parameters_.size(); ++i) resolve(i);
}

std::optional<Resolved> InstanceScope::resolve(std::size_t index) {
  Parameter& parameter = parameters_[index];
  switch (parameter.state) {
    case State::resolved:
      return parameter.resolved;
    case State::failed:
      return std::nullopt;
    case State::resolving: {
      auto& chain = registry_.resolving;
      auto start = std::find(chain.begin(), chain.end(), std::pair{this, index});
      const bool crosses = std::any_of(start, chain.end(), [&](const auto& link) { return link.first != this; });
      std::string text;
      for (auto it = start; it != chain.end(); ++it)
        text += (crosses ? it->first->name() + "." : "") + it->first->parameters_[it->second].name + " -> ";
      text += (crosses ? name() + "." : "") + parameter.name;
      error(parameter.value->text.position, "parameter cycle: " + text);
      parameter.state = State::failed;
      return std::nullopt;
    }
    case State::unresolved:
      break;
  }
  parameter.state = State::resolving;
  registry_.resolving.emplace_back(this, index);
  auto value = resolve_value(*parameter.value);
  registry_.resolving.pop_back();
  // A cycle may have marked it failed while it was being resolved.
  if (parameter.state == State::failed) return std::nullopt;
  parameter.state = value ? State::resolved : State::failed;
  if (value) parameter.resolved = *value;
  return value;
}

std::optional<Resolved> InstanceScope::resolve_value(const ParamValue& value) {
  Resolved resolved;
  resolved.kind = value.kind;
  if (value.kind == ValueKind::scalar) {
    auto text = expand(value.text);
    if (!text) return std::nullopt;
    resolved.text = std::move(*text);
    return resolved;
  }
  bool ok = true;
  for (const auto& item : value.items) {
    auto item_value = resolve_value(item);
    if (item_value) resolved.items.push_back(std::move(*item_value));
    ok = ok && item_value.has_value();
  }
  for (const auto& entry : value.entries) {
    auto entry_value = resolve_value(entry.value);
    if (entry_value) {
      resolved.keys.push_back(entry.key.value);
      resolved.items.push_back(std::move(*entry_value));
    }
    ok = ok && entry_value.has_value();
  }
  if (!ok) return std::nullopt;
  return resolved;
}

std::optional<std::string> InstanceScope::expand(const Text& text) {
  if (declaration_.literal) return text.value;
  const SourcePosition outer = current_;
  current_ = text.position;
  TemplateError failure;
  auto result = render_template(text.value, *this, failure);
  current_ = outer;
  if (!result && !failure.message.empty()) error(text.position, failure.message);
  return result;
}

std::optional<std::vector<std::string>> InstanceScope::expand_all(const std::vector<Text>& texts) {
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

Lookup InstanceScope::find(std::string_view variable) {
  if (auto it = builtins_.find(variable); it != builtins_.end()) return scalar(it->second);
  if (variable.starts_with("ids.")) return id(variable.substr(4));
  if (variable.starts_with("instances.")) return reference(variable.substr(10));
  const std::string_view head = variable.substr(0, variable.find('.'));
  if (std::any_of(parameters_.begin(), parameters_.end(), [&](const auto& p) { return p.name == head; }))
    return parameter(variable);
  std::vector<std::string> known(builtin_variable_names());
  for (const auto& p : parameters_) known.push_back(p.name);
  return failure("unknown variable '" + std::string(variable) + "'" + did_you_mean(variable, known));
}

Lookup InstanceScope::parameter(std::string_view variable) {
  const std::size_t dot = variable.find('.');
  const std::string_view head = variable.substr(0, dot);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (parameters_[i].name != head) continue;
    auto value = resolve(i);
    if (!value) return {};  // reported where it failed
    if (dot == std::string_view::npos) return {value, {}};
    const std::string_view key = variable.substr(dot + 1);
    if (value->kind != ValueKind::map)
      return failure("parameter '" + std::string(head) + "' is " + describe(value->kind) + ", so '" +
                     std::string(variable) + "' names nothing");
    for (std::size_t k = 0; k < value->keys.size(); ++k)
      if (value->keys[k] == key) return {value->items[k], {}};
    return failure("parameter '" + std::string(head) + "' has no entry '" + std::string(key) + "'" +
                   did_you_mean(key, value->keys));
  }
  return failure("no parameter '" + std::string(head) + "'");
}

Lookup InstanceScope::id(std::string_view pool) {
  if (auto it = ids_.find(std::string(pool)); it != ids_.end()) return scalar(std::to_string(it->second));
  if (std::find(requested_pools_.begin(), requested_pools_.end(), pool) != requested_pools_.end()) return {};
  const auto& pools = registry_.pool_names;
  if (std::find(pools.begin(), pools.end(), pool) == pools.end())
    return failure("unknown id pool '" + std::string(pool) + "'" + did_you_mean(pool, pools));
  return failure("instance '" + name() + "' has no id from pool '" + std::string(pool) +
                 "' (list the pool in its requiresUniqueIdsFor)");
}

Lookup InstanceScope::exported(std::string_view variable) {
  if (variable == "instanceName") return scalar(name());
  if (variable.starts_with("ids.")) return id(variable.substr(4));
  const std::string_view head = variable.substr(0, variable.find('.'));
  if (std::any_of(parameters_.begin(), parameters_.end(), [&](const auto& p) { return p.name == head; }))
    return parameter(variable);
  std::vector<std::string> known{"instanceName"};
  for (const auto& p : parameters_) known.push_back(p.name);
  for (const auto& [pool, value] : ids_) known.push_back("ids." + pool);
  return failure("instance '" + name() + "' has no parameter '" + std::string(variable) + "'" +
                 did_you_mean(variable, known));
}

Lookup InstanceScope::reference(std::string_view rest) {
  // Instance names may contain dots: the first prefix that names an instance wins.
  for (std::size_t dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.', dot + 1)) {
    auto it = registry_.scopes.find(rest.substr(0, dot));
    if (it == registry_.scopes.end()) continue;
    InstanceScope* other = it->second;
    const bool known = std::any_of(references_.begin(), references_.end(),
                                   [&](const auto& d) { return d.name == other->name(); });
    if (other != this && !known) references_.push_back({other->name(), current_});
    return other->exported(rest.substr(dot + 1));
  }
  std::vector<std::string> names;
  for (const auto& [instance, scope] : registry_.scopes) names.push_back(instance);
  const std::string_view instance = rest.substr(0, rest.find('.'));
  if (registry_.scopes.contains(rest))
    return failure("'instances." + std::string(rest) + "' must name a parameter, e.g. instances." +
                   std::string(rest) + ".instanceName");
  return failure("unknown instance '" + std::string(instance) + "' in 'instances." + std::string(rest) + "'" +
                 did_you_mean(instance, names));
}

}  // namespace nixpm::config
