#include "config/expansion.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <memory>
#include <set>

#include "config/scope.hpp"
#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

namespace fs = std::filesystem;

std::string format_seconds(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

std::optional<long long> whole_number(const std::string& text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Builds one spec from an instance's scope and its merged properties.
class SpecBuilder {
 public:
  SpecBuilder(InstanceScope& scope, const RawProperties& properties, const LoadOptions& options,
              YamlReader& reporter)
      : scope_(scope), properties_(properties), options_(options), reporter_(reporter) {}

  InstanceSpec build();

 private:
  void check_identity(const std::optional<Text>& text, const char* key);
  void fill_environment();
  void fill_process_settings();
  void fill_credentials();
  void fill_files();
  void fill_dependencies();
  void fill_supervision();

  InstanceScope& scope_;
  const RawProperties& properties_;
  const LoadOptions& options_;
  YamlReader& reporter_;
  InstanceSpec spec_;
};

void SpecBuilder::check_identity(const std::optional<Text>& text, const char* key) {
  if (!text) return;
  auto value = scope_.expand(*text);
  if (value && *value != spec_.name)
    scope_.error(text->position, std::string("'") + key + "' must equal the instance name '" + spec_.name +
                                     "', not '" + *value + "' (the instance key is its name)");
}

void SpecBuilder::fill_environment() {
  if (!properties_.environment) return;
  for (const auto& [name, value] : *properties_.environment) {
    if (name.value.empty() || name.value.find('=') != std::string::npos) {
      reporter_.error(name.position, "invalid environment variable name '" + name.value + "'");
      continue;
    }
    if (auto expanded = scope_.expand(value)) spec_.environment[name.value] = std::move(*expanded);
  }
}

void SpecBuilder::fill_process_settings() {
  const DirectoryVariables& dirs = scope_.dirs();
  if (properties_.directory)
    if (auto directory = scope_.expand(*properties_.directory); directory && !directory->empty())
      spec_.directory = under_state_dir(*directory, dirs);
  if (properties_.initialize)
    if (auto initialize = scope_.expand(*properties_.initialize)) spec_.initialize = std::move(*initialize);
  if (properties_.path) {
    // As nix-processmgmt does with its package list: each entry contributes <entry>/bin and <entry>/sbin.
    for (const auto& entry : *properties_.path) {
      auto directory = scope_.expand(entry);
      if (!directory) continue;
      if (directory->empty()) {
        scope_.error(entry.position, "'path' entries must not be empty");
        continue;
      }
      std::string base = *directory;
      while (base.size() > 1 && base.back() == '/') base.pop_back();
      spec_.path.push_back(base + "/bin");
      spec_.path.push_back(base + "/sbin");
    }
  }
  if (properties_.umask) {
    auto text = scope_.expand(*properties_.umask);
    if (text) {
      const bool octal = !text->empty() && text->size() <= 4 &&
                         std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '7'; });
      if (octal)
        spec_.umask = std::stoi(*text, nullptr, 8);
      else
        scope_.error(properties_.umask->position,
                     "'umask' must be an octal string such as \"027\", not '" + *text + "'");
    }
  }
  if (properties_.nice) {
    auto text = scope_.expand(*properties_.nice);
    auto number = text ? whole_number(*text) : std::nullopt;
    if (number && *number >= -20 && *number <= 19)
      spec_.nice = static_cast<int>(*number);
    else if (text)
      scope_.error(properties_.nice->position, "'nice' must be a whole number from -20 to 19, not '" + *text + "'");
  }
  if (properties_.rlimits) spec_.rlimits = properties_.rlimits->value;
  if (properties_.user)
    if (auto user = scope_.expand(*properties_.user)) spec_.user = std::move(*user);
  if (properties_.overrides) spec_.overrides = properties_.overrides->value;
}

void SpecBuilder::fill_credentials() {
  if (!properties_.credentials) return;
  auto id_field = [&](const Text& key, const Text& field, std::optional<long long>& target) {
    auto text = scope_.expand(field);
    auto number = text ? whole_number(*text) : std::nullopt;
    if (number && *number >= 0)
      target = *number;
    else if (text)
      scope_.error(field.position, "'" + key.value + "' must be a whole number of at least 0, not '" + *text + "'");
  };
  for (const auto& [name, fields] : properties_.credentials->groups) {
    GroupCredential group;
    if (auto expanded = scope_.expand(name)) group.name = std::move(*expanded);
    for (const auto& [key, value] : fields) id_field(key, value, group.gid);
    spec_.credentials.groups.push_back(std::move(group));
  }
  for (const auto& [name, fields] : properties_.credentials->users) {
    UserCredential user;
    if (auto expanded = scope_.expand(name)) user.name = std::move(*expanded);
    for (const auto& [key, value] : fields) {
      if (key.value == "uid") {
        id_field(key, value, user.uid);
        continue;
      }
      auto text = scope_.expand(value);
      if (!text) continue;
      if (key.value == "createHomeDir") {
        if (*text == "true" || *text == "1") user.create_home_dir = true;
        else if (*text != "false" && *text != "0" && !text->empty())
          scope_.error(value.position, "'createHomeDir' must be true or false, not '" + *text + "'");
        continue;
      }
      std::string& target = key.value == "group"         ? user.group
                            : key.value == "description" ? user.description
                            : key.value == "homeDir"     ? user.home_dir
                                                         : user.shell;
      target = std::move(*text);
    }
    spec_.credentials.users.push_back(std::move(user));
  }
}

void SpecBuilder::fill_files() {
  if (!properties_.files) return;
  std::set<std::string> paths;
  for (const auto& [path, content] : *properties_.files) {
    auto expanded_path = scope_.expand(path);
    auto expanded_content = scope_.expand(content);
    if (!expanded_path || !expanded_content) continue;
    if (expanded_path->empty()) {
      scope_.error(path.position, "file path is empty");
      continue;
    }
    std::string absolute = under_state_dir(*expanded_path, scope_.dirs());
    if (!paths.insert(absolute).second) {
      scope_.error(path.position, "file '" + absolute + "' is declared twice");
      continue;
    }
    spec_.files.push_back({absolute, std::move(*expanded_content)});
  }
}

void SpecBuilder::fill_dependencies() {
  std::set<std::string> named;
  if (properties_.dependencies)
    for (const auto& dependency : *properties_.dependencies)
      if (auto name = scope_.expand(dependency); name && named.insert(*name).second)
        spec_.dependencies.push_back({*name, dependency.position});
  // A reference to another instance's parameters is a dependency too.
  for (const auto& reference : scope_.referenced_instances())
    if (named.insert(reference.name).second) spec_.dependencies.push_back(reference);
}

void SpecBuilder::fill_supervision() {
  SupervisionPolicy& policy = spec_.supervision;
  const RawProperties& p = properties_;
  if (p.restart) policy.restart = p.restart->value;
  if (p.restart_delay) policy.restart_delay_seconds = p.restart_delay->value;
  if (p.max_restart_delay) policy.max_restart_delay_seconds = p.max_restart_delay->value;
  if (p.stable_after) policy.stable_after_seconds = p.stable_after->value;
  if (p.restart_limit) policy.restart_limit = p.restart_limit->value;
  if (p.stop_signal) policy.stop_signal = p.stop_signal->value;
  if (p.stop_timeout) policy.stop_timeout_seconds = p.stop_timeout->value;
  if (p.type) policy.type = p.type->value;
  if (p.start_timeout) policy.start_timeout_seconds = p.start_timeout->value;
  if (p.success_exit_codes) {
    policy.success_exit_codes.clear();
    for (const auto& code : *p.success_exit_codes)
      if (std::find(policy.success_exit_codes.begin(), policy.success_exit_codes.end(), code.value) ==
          policy.success_exit_codes.end())
        policy.success_exit_codes.push_back(code.value);
  }
  if (p.liveness) {
    LivenessCheck liveness;
    if (auto command = scope_.expand_all(p.liveness->command)) liveness.command = std::move(*command);
    if (p.liveness->interval) liveness.interval_seconds = *p.liveness->interval;
    if (p.liveness->timeout) liveness.timeout_seconds = *p.liveness->timeout;
    policy.liveness = std::move(liveness);
  }
  if (policy.max_restart_delay_seconds >= policy.restart_delay_seconds) return;
  if (!p.max_restart_delay) {
    // Only the first delay was raised: the default cap follows it rather than contradicting it.
    policy.max_restart_delay_seconds = policy.restart_delay_seconds;
    return;
  }
  scope_.error(p.max_restart_delay->position, "'maxRestartDelay' (" + format_seconds(policy.max_restart_delay_seconds) +
                                                  ") is less than 'restartDelay' (" +
                                                  format_seconds(policy.restart_delay_seconds) + ")");
}

InstanceSpec SpecBuilder::build() {
  spec_.name = scope_.name();
  spec_.position = scope_.declaration().name.position;
  if (scope_.constructor() != nullptr) spec_.constructor = scope_.constructor()->name;
  spec_.ids = scope_.ids();
  check_identity(properties_.name, "name");
  check_identity(properties_.instance_name, "instanceName");
  spec_.description = spec_.name;
  if (properties_.description)
    if (auto description = scope_.expand(*properties_.description)) spec_.description = std::move(*description);
  fill_process_settings();
  fill_command(scope_, properties_, options_, spec_, reporter_);
  fill_environment();
  fill_credentials();
  fill_files();
  if (properties_.autostart) spec_.autostart = properties_.autostart->value;
  fill_supervision();
  fill_dependencies();  // last: every reference made above adds to it
  return std::move(spec_);
}

}  // namespace

const std::vector<std::string>& builtin_variable_names() {
  static const std::vector<std::string> names{"instanceName", "stateDir", "runtimeDir",
                                              "logDir",       "tmpDir",   "cacheDir"};
  return names;
}

const std::vector<std::string>& reserved_variable_names() {
  static const std::vector<std::string> names = [] {
    auto all = builtin_variable_names();
    all.insert(all.end(), {"ids", "instances", "for", "end"});
    return all;
  }();
  return names;
}

std::string under_state_dir(const std::string& path, const DirectoryVariables& dirs) {
  fs::path result(path);
  if (result.is_relative()) result = fs::path(dirs.state_dir) / result;
  return result.lexically_normal().string();
}

Expansion expand_instances(const DeclarationSet& set, const DirectoryVariables& dirs, const LoadOptions& options,
                           YamlReader& reporter) {
  // Which constructor each instance uses, and its merged properties.
  std::vector<const ConstructorDefinition*> constructors(set.instances.size(), nullptr);
  std::vector<RawProperties> properties(set.instances.size());
  std::vector<bool> usable(set.instances.size(), false);
  std::vector<std::string> constructor_names;
  for (const auto& constructor : set.constructors) constructor_names.push_back(constructor.name);
  std::vector<IdRequest> requests;
  for (std::size_t i = 0; i < set.instances.size(); ++i) {
    const InstanceDeclaration& instance = set.instances[i];
    if (instance.broken) continue;
    if (instance.constructor) {
      const std::string& wanted = instance.constructor->value;
      auto it = std::find_if(set.constructors.begin(), set.constructors.end(),
                             [&](const auto& c) { return c.name == wanted; });
      if (it == set.constructors.end()) {
        reporter.error(instance.constructor->position,
                       "unknown constructor '" + wanted + "'" + did_you_mean(wanted, constructor_names));
        continue;
      }
      constructors[i] = &*it;
    }
    properties[i] = constructors[i] ? merge(constructors[i]->properties, instance.properties) : instance.properties;
    usable[i] = true;
    if (properties[i].unique_id_pools)
      for (const auto& pool : *properties[i].unique_id_pools)
        requests.push_back({instance.name.value, pool.value, pool.position});
  }

  Expansion result;
  result.ids = assign_ids(set.pools, requests, options.previous_ids, reporter.diagnostics());

  ScopeRegistry registry;
  for (const auto& pool : set.pools) registry.pool_names.push_back(pool.name);
  std::vector<std::unique_ptr<InstanceScope>> scopes(set.instances.size());
  for (std::size_t i = 0; i < set.instances.size(); ++i) {
    if (!usable[i]) continue;
    std::map<std::string, long long> ids;
    for (const auto& [pool, assigned] : result.ids)
      if (auto it = assigned.find(set.instances[i].name.value); it != assigned.end()) ids[pool] = it->second;
    scopes[i] = std::make_unique<InstanceScope>(set.instances[i], constructors[i], dirs, std::move(ids), registry,
                                                reporter);
    if (properties[i].unique_id_pools) {
      std::vector<std::string> requested;
      for (const auto& pool : *properties[i].unique_id_pools) requested.push_back(pool.value);
      scopes[i]->set_requested_pools(std::move(requested));
    }
    registry.scopes[set.instances[i].name.value] = scopes[i].get();
  }
  for (auto& scope : scopes)
    if (scope) scope->bind_parameters();
  for (auto& scope : scopes)
    if (scope) scope->resolve_parameters();

  for (std::size_t i = 0; i < set.instances.size(); ++i) {
    if (scopes[i]) {
      result.instances.push_back(SpecBuilder(*scopes[i], properties[i], options, reporter).build());
      continue;
    }
    // A broken declaration still declares the name, so instances depending on it do not also get
    // "unknown dependency".
    InstanceSpec placeholder;
    placeholder.name = set.instances[i].name.value;
    placeholder.position = set.instances[i].name.position;
    result.instances.push_back(std::move(placeholder));
  }
  return result;
}

}  // namespace nixpm::config
