#pragma once
// Deployments onto a native manager (`nixpmctl deploy`, `nixpmd --manager`): install an adapter's files
// in the manager's place, start them in dependency order through the manager's tool, and remember what
// was installed, so that the next deployment changes only what differs (the nixproc-*-switch idea):
// services the new one lacks are stopped and their files removed, services whose files are byte for
// byte the same are left alone, changed ones are stopped, updated and started again, new ones started.
//
// The record lives in <stateDir>/lib/nixpm/deployment.json: manager, scope, root, every installed file
// with a hash of its content, and the services in start order.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/managers/manager_adapter.hpp"
#include "config/managers/manager_tool.hpp"
#include "config/model.hpp"

namespace nixpm::managers {

struct DeployedFile {
  std::string path;     // relative to the root, where it was installed
  std::string hash;     // of the content ("fnv1a64:<hex>"), or of the link target for a link
  unsigned mode = 0644;
  std::string link;     // not empty: a symbolic link with this target
  std::string service;  // the service it belongs to; empty for a file the deployment shares
  bool operator==(const DeployedFile&) const = default;
};

struct DeployedService {
  std::string instance;  // as in the definitions
  std::string name;      // the manager-side name
  bool autostart = true;
  std::vector<std::string> dependencies;  // instance names
  std::string description;
};

struct DeploymentRecord {
  std::string manager;
  Scope scope = Scope::system;
  std::filesystem::path root;
  std::filesystem::path state_dir;
  std::filesystem::path runtime_dir;
  std::filesystem::path log_dir;
  bool started_manager = false;          // the deployment started the manager itself (and stops it)
  std::vector<DeployedService> services;  // in start order
  std::vector<DeployedFile> files;

  const DeployedService* find_instance(std::string_view instance) const;
};

// What a (re)deployment changed, by instance name (the same categories as a reload).
struct DeployChanges {
  std::vector<std::string> added, removed, changed, unchanged;
  nlohmann::json to_json() const;  // {"added", "removed", "changed", "restarted", "unchanged"}
};

std::filesystem::path deployment_record_path(const std::filesystem::path& state_dir);
nlohmann::json record_to_json(const DeploymentRecord& record);
// nullopt with `error` set for a record that is not one.
std::optional<DeploymentRecord> record_from_json(const nlohmann::json& json, std::string& error);
// nullopt with an empty `error` when there is no record; with `error` set when it cannot be read.
std::optional<DeploymentRecord> load_deployment_record(const std::filesystem::path& path, std::string& error);
// Written through a temporary file and a rename. Throws std::filesystem::filesystem_error.
void save_deployment_record(const std::filesystem::path& path, const DeploymentRecord& record);

std::string content_hash(std::string_view content);

// The record the generated files make once installed with `tool` in `context`.
DeploymentRecord describe_deployment(const ManagerTool& tool, const ToolContext& context, const Generated& generated,
                                     const config::Definitions& definitions);
DeployChanges compare_deployments(const DeploymentRecord* previous, const DeploymentRecord& next);

// One line of progress ("started nginx") or a problem; deploy and undeploy go on after a problem
// where they can, and report every one.
using DeployProgress = std::function<void(const std::string& line)>;

struct DeployOutcome {
  DeployChanges changes;
  std::vector<std::string> errors;  // empty: everything went through
  DeploymentRecord record;          // what is installed now (saved by the caller)
};

// Switches from `previous` (may be null: a first deployment) to `generated`.
DeployOutcome deploy(const ManagerTool& tool, const ToolContext& context, const Generated& generated,
                     const config::Definitions& definitions, const DeploymentRecord* previous,
                     const DeployProgress& progress);

// Stops every recorded service (dependents first), removes their files, and stops the manager when
// the deployment started it. Returns the problems (empty: all gone).
std::vector<std::string> undeploy(const ManagerTool& tool, const ToolContext& context, const DeploymentRecord& record,
                                  const DeployProgress& progress);

// The context a record was made with (root, scope, directories), on `runner`.
ToolContext context_of(const DeploymentRecord& record, CommandRunner& runner, std::chrono::seconds timeout);

}  // namespace nixpm::managers
