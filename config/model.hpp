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

#include <nlohmann/json.hpp>

#include "config/resource_limit.hpp"
#include "config/source_position.hpp"

namespace nixpm::config {

enum class RestartPolicy { always, on_failure, never };

// How nixpm runs the command: in the foreground under nixpmd (preferred whenever `process` or
// `foregroundProcess` exists), or as a forking daemon tracked by its pid file (only `daemon` given).
enum class ProcessKind { foreground, daemon };

// `type`: a long-running process, or a oneshot that runs to completion (it is "done", not "failed",
// when it exits with a success code, and dependents wait for that exit).
enum class ProcessType { process, oneshot };

// When an instance counts as ready, so that its dependents may start.
enum class ReadinessKind {
  started,   // as soon as the process was started (a oneshot: when it exited successfully)
  pid_file,  // once the pid file exists and names a live process (the default for daemons)
  tcp,       // once a TCP connect to host:port succeeds
  command,   // once `command` exits with 0 (retried until startTimeout)
  notify,    // once the process sends READY=1 on $NOTIFY_SOCKET (sd_notify protocol)
};

struct ReadinessCheck {
  ReadinessKind kind = ReadinessKind::started;
  std::string host = "127.0.0.1";    // tcp only
  int port = 0;                      // tcp only
  std::vector<std::string> command;  // command only: argv, never shell-split
  bool operator==(const ReadinessCheck&) const = default;
};

// A periodic health probe of a ready instance; a failing probe counts as a crash.
struct LivenessCheck {
  std::vector<std::string> command;  // argv; exit status 0 = healthy
  double interval_seconds = 10.0;
  double timeout_seconds = 5.0;
  bool operator==(const LivenessCheck&) const = default;
};

struct GroupCredential {
  std::string name;
  std::optional<long long> gid;  // none: the system picks one
  bool operator==(const GroupCredential&) const = default;
};

// Mirrors the user fields nix-processmgmt's credentials accept (passed on to useradd).
struct UserCredential {
  std::string name;
  std::optional<long long> uid;  // none: the system picks one
  std::string group;             // primary group; empty: the system default
  std::string description;
  std::string home_dir;
  bool create_home_dir = false;
  std::string shell;
  bool operator==(const UserCredential&) const = default;
};

// Groups and users an instance needs; created (when missing) only by a root daemon.
struct Credentials {
  std::vector<GroupCredential> groups;
  std::vector<UserCredential> users;
  bool operator==(const Credentials&) const = default;
};

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
  ProcessType type = ProcessType::process;
  ReadinessCheck readiness;            // `started` for foreground processes, `pid_file` for daemons
  double start_timeout_seconds = 60;   // starting longer than this (not ready yet) counts as a failure
  std::vector<int> success_exit_codes{0};  // exit codes that are not failures
  std::optional<LivenessCheck> liveness;
  bool operator==(const SupervisionPolicy&) const = default;
};

struct InstanceSpec {
  // The instance name: its key under `instances` (or the JSON file's base name). It is also
  // ${instanceName}, createManagedProcess's `name` and `instanceName` (which must equal it when
  // given), and names logs, pid files and native units.
  std::string name;
  std::string constructor;  // the constructor it was made from; empty for a plain instance
  std::string description;
  // What nixpm runs: the foreground form for ProcessKind::foreground, the daemon form otherwise.
  ProcessKind kind = ProcessKind::foreground;
  std::string executable;
  std::vector<std::string> arguments;  // argv[1..], never shell-split
  // Both forms as createManagedProcess defines them, for native adapters that prefer one; a form
  // is empty when the definitions cannot produce it (e.g. no foreground form with only `daemon`).
  std::string foreground_executable;  // `foregroundProcess`, else `process`
  std::vector<std::string> foreground_arguments;
  std::string daemon_executable;  // `daemon`, else `process`
  std::vector<std::string> daemon_arguments;
  // `pidFile`; defaults to ${runtimeDir}/${instanceName}.pid for daemons, empty for foreground ones.
  std::string pid_file;
  std::string initialize;         // shell text run (with /bin/sh -c) before every start
  std::vector<std::string> path;  // directories put in front of PATH, in order
  std::map<std::string, std::string> environment;
  std::string directory;       // working directory; empty = the daemon's state dir
  std::optional<int> umask;    // e.g. 027 (octal); none = inherited
  std::optional<int> nice;     // -20..19; none = inherited
  std::vector<ResourceLimit> rlimits;  // `rlimits`, sorted by name; empty = inherited
  std::string user;            // run as this user (root daemon only); empty = the daemon's user
  Credentials credentials;
  std::vector<Dependency> dependencies;
  std::vector<GeneratedFile> files;
  bool autostart = true;  // started when the daemon starts (`autostart: false` opts out)
  SupervisionPolicy supervision;
  // Manager name -> its settings as written (a JSON object), for the native adapters only.
  std::map<std::string, nlohmann::json> overrides;
  std::map<std::string, long long> ids;  // id pool -> the unique id this instance holds
  SourcePosition position;               // where the instance is declared

  // Equality for the live switch: two specs that compare equal need no restart. Positions are ignored.
  bool same_behaviour(const InstanceSpec& other) const;
};

struct Definitions {
  std::filesystem::path source;         // the file (or directory) they were loaded from
  std::vector<InstanceSpec> instances;  // in declaration order

  const InstanceSpec* find(std::string_view name) const;
};

}  // namespace nixpm::config
