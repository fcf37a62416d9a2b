#include "client/generate_command.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/exit_codes.hpp"
#include "config/loader.hpp"
#include "config/managers/generated_output.hpp"
#include "config/managers/manager_adapter.hpp"
#include "config/spelling.hpp"

namespace nixpm::client {
namespace {

using managers::ManagerAdapter;

int usage_error(Terminal& term, const std::string& message, std::string_view verb = "generate") {
  term.err << "nixpmctl: " << verb << ": " << message << "\nRun 'nixpmctl " << verb
           << " --help' for more information.\n";
  return exit_code::usage;
}

std::string manager_list() {
  std::size_t width = 0;
  for (const auto* manager : managers::all_managers()) width = std::max(width, manager->name().size());
  std::string text;
  for (const auto* manager : managers::all_managers()) {
    std::string name(manager->name());
    name.resize(width, ' ');
    text += name + "  " + std::string(manager->description()) + "\n";
  }
  return text;
}

}  // namespace

const ManagerAdapter* chosen_manager(const Invocation& inv, Terminal& term, std::string_view verb) {
  if (inv.manager.empty()) {
    usage_error(term, "--manager is required (one of: " + managers::known_manager_names() + ")", verb);
    return nullptr;
  }
  const auto* manager = managers::find_manager(inv.manager);
  if (manager == nullptr) {
    std::vector<std::string> names;
    for (const auto* known : managers::all_managers()) names.emplace_back(known->name());
    usage_error(term,
                "unknown process manager '" + inv.manager + "'" + config::did_you_mean(inv.manager, names) +
                    "; known managers: " + managers::known_manager_names(),
                verb);
  }
  return manager;
}

std::optional<config::Definitions> load_definitions_for(const Paths& paths, Terminal& term, std::string_view verb) {
  // The ids the daemon holds, so that generated ports match the running system. Read only.
  config::Diagnostics id_problems;
  const auto previous_ids =
      config::load_id_assignments(config::id_assignments_path(paths.state_dir), id_problems);
  for (const auto& problem : id_problems) term.err << problem.to_string() << '\n';
  if (!previous_ids) return std::nullopt;
  config::LoadOptions options;  // no executable check: the files are often meant for another machine
  options.previous_ids = &*previous_ids;
  options.force_disable_user_change = paths.force_disable_user_change;
  auto result =
      config::load_definitions_file(paths.config_file, config::DirectoryVariables::from(paths), options);
  if (!result.diagnostics.empty()) term.err << result.report();
  if (!result.ok()) {
    term.err << "nixpmctl: " << verb << ": " << paths.config_file.string() << " is not valid\n";
    return std::nullopt;
  }
  return std::move(*result.definitions);
}

std::optional<managers::Generated> generate_from(const ManagerAdapter& manager, const config::Definitions& definitions,
                                                 const Paths& paths, Terminal& term, std::string_view verb) {
  try {
    return manager.generate(definitions, managers::generate_options(paths));
  } catch (const managers::GenerateError& error) {
    term.err << "nixpmctl: " << verb << ": " << error.what() << '\n';
    return std::nullopt;
  }
}

std::optional<managers::Generated> generate_for(const ManagerAdapter& manager, const Paths& paths,
                                                Terminal& term, int& exit_status) {
  exit_status = exit_code::usage;
  const auto definitions = load_definitions_for(paths, term, "generate");
  if (!definitions) return std::nullopt;
  auto generated = generate_from(manager, *definitions, paths, term, "generate");
  if (generated) exit_status = exit_code::ok;
  return generated;
}

void print_losses(const managers::Generated& generated, const ManagerAdapter& manager, Terminal& term) {
  for (const auto& loss : generated.losses) term.err << managers::describe_loss(loss, manager.name()) << '\n';
}

namespace {

std::string octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode);
  return text;
}

void print_result(const Invocation& inv, const managers::Generated& generated,
                  const std::filesystem::path& dir, Terminal& term) {
  if (inv.globals.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& file : generated.files) {
      if (file.link_target.empty())
        files.push_back({{"path", file.path.generic_string()}, {"mode", octal(file.mode)}});
      else
        files.push_back({{"path", file.path.generic_string()}, {"link", file.link_target.generic_string()}});
    }
    nlohmann::json losses = nlohmann::json::array();
    for (const auto& loss : generated.losses)
      losses.push_back({{"instance", loss.instance},
                        {"property", loss.property},
                        {"support", std::string(managers::to_string(loss.support))},
                        {"note", loss.note}});
    term.out << nlohmann::json{{"manager", inv.manager},
                               {"directory", dir.string()},
                               {"files", files},
                               {"startOrder", generated.start_order},
                               {"losses", losses}}
                    .dump(2)
             << '\n';
    return;
  }
  for (const auto& file : generated.files) term.out << (dir / file.path).string() << '\n';
}

}  // namespace

int run_generate(const Invocation& inv, const Paths& paths, Terminal& term) {
  if (inv.list_managers) {
    term.out << manager_list();
    return exit_code::ok;
  }
  if (inv.capabilities) {
    if (inv.manager.empty()) {
      term.out << managers::capability_table_markdown();
      return exit_code::ok;
    }
    const auto* manager = chosen_manager(inv, term, "generate");
    if (manager == nullptr) return exit_code::usage;
    term.out << managers::capability_notes_markdown(*manager);
    return exit_code::ok;
  }
  const auto* manager = chosen_manager(inv, term, "generate");
  if (manager == nullptr) return exit_code::usage;
  if (!inv.output_dir) return usage_error(term, "-o DIR is required: the directory to write the files to");

  int status = exit_code::ok;
  const auto result = generate_for(*manager, paths, term, status);
  if (!result) return status;
  const auto& generated = *result;

  print_losses(generated, *manager, term);
  if (inv.strict && !generated.losses.empty()) {
    term.err << "nixpmctl: generate: --strict: the definitions lose " << generated.losses.size()
             << (generated.losses.size() == 1 ? " property" : " properties") << " on " << manager->name()
             << "; nothing written\n";
    return exit_code::failed;
  }
  try {
    managers::write_generated(generated, *inv.output_dir);
  } catch (const std::filesystem::filesystem_error& error) {
    term.err << "nixpmctl: generate: " << error.path1().string() << ": " << error.code().message() << '\n';
    return exit_code::failed;
  }
  print_result(inv, generated, *inv.output_dir, term);
  return exit_code::ok;
}

}  // namespace nixpm::client
