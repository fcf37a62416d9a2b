#pragma once
// The resolved model: plain data describing each instance after constructors are expanded and every
// ${...} is interpolated. The daemon, `nixpmctl check` and the native adapters all consume this type;
// nothing here knows about YAML, JSON or Nix.

#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/source_position.hpp"

namespace nixpm::config {

enum class RestartPolicy { always, on_failure, never };

struct Dependency {
  std::string name;
  SourcePosition position;  // where the dependency is named (for "unknown dependency" errors)
};

// A file rendered from the definitions (the YAML form of Nix's writeTextFile), written by the daemon
// before each start of its instance.
struct GeneratedFile {
  std::filesystem::path path;  // absolute; relative paths in the definitions are under the state dir
  std::string content;
  bool operator==(const GeneratedFile&) const = default;
};

// Supervision settings (nixpm's own keys; nix-processmgmt leaves these to each manager).
struct SupervisionPolicy {
  RestartPolicy restart = RestartPolicy::on_failure;
  double restart_delay_seconds = 1.0;       // first delay of the exponential backoff
  double max_restart_delay_seconds = 30.0;  // the backoff's cap
  double stable_after_seconds = 10.0;       // a run this long resets the backoff and the burst count
  int restart_limit = 5;                    // quick consecutive failures before `failed`
  int stop_signal = SIGTERM;
  double stop_timeout_seconds = 10.0;  // grace period between the stop signal and SIGKILL
  bool operator==(const SupervisionPolicy&) const = default;
};

struct InstanceSpec {
  std::string name;         // the instance name (its key under `instances`)
  std::string constructor;  // the constructor it was made from; empty for a plain instance
  std::string description;
  std::string executable;              // `foregroundProcess`, else `process`
  std::vector<std::string> arguments;  // argv[1..], never shell-split
  std::map<std::string, std::string> environment;
  std::string directory;  // working directory; empty = the daemon's state dir
  std::vector<Dependency> dependencies;
  std::vector<GeneratedFile> files;
  bool autostart = true;  // started when the daemon starts (`autostart: false` opts out)
  SupervisionPolicy supervision;
  SourcePosition position;  // where the instance is declared

  // Equality for the live switch: two specs that compare equal need no restart. Positions are ignored.
  bool same_behaviour(const InstanceSpec& other) const;
};

struct Definitions {
  std::filesystem::path source;         // the file (or directory) they were loaded from
  std::vector<InstanceSpec> instances;  // in declaration order

  const InstanceSpec* find(std::string_view name) const;
};

}  // namespace nixpm::config
