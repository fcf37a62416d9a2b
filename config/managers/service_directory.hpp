#pragma once
// Service directories of the daemontools family, shared by the runit, s6 and s6-rc adapters: the run
// script (everything nixpmd does before exec'ing the program, then exec), the finish script (restart
// policy), the readiness check, the control files, the logger and the `overrides.<manager>` files. What
// differs between the suites (chpst or s6-setuidgid, sv or s6-svwait, ./check or notification-fd) is
// chosen by Suite.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/managers/manager_adapter.hpp"

namespace nixpm::managers::service_directory {

enum class Suite { runit, s6, s6_rc };

// Whether the instance tells its manager when it is ready (beyond "started"), so that dependents can
// wait for that: runit through a ./check script, s6 and s6-rc through notification-fd.
bool signals_readiness(const config::InstanceSpec& spec);

// The files of one long-running service directory, relative to it: run, finish, the readiness check,
// the control files (runit: control/t, down; s6 and s6-rc: notification-fd, down-signal, timeout-kill,
// timeout-finish, max-death-tally; s6: down) and, for runit and s6, the logger in log/. s6-rc adds its
// own files (type, dependencies, the logger service) around these.
std::vector<OutputFile> longrun_files(const config::InstanceSpec& spec,
                                      const config::Definitions& definitions, const GenerateOptions& options,
                                      Suite suite);

// ./run. For runit and s6 it first starts the dependencies and waits until they are up (ready, where they
// signal it); s6-rc orders them itself. A oneshot (runit, s6) runs to completion and then stays up, so
// that the supervisor and the dependents see it done.
std::string run_script(const config::InstanceSpec& spec, const config::Definitions& definitions,
                       const GenerateOptions& options, Suite suite);

// The logger's run script: svlogd (runit) or s6-log (s6, s6-rc), into <logDir>/<name>/current, rotated
// by size. s6-rc's logger signals its readiness on fd 3.
std::string log_run_script(const config::InstanceSpec& spec, const GenerateOptions& options, Suite suite);

// A oneshot as one sh script for s6-rc's `up`: the same steps as a run script, output appended to the
// instance's log file, the success codes turned into 0.
std::string oneshot_script(const config::InstanceSpec& spec, const GenerateOptions& options);

// `script` as the single execline command line s6-rc's up/down files hold: /bin/sh -c "...".
std::string execline_sh_command(std::string_view script);
// The inverse, for tests: the script inside such a line (nullopt when it is not one).
std::optional<std::string> script_of_execline_sh_command(std::string_view line);

// Applies overrides.<manager> = {"<path in the service directory>": content} to the files of the
// directory `dir`: a string is the file's content, a number its content as a line ("3\n"), true an empty
// file, false or null removes the file. A replaced file keeps its mode; a new one is executable when its
// content starts with "#!". Throws GenerateError for paths that leave the directory, lists and maps.
void apply_file_overrides(const config::InstanceSpec& spec, std::string_view manager,
                          const std::filesystem::path& dir, std::vector<OutputFile>& files);

// runit's and s6's whole output: one service directory per instance (named after it, in dependency order,
// overrides.<manager> applied), the start order and the losses against `capabilities`.
Generated supervision_tree(const config::Definitions& definitions, const GenerateOptions& options,
                           Suite suite, std::string_view manager,
                           const std::vector<PropertySupport>& capabilities);

// Milliseconds for s6's and s6-rc's timeout files (at least 1: 0 would mean "no timeout").
std::string milliseconds(double seconds);

// The service directory names of the dependencies, each once, in the order written.
std::vector<std::string> dependency_names(const config::InstanceSpec& spec);

}  // namespace nixpm::managers::service_directory
