#pragma once
// What every adapter needs and none should write twice: POSIX shell quoting for generated scripts, the
// dependency order and depth of instances, the catalogue of properties a manager may or may not carry
// (and which of them one instance actually uses, hence what it loses), the default pid-file and log-file
// paths, and the lookup of `overrides.<manager>`.

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/managers/manager_adapter.hpp"

namespace nixpm::managers::support {

// ---- shell ---------------------------------------------------------------------------------------

// One word for a POSIX sh script: as is when it has only characters that the shell never interprets,
// otherwise in single quotes ('\'' for a quote inside). The empty word is ''.
std::string shell_quote(std::string_view word);
// argv as one sh command line, each word quoted by shell_quote.
std::string shell_command(const std::vector<std::string>& argv);
// The command an instance runs in the foreground or as a daemon (executable + arguments), quoted.
std::string foreground_command(const config::InstanceSpec& spec);
std::string daemon_command(const config::InstanceSpec& spec);
// sh lines that write the instance's `files` (mkdir -p, then printf '%s' with the exact content), one
// file after the other, each line prefixed by `indent`. Empty when the instance has none.
std::string write_files_script(const config::InstanceSpec& spec, std::string_view indent);
// Whether `name` can be a sh variable (letters, digits and _, not starting with a digit): only those can
// be `export`ed by a script.
bool is_shell_name(std::string_view name);
// The environment variables whose names sh cannot export (`my-var`), as an `env NAME=value ...` command
// prefix for the process; empty when every name is a sh name.
std::vector<std::string> env_prefix(const config::InstanceSpec& spec);
// The comment line that tells shellcheck the generated script single-quotes `$` on purpose (SC2016: every
// argument is quoted so that nothing in it expands), plus any further codes given ("SC2034").
std::string shellcheck_directive(std::string_view more_codes = "");
// Shell text from a template: every "@KEY@" replaced by its value (for scripts that read better whole).
std::string fill_template(std::string_view text,
                          const std::vector<std::pair<std::string_view, std::string>>& values);
// The body of a sh function (tab-indented) that polls `condition` every 0.1 s until it holds, and fails
// with "<who>: not ready after N s" on stderr after `timeout_seconds`.
std::string wait_until_body(std::string_view condition, double timeout_seconds, std::string_view who);
// The PATH an instance's `path` makes: P/bin:P/sbin for each entry, then `rest` (e.g. "$PATH").
std::string path_variable(const config::InstanceSpec& spec, std::string_view rest);
// An octal umask as written in definitions and native configs: "027"; "0022" stays 4 digits only when
// the sticky bits are set.
std::string octal_umask(int umask);

// ---- dependency order ----------------------------------------------------------------------------

struct Ordering {
  // Instance indexes (into Definitions::instances) in a start order: dependencies first, each level of
  // the dependency graph in declaration order.
  std::vector<std::size_t> start_order;
  // depth[i]: 0 for an instance without dependencies, else one more than its deepest dependency.
  std::vector<int> depth;
  int max_depth = 0;
};
// Precondition: the definitions loaded (no unknown dependency, no cycle).
Ordering dependency_order(const config::Definitions& definitions);
// The names of `spec`'s dependencies, each once, in the order written.
std::vector<std::string> dependency_names(const config::InstanceSpec& spec);

// ---- properties, capabilities and losses ---------------------------------------------------------

// One property a manager may carry; `name` is the capability-table key every adapter uses.
struct PropertyInfo {
  std::string_view name;
  std::string_view meaning;  // one line, for docs and `generate --capabilities`
};
// Every property in the order of the docs' table. Each adapter's capabilities() has exactly these rows.
const std::vector<PropertyInfo>& property_catalogue();

// The catalogue properties this instance uses, in catalogue order. "Uses" means its meaning matters: a
// foreground process uses `foregroundProcess`, any restart policy but `never` uses `restart`, and a
// supervision number is used only when it differs from its default (the manager's own default is then
// as good as nixpm's).
std::vector<std::string> used_properties(const config::InstanceSpec& spec);

// What the instance loses on a manager with these capabilities: every used property the table marks
// emulated or lost, with its note. In the user scope `user` and `credentials` are always lost (the
// manager runs everything as the invoking user), whatever the table says for the system scope.
//
// A manager may carry only some of the `rlimits` (sh's ulimit has no portable flag for nproc; launchd
// has no key for `as`), or only soft and hard together (systemd's Limit*=). Its LimitCheck says what one
// instance's limits lose there; without one (or when it answers nullopt) the table's row decides.
using LimitCheck = std::optional<Loss> (*)(const config::InstanceSpec& spec);
std::vector<Loss> losses_for(const config::InstanceSpec& spec,
                             const std::vector<PropertySupport>& capabilities,
                             const GenerateOptions& options, LimitCheck limit_check = nullptr);
// The same for every instance, in declaration order.
std::vector<Loss> losses_for(const config::Definitions& definitions,
                             const std::vector<PropertySupport>& capabilities,
                             const GenerateOptions& options, LimitCheck limit_check = nullptr);
// The names of `spec`'s limits that are not in `carried`, in order, joined by ", " ("" when none).
std::string uncarried_limits(const config::InstanceSpec& spec, const std::vector<std::string_view>& carried);
// A copy of `capabilities` with one row replaced, for a property whose support depends on the instance
// (e.g. `restart: always` is native where `on-failure` is only approximated). `note` must be a literal.
std::vector<PropertySupport> with_row(std::vector<PropertySupport> capabilities, std::string_view property,
                                      Support support, std::string_view note);
// Whether the generated configuration should switch to spec.user (system scope and a user given).
bool switches_user(const config::InstanceSpec& spec, const GenerateOptions& options);

// ---- paths ---------------------------------------------------------------------------------------

std::filesystem::path runtime_dir(const GenerateOptions& options);  // options.runtime_dir or <state>/run
std::filesystem::path log_dir(const GenerateOptions& options);      // options.log_dir or <state>/log
// The directories nixpmd creates when it starts (state, runtime, log, tmp, lib, cache), which generated
// configuration creates before a start in its place.
std::vector<std::string> state_directories(const GenerateOptions& options);
// spec.pid_file when the definitions give one, else <runtime_dir>/<name>.pid.
std::filesystem::path pid_file(const config::InstanceSpec& spec, const GenerateOptions& options);
// The pid file a manager that runs a foreground process in the background tracks it by:
// <runtime_dir>/<name>.pid, or <runtime_dir>/<name>.<manager>.pid when the definitions name that very path
// as the process's own pid file (which the process writes itself).
std::filesystem::path tracking_pid_file(const config::InstanceSpec& spec, const GenerateOptions& options,
                                        std::string_view manager);
// <log_dir>/<name>.log: where a manager without its own log store sends the instance's output, the
// same file nixpmd appends to.
std::filesystem::path log_file(const config::InstanceSpec& spec, const GenerateOptions& options);
// The working directory: spec.directory, else the state dir (nixpmd's default).
std::filesystem::path working_directory(const config::InstanceSpec& spec, const GenerateOptions& options);

// ---- overrides -----------------------------------------------------------------------------------

// overrides.<manager> of the instance; nullptr when it has none.
const nlohmann::json* overrides_for(const config::InstanceSpec& spec, std::string_view manager);
// The override as a map of key -> value, or a GenerateError naming the instance when it is not a map.
// Empty when the instance has no override for `manager`.
std::vector<std::pair<std::string, const nlohmann::json*>> override_entries(const config::InstanceSpec& spec,
                                                                            std::string_view manager);
// A scalar override value as text: strings as they are, numbers and booleans as JSON writes them.
// Throws GenerateError (naming instance, manager and key) for lists, maps and null.
std::string override_scalar(const config::InstanceSpec& spec, std::string_view manager, std::string_view key,
                            const nlohmann::json& value);

// ---- text ----------------------------------------------------------------------------------------

std::string join(const std::vector<std::string>& items, std::string_view separator);
// Seconds as a short decimal: 10, 1.5, 0.25.
std::string format_seconds(double seconds);
// The signal's name without "SIG" (TERM, QUIT, ...), or its number when it has no name here.
std::string signal_name(int signal);

}  // namespace nixpm::managers::support
