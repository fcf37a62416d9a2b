#include "config/managers/deployment.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <unistd.h>

#include "config/managers/generated_output.hpp"

namespace nixpm::managers {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string scope_name(Scope scope) { return scope == Scope::user ? "user" : "system"; }

std::vector<const DeployedFile*> files_of(const DeploymentRecord& record, const std::string& service) {
  std::vector<const DeployedFile*> files;
  for (const auto& file : record.files)
    if (file.service == service) files.push_back(&file);
  std::sort(files.begin(), files.end(), [](auto* a, auto* b) { return a->path < b->path; });
  return files;
}

bool same_files(const DeploymentRecord& a, const std::string& service_a, const DeploymentRecord& b,
                const std::string& service_b) {
  const auto left = files_of(a, service_a);
  const auto right = files_of(b, service_b);
  if (left.size() != right.size()) return false;
  for (std::size_t i = 0; i < left.size(); ++i)
    if (left[i]->path != right[i]->path || left[i]->hash != right[i]->hash || left[i]->mode != right[i]->mode ||
        left[i]->link != right[i]->link)
      return false;
  return true;
}

// Removes `path` and then its parent directories while they are empty, never `root` itself.
void remove_file_and_empty_parents(const fs::path& root, const fs::path& relative) {
  std::error_code ignored;
  fs::remove(root / relative, ignored);
  for (auto parent = relative.parent_path(); !parent.empty(); parent = parent.parent_path()) {
    if (!fs::is_empty(root / parent, ignored) || ignored) break;
    fs::remove(root / parent, ignored);
  }
}

void note(const DeployProgress& progress, const std::string& line) {
  if (progress) progress(line);
}

}  // namespace

const DeployedService* DeploymentRecord::find_instance(std::string_view instance) const {
  for (const auto& service : services)
    if (service.instance == instance) return &service;
  return nullptr;
}

json DeployChanges::to_json() const {
  return json{{"added", added}, {"removed", removed}, {"changed", changed}, {"restarted", changed},
              {"unchanged", unchanged}};
}

fs::path deployment_record_path(const fs::path& state_dir) {
  return state_dir / "lib" / "nixpm" / "deployment.json";
}

std::string content_hash(std::string_view content) {
  // FNV-1a: enough to tell a changed file from an unchanged one; nothing here needs to resist forgery.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : content) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return std::string("fnv1a64:") + text;
}

json record_to_json(const DeploymentRecord& record) {
  json services = json::array();
  for (const auto& service : record.services)
    services.push_back({{"instance", service.instance},
                        {"name", service.name},
                        {"autostart", service.autostart},
                        {"dependencies", service.dependencies},
                        {"description", service.description}});
  json files = json::array();
  for (const auto& file : record.files) {
    json entry{{"path", file.path}, {"hash", file.hash}, {"mode", file.mode}, {"service", file.service}};
    if (!file.link.empty()) entry["link"] = file.link;
    files.push_back(entry);
  }
  return json{{"version", 1},
              {"manager", record.manager},
              {"scope", scope_name(record.scope)},
              {"root", record.root.string()},
              {"stateDir", record.state_dir.string()},
              {"runtimeDir", record.runtime_dir.string()},
              {"logDir", record.log_dir.string()},
              {"startedManager", record.started_manager},
              {"services", services},
              {"files", files}};
}

std::optional<DeploymentRecord> record_from_json(const json& document, std::string& error) {
  try {
    DeploymentRecord record;
    if (!document.is_object() || document.value("version", 0) != 1) {
      error = "not a nixpm deployment record (version 1)";
      return std::nullopt;
    }
    record.manager = document.at("manager").get<std::string>();
    record.scope = document.at("scope").get<std::string>() == "user" ? Scope::user : Scope::system;
    record.root = document.at("root").get<std::string>();
    record.state_dir = document.at("stateDir").get<std::string>();
    record.runtime_dir = document.at("runtimeDir").get<std::string>();
    record.log_dir = document.at("logDir").get<std::string>();
    record.started_manager = document.value("startedManager", false);
    for (const auto& entry : document.at("services"))
      record.services.push_back({entry.at("instance").get<std::string>(), entry.at("name").get<std::string>(),
                                 entry.value("autostart", true),
                                 entry.value("dependencies", std::vector<std::string>{}),
                                 entry.value("description", std::string())});
    for (const auto& entry : document.at("files"))
      record.files.push_back({entry.at("path").get<std::string>(), entry.at("hash").get<std::string>(),
                              entry.value("mode", 0644u), entry.value("link", std::string()),
                              entry.value("service", std::string())});
    return record;
  } catch (const json::exception& problem) {
    error = std::string("not a valid deployment record: ") + problem.what();
    return std::nullopt;
  }
}

std::optional<DeploymentRecord> load_deployment_record(const fs::path& path, std::string& error) {
  error.clear();
  std::ifstream in(path);
  if (!in) {
    if (fs::exists(path)) error = path.string() + ": cannot be read";
    return std::nullopt;
  }
  const auto document = json::parse(in, nullptr, false);
  if (document.is_discarded()) {
    error = path.string() + ": not JSON";
    return std::nullopt;
  }
  auto record = record_from_json(document, error);
  if (!record) error = path.string() + ": " + error;
  return record;
}

void save_deployment_record(const fs::path& path, const DeploymentRecord& record) {
  fs::create_directories(path.parent_path());
  const fs::path temporary = path.string() + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << record_to_json(record).dump(2) << '\n';
    out.close();
    if (!out) throw fs::filesystem_error("cannot write", temporary, std::make_error_code(std::errc::io_error));
  }
  fs::rename(temporary, path);
}

DeploymentRecord describe_deployment(const ManagerTool& tool, const ToolContext& context, const Generated& generated,
                                     const config::Definitions& definitions) {
  DeploymentRecord record;
  record.manager = std::string(tool.manager());
  record.scope = context.scope;
  record.root = context.root;
  record.state_dir = context.state_dir;
  record.runtime_dir = context.runtime_dir;
  record.log_dir = context.log_dir;

  std::map<std::string, const config::InstanceSpec*> by_service;
  for (const auto& spec : definitions.instances) by_service[tool.service_name(spec.name)] = &spec;
  std::vector<std::string> order = generated.start_order;
  for (const auto& spec : definitions.instances)  // any the adapter left out of its order, last
    if (std::find(order.begin(), order.end(), tool.service_name(spec.name)) == order.end())
      order.push_back(tool.service_name(spec.name));
  for (const auto& name : order) {
    const auto found = by_service.find(name);
    if (found == by_service.end()) continue;
    const auto& spec = *found->second;
    DeployedService service{spec.name, name, spec.autostart, {}, spec.description};
    for (const auto& dependency : spec.dependencies) service.dependencies.push_back(dependency.name);
    record.services.push_back(std::move(service));
  }
  std::vector<std::string> names;
  for (const auto& service : record.services) names.push_back(service.name);
  for (const auto& file : generated.files) {
    if (!tool.installs(context, file.path)) continue;
    DeployedFile entry;
    entry.path = tool.install_path(file.path).generic_string();
    entry.link = file.link_target.generic_string();
    entry.hash = content_hash(entry.link.empty() ? file.content : "link:" + entry.link);
    entry.mode = file.mode;
    entry.service = tool.owner_of(file.path, names);
    record.files.push_back(std::move(entry));
  }
  return record;
}

DeployChanges compare_deployments(const DeploymentRecord* previous, const DeploymentRecord& next) {
  DeployChanges changes;
  for (const auto& service : next.services) {
    const auto* before = previous ? previous->find_instance(service.instance) : nullptr;
    if (before == nullptr) changes.added.push_back(service.instance);
    else if (before->name != service.name || !same_files(*previous, before->name, next, service.name))
      changes.changed.push_back(service.instance);
    else changes.unchanged.push_back(service.instance);
  }
  if (previous)
    for (const auto& service : previous->services)
      if (!next.find_instance(service.instance)) changes.removed.push_back(service.instance);
  return changes;
}

DeployOutcome deploy(const ManagerTool& tool, const ToolContext& context, const Generated& generated,
                     const config::Definitions& definitions, const DeploymentRecord* previous,
                     const DeployProgress& progress) {
  DeployOutcome outcome;
  outcome.record = describe_deployment(tool, context, generated, definitions);
  outcome.record.started_manager = previous != nullptr && previous->started_manager;
  const auto& next = outcome.record;
  outcome.changes = compare_deployments(previous, next);
  const auto& changes = outcome.changes;
  auto fail = [&](const std::string& what) {
    outcome.errors.push_back(what);
    note(progress, "error: " + what);
  };
  auto contains = [](const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };

  // 1. Stop what leaves and what changes, dependents first, with the files that started them.
  if (previous) {
    for (auto it = previous->services.rbegin(); it != previous->services.rend(); ++it) {
      if (!contains(changes.removed, it->instance) && !contains(changes.changed, it->instance)) continue;
      if (auto stopped = tool.stop(context, it->name); !stopped.ok()) fail(stopped.error);
      else note(progress, "stopped " + it->instance);
    }
    // 2. What leaves is unregistered, and its files go.
    for (auto it = previous->services.rbegin(); it != previous->services.rend(); ++it) {
      if (!contains(changes.removed, it->instance)) continue;
      if (auto removed = tool.remove(context, it->name); !removed.ok()) fail(removed.error);
      for (const auto* file : files_of(*previous, it->name)) remove_file_and_empty_parents(context.root, file->path);
      for (const auto& directory : tool.service_directories(context, it->name)) {
        std::error_code ignored;
        fs::remove_all(directory, ignored);
      }
      note(progress, "removed " + it->instance);
    }
    // Files no service of the new deployment has any more (a shared file, a file a service dropped).
    std::set<std::string> kept;
    for (const auto& file : next.files) kept.insert(file.path);
    for (const auto& file : previous->files)
      if (!kept.count(file.path) && fs::exists(fs::symlink_status(context.root / file.path)))
        remove_file_and_empty_parents(context.root, file.path);
  }

  // 3. Write what is new or different; byte-identical files are not touched.
  std::map<std::string, const DeployedFile*> before;
  if (previous)
    for (const auto& file : previous->files) before[file.path] = &file;
  Generated to_write;
  for (const auto& file : generated.files) {
    if (!tool.installs(context, file.path)) continue;
    const auto path = tool.install_path(file.path).generic_string();
    const auto entry = std::find_if(next.files.begin(), next.files.end(), [&](auto& f) { return f.path == path; });
    const auto old = before.find(path);
    const bool same = old != before.end() && entry != next.files.end() && old->second->hash == entry->hash &&
                      old->second->mode == entry->mode && fs::exists(fs::symlink_status(context.root / path));
    if (same) continue;
    OutputFile copy = file;
    copy.path = path;
    to_write.files.push_back(std::move(copy));
  }
  try {
    write_generated(to_write, context.root);
  } catch (const fs::filesystem_error& error) {
    fail(error.path1().string() + ": " + error.code().message());
    return outcome;
  }

  // 4. The manager takes note (and is started, where the deployment owns it).
  bool started_manager = false;
  if (auto activated = tool.activate(context, started_manager); !activated.ok()) {
    fail(activated.error);
    return outcome;
  }
  if (started_manager) {
    outcome.record.started_manager = true;
    note(progress, "started " + std::string(tool.manager()));
  }

  // 5. In dependency order: new ones registered, changed ones updated, and started when they autostart.
  for (const auto& service : next.services) {
    const bool added = contains(changes.added, service.instance);
    const bool changed = contains(changes.changed, service.instance);
    if (!added && !changed) continue;
    auto registered = added ? tool.add(context, service.name) : tool.refresh(context, service.name);
    if (!registered.ok()) {
      fail(registered.error);
      continue;
    }
    if (!service.autostart) continue;
    if (auto started = tool.start(context, service.name); !started.ok()) fail(started.error);
    else note(progress, "started " + service.instance);
  }
  return outcome;
}

std::vector<std::string> undeploy(const ManagerTool& tool, const ToolContext& context, const DeploymentRecord& record,
                                  const DeployProgress& progress) {
  std::vector<std::string> errors;
  auto fail = [&](const std::string& what) {
    errors.push_back(what);
    note(progress, "error: " + what);
  };
  for (auto it = record.services.rbegin(); it != record.services.rend(); ++it) {
    if (auto stopped = tool.stop(context, it->name); !stopped.ok()) fail(stopped.error);
    else note(progress, "stopped " + it->instance);
  }
  for (auto it = record.services.rbegin(); it != record.services.rend(); ++it)
    if (auto removed = tool.remove(context, it->name); !removed.ok()) fail(removed.error);
  if (record.started_manager) {
    if (auto down = tool.shutdown_manager(context); !down.ok()) fail(down.error);
    else note(progress, "stopped " + std::string(tool.manager()));
  }
  for (const auto& file : record.files) remove_file_and_empty_parents(context.root, file.path);
  for (const auto& service : record.services)
    for (const auto& directory : tool.service_directories(context, service.name)) {
      std::error_code ignored;
      fs::remove_all(directory, ignored);
    }
  if (!record.started_manager) {
    bool ignored = false;
    if (auto activated = tool.activate(context, ignored); !activated.ok()) fail(activated.error);
  }
  return errors;
}

ToolContext context_of(const DeploymentRecord& record, CommandRunner& runner, std::chrono::seconds timeout) {
  ToolContext context;
  context.scope = record.scope;
  context.root = record.root;
  context.state_dir = record.state_dir;
  context.runtime_dir = record.runtime_dir;
  context.log_dir = record.log_dir;
  context.uid = getuid();
  context.timeout = timeout;
  context.runner = &runner;
  return context;
}

}  // namespace nixpm::managers
