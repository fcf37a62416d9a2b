#include "client/check_command.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/exit_codes.hpp"
#include "config/dependency_graph.hpp"
#include "config/model_json.hpp"

namespace nixpm::client {

std::string shell_quote(const std::string& argument) {
  const bool plain = !argument.empty() && std::all_of(argument.begin(), argument.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
  });
  if (plain) return argument;
  std::string quoted = "'";
  for (char c : argument) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::vector<std::vector<std::string>> activation_order(const config::Definitions& definitions) {
  const config::DependencyGraph graph(definitions);
  std::vector<std::vector<std::string>> levels;
  for (const auto& level : graph.start_levels()) {
    std::vector<std::string> names;
    for (std::size_t index : level) names.push_back(graph.name(index));
    levels.push_back(std::move(names));
  }
  return levels;
}

namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const auto& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

}  // namespace

std::string render_check_text(const config::Definitions& definitions) {
  std::ostringstream out;
  const auto count = definitions.instances.size();
  out << definitions.source.string() << ": " << count << (count == 1 ? " instance" : " instances") << '\n';
  for (const auto& instance : definitions.instances) {
    std::vector<std::string> command = {shell_quote(instance.executable)};
    for (const auto& argument : instance.arguments) command.push_back(shell_quote(argument));
    std::vector<std::string> dependencies;
    for (const auto& dependency : instance.dependencies) dependencies.push_back(dependency.name);
    out << '\n' << instance.name << '\n';
    out << "  command:      " << join(command, " ") << '\n';
    out << "  dependencies: " << (dependencies.empty() ? "-" : join(dependencies, ", ")) << '\n';
  }
  const auto levels = activation_order(definitions);
  out << "\nActivation order (the instances of a level start in parallel):\n";
  if (levels.empty()) out << "  (nothing to start)\n";
  for (std::size_t i = 0; i < levels.size(); ++i) out << "  " << i + 1 << ": " << join(levels[i], " ") << '\n';
  return out.str();
}

nlohmann::json check_json(const config::Definitions& definitions) {
  nlohmann::json model = config::definitions_json(definitions);
  model["activationOrder"] = activation_order(definitions);
  return model;
}

int run_check(const Invocation& inv, const Paths& paths, Terminal& term) {
  // The ids the daemon holds, so that the ports shown are the ones it would use. Read only: check never
  // writes ids.json (the daemon saves new assignments once it accepts the definitions).
  config::Diagnostics id_problems;
  const auto previous_ids = config::load_id_assignments(config::id_assignments_path(paths.state_dir), id_problems);
  for (const auto& problem : id_problems) term.err << problem.to_string() << '\n';
  if (!previous_ids) return exit_code::usage;

  config::LoadOptions options;
  options.check_executables = inv.check_executables;  // by default: would it run on this machine?
  options.previous_ids = &*previous_ids;
  options.force_disable_user_change = paths.force_disable_user_change;
  const auto result =
      config::load_definitions_file(paths.config_file, config::DirectoryVariables::from(paths), options);
  // Diagnostics go out even on success: warnings do not make the definitions invalid.
  if (!result.diagnostics.empty()) term.err << result.report();
  if (!result.ok()) {
    term.err << "nixpmctl: check: " << paths.config_file.string() << " is not valid\n";
    return exit_code::usage;
  }
  if (inv.globals.json) {
    term.out << check_json(*result.definitions).dump(2) << '\n';
  } else {
    term.out << render_check_text(*result.definitions);
  }
  return exit_code::ok;
}

}  // namespace nixpm::client
