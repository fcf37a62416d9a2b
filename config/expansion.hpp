#pragma once
// Turning the declared instances (plain ones, invocations of constructors, agnostic JSON ones) into
// InstanceSpecs: assigning unique ids, binding parameters, resolving references between instances,
// interpolating every string property and validating the results. Internal to the config library.

#include <string>
#include <vector>

#include "config/declarations.hpp"
#include "config/loader.hpp"
#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace nixpm::config {

// The names interpolation always knows besides an instance's parameters.
const std::vector<std::string>& builtin_variable_names();
// Names a parameter may not take: the built-ins, the `ids.` and `instances.` prefixes and the
// loop keywords `for` and `end`.
const std::vector<std::string>& reserved_variable_names();

struct Expansion {
  std::vector<InstanceSpec> instances;  // in declaration order, including placeholders for broken ones
  IdTable ids;
};

// Problems are reported through `reporter`. Every declared name yields a spec (with whatever could
// be resolved) so that later checks, such as dependency validation, know the instance exists.
Expansion expand_instances(const DeclarationSet& set, const DirectoryVariables& dirs, const LoadOptions& options,
                           YamlReader& reporter);

class InstanceScope;

// The command line, process kind, pid file and readiness of one instance (command.cpp).
void fill_command(InstanceScope& scope, const RawProperties& properties, const LoadOptions& options,
                  InstanceSpec& spec, YamlReader& reporter);

// Relative paths in definitions mean "under the state dir", so specs never depend on the
// daemon's working directory.
std::string under_state_dir(const std::string& path, const DirectoryVariables& dirs);

}  // namespace nixpm::config
