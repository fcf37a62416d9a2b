#pragma once
// `nixpmctl check`: load the definitions the daemon would load, without a daemon, and print either the
// diagnostics (exit 2) or the resolved instances and their activation order (exit 0). The pieces are
// pure so that they are unit-tested; run_check does the I/O.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/commands.hpp"
#include "config/loader.hpp"

namespace nixpm::client {

// One argument as it would be typed into a POSIX shell: as is when that is unambiguous, else in single
// quotes. For display only: nixpm never runs commands through a shell.
std::string shell_quote(const std::string& argument);

// Each level lists instance names that start in parallel, after every earlier level is ready.
std::vector<std::vector<std::string>> activation_order(const config::Definitions& definitions);

// The human-readable summary: each instance with its command line and dependencies, then the levels.
std::string render_check_text(const config::Definitions& definitions);

// The fully resolved model (config::definitions_json) plus "activationOrder": [[names...], ...].
nlohmann::json check_json(const config::Definitions& definitions);

// Loads paths.config_file with the directory settings of `paths` and prints the outcome: diagnostics
// (errors and warnings) on term.err; the summary or, with --json, the model on term.out.
// Returns 0 when the definitions are valid, 2 otherwise.
int run_check(const Invocation& inv, const Paths& paths, Terminal& term);

}  // namespace nixpm::client
