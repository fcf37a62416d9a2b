#include "client/deploy_command.hpp"

#include <cmath>

#include <unistd.h>

#include "client/generate_command.hpp"
#include "client/render_more.hpp"
#include "common/exit_codes.hpp"
#include "config/managers/command_runner.hpp"
#include "config/managers/deployment.hpp"
#include "config/managers/manager_tool.hpp"

namespace nixpm::client {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::chrono::seconds tool_timeout(const Invocation& inv) {
  return std::chrono::seconds(std::max<long long>(1, static_cast<long long>(std::ceil(inv.globals.timeout_seconds))));
}

// The recorded deployment, or nullopt; `status` is set (non-zero) when the record cannot be read.
std::optional<managers::DeploymentRecord> recorded(const Paths& paths, std::string_view verb, Terminal& term,
                                                   int& status) {
  status = exit_code::ok;
  std::string error;
  auto record = managers::load_deployment_record(managers::deployment_record_path(paths.state_dir), error);
  if (!error.empty()) {
    term.err << "nixpmctl: " << verb << ": " << error << '\n';
    status = exit_code::failed;
  }
  return record;
}

void print_summary(const Invocation& inv, const std::string& manager, const fs::path& root,
                   const json& changes, const std::vector<std::string>& errors, Terminal& term) {
  if (inv.globals.json) {
    term.out << json{{"manager", manager}, {"root", root.string()}, {"changes", changes}, {"errors", errors}}.dump(2)
             << '\n';
  } else {
    term.out << render_reload(changes);
  }
}

}  // namespace

int run_deploy(const Invocation& inv, const Paths& paths, Terminal& term) {
  const auto* manager = chosen_manager(inv, term, "deploy");
  if (manager == nullptr) return exit_code::usage;
  const auto* tool = managers::find_tool(manager->name());
  if (tool == nullptr) {
    term.err << "nixpmctl: deploy: no tool layer for " << manager->name() << '\n';
    return exit_code::usage;
  }
  int status = exit_code::ok;
  const auto previous = recorded(paths, "deploy", term, status);
  if (status != exit_code::ok) return status;

  const auto scope = paths.mode == Mode::user ? managers::Scope::user : managers::Scope::system;
  fs::path root = inv.root ? fs::absolute(*inv.root) : tool->default_root(scope, process_environment());
  if (!inv.root && previous && previous->manager == manager->name()) root = previous->root;
  if (previous && (previous->manager != manager->name() || previous->root != root || previous->scope != scope)) {
    term.err << "nixpmctl: deploy: a deployment onto " << previous->manager << " ("
             << (previous->scope == managers::Scope::user ? "user" : "system") << ", " << previous->root.string()
             << ") is recorded in " << managers::deployment_record_path(paths.state_dir).string()
             << "; undeploy it first (nixpmctl undeploy)\n";
    return exit_code::usage;
  }

  const auto definitions = load_definitions_for(paths, term, "deploy");
  if (!definitions) return exit_code::usage;
  const auto generated = generate_from(*manager, *definitions, paths, term, "deploy");
  if (!generated) return exit_code::usage;
  print_losses(*generated, *manager, term);
  if (inv.strict && !generated->losses.empty()) {
    term.err << "nixpmctl: deploy: --strict: the definitions lose " << generated->losses.size()
             << (generated->losses.size() == 1 ? " property" : " properties") << " on " << manager->name()
             << "; nothing deployed\n";
    return exit_code::failed;
  }

  managers::ProcessRunner runner;
  managers::ToolContext context;
  context.scope = scope;
  context.root = root;
  context.state_dir = paths.state_dir;
  context.runtime_dir = paths.runtime_dir;
  context.log_dir = paths.log_dir;
  context.uid = getuid();
  context.timeout = tool_timeout(inv);
  context.runner = &runner;

  auto outcome = managers::deploy(*tool, context, *generated, *definitions, previous ? &*previous : nullptr,
                                  [&](const std::string& line) {
                                    if (line.starts_with("error: ")) term.err << "nixpmctl: deploy: " << line.substr(7) << '\n';
                                  });
  try {
    managers::save_deployment_record(managers::deployment_record_path(paths.state_dir), outcome.record);
  } catch (const fs::filesystem_error& error) {
    outcome.errors.push_back(error.path1().string() + ": " + error.code().message());
    term.err << "nixpmctl: deploy: cannot record the deployment: " << error.path1().string() << ": "
             << error.code().message() << '\n';
  }
  print_summary(inv, std::string(manager->name()), root, outcome.changes.to_json(), outcome.errors, term);
  return outcome.errors.empty() ? exit_code::ok : exit_code::failed;
}

int run_undeploy(const Invocation& inv, const Paths& paths, Terminal& term) {
  if (!inv.manager.empty() && managers::find_manager(inv.manager) == nullptr)
    return (chosen_manager(inv, term, "undeploy"), exit_code::usage);
  int status = exit_code::ok;
  const auto record = recorded(paths, "undeploy", term, status);
  if (status != exit_code::ok) return status;
  const auto record_path = managers::deployment_record_path(paths.state_dir);
  if (!record) {
    if (inv.globals.json) term.out << json{{"undeployed", nullptr}}.dump(2) << '\n';
    else term.out << "nothing is deployed (no " << record_path.string() << ")\n";
    return exit_code::ok;
  }
  if (!inv.manager.empty() && inv.manager != record->manager) {
    term.err << "nixpmctl: undeploy: the recorded deployment is onto " << record->manager << ", not "
             << inv.manager << '\n';
    return exit_code::usage;
  }
  const auto* tool = managers::find_tool(record->manager);
  if (tool == nullptr) {
    term.err << "nixpmctl: undeploy: " << record_path.string() << " names an unknown manager '" << record->manager
             << "'\n";
    return exit_code::failed;
  }
  managers::ProcessRunner runner;
  const auto context = managers::context_of(*record, runner, tool_timeout(inv));
  const auto errors = managers::undeploy(*tool, context, *record, [&](const std::string& line) {
    if (line.starts_with("error: ")) term.err << "nixpmctl: undeploy: " << line.substr(7) << '\n';
  });
  std::error_code ignored;
  fs::remove(record_path, ignored);
  std::vector<std::string> removed;
  for (auto it = record->services.rbegin(); it != record->services.rend(); ++it) removed.push_back(it->instance);
  print_summary(inv, record->manager, record->root, json{{"removed", removed}}, errors, term);
  return errors.empty() ? exit_code::ok : exit_code::failed;
}

}  // namespace nixpm::client
