#pragma once
// The variables of one instance while it is expanded: its parameters (resolved on demand, with
// cycle detection), the built-in directory variables, its unique ids, and references to other
// instances (${instances.<name>.<param>}), which also record an implicit dependency. Internal to the
// config library.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/declarations.hpp"
#include "config/loader.hpp"
#include "config/templates.hpp"

namespace nixpm::config {

class InstanceScope;

// Every instance's scope by name, plus the chain of parameters being resolved across instances.
struct ScopeRegistry {
  std::map<std::string, InstanceScope*, std::less<>> scopes;
  std::vector<std::string> pool_names;
  std::vector<std::pair<InstanceScope*, std::size_t>> resolving;
};

class InstanceScope : public TemplateNames {
 public:
  // `constructor` is null for a plain instance; `ids` is the instance's pool -> id.
  InstanceScope(const InstanceDeclaration& declaration, const ConstructorDefinition* constructor,
                const DirectoryVariables& dirs, std::map<std::string, long long> ids, ScopeRegistry& registry,
                YamlReader& reporter);

  const InstanceDeclaration& declaration() const { return declaration_; }
  const ConstructorDefinition* constructor() const { return constructor_; }
  const std::string& name() const { return declaration_.name.value; }
  const std::map<std::string, long long>& ids() const { return ids_; }
  const DirectoryVariables& dirs() const { return dirs_; }
  // Pools this instance asked for; one without an id here failed (e.g. full) and was reported.
  void set_requested_pools(std::vector<std::string> pools) { requested_pools_ = std::move(pools); }

  // Binds arguments to the constructor's parameters, reporting missing and unknown ones. Every
  // scope binds before any resolves, since resolving may reach into other instances.
  void bind_parameters();
  // Resolves every parameter, so that a broken default is reported even when unused.
  void resolve_parameters();

  // Interpolates `text` (templates included) in this scope; errors are reported at its position.
  std::optional<std::string> expand(const Text& text);
  std::optional<std::vector<std::string>> expand_all(const std::vector<Text>& texts);
  void error(const SourcePosition& where, const std::string& message);

  Lookup find(std::string_view name) override;

  // Instances named by ${instances.<name>...} references, where they were first referenced.
  const std::vector<Dependency>& referenced_instances() const { return references_; }

 private:
  enum class State { unresolved, resolving, resolved, failed };
  struct Parameter {
    std::string name;
    std::optional<ParamValue> value;  // the argument or default; none when a required one is missing
    State state = State::unresolved;
    Resolved resolved;
  };

  std::optional<Resolved> resolve(std::size_t index);
  std::optional<Resolved> resolve_value(const ParamValue& value);
  Lookup parameter(std::string_view name);   // "port" or "cfg.key"
  Lookup exported(std::string_view name);    // what ${instances.<this>.<name>} gives
  Lookup reference(std::string_view rest);   // after "instances."
  Lookup id(std::string_view pool);

  const InstanceDeclaration& declaration_;
  const ConstructorDefinition* constructor_;
  const DirectoryVariables& dirs_;
  std::map<std::string, long long> ids_;
  std::vector<std::string> requested_pools_;
  ScopeRegistry& registry_;
  YamlReader& reporter_;
  std::map<std::string, std::string, std::less<>> builtins_;
  std::vector<Parameter> parameters_;
  std::vector<Dependency> references_;
  SourcePosition current_;  // the text being expanded, for the position of references
};

}  // namespace nixpm::config
