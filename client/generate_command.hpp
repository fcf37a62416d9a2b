#pragma once
// `nixpmctl generate`: native configuration for another process manager from the same definitions,
// without a daemon. Loads the definitions as `check` does, runs the chosen adapter, prints what the
// definitions lose on that manager (stderr), and writes the files to -o DIR. --list and --capabilities
// describe the adapters instead.
//
// Exit status: 0 written; 1 --strict and something would be lost (nothing is written), or a file could
// not be written; 2 usage error (unknown manager, no -o), invalid definitions or overrides.

#include <optional>
#include <string_view>

#include "client/commands.hpp"
#include "config/managers/manager_adapter.hpp"
#include "config/model.hpp"

namespace nixpm::client {

// The pieces a deployment reuses: the adapter's result for these paths (definitions loaded as `check`
// loads them, with the ids nixpmd holds, read only; scope and directories from `paths`), or nullopt
// after printing why on term.err with the exit status in `exit_status` (2: invalid definitions or
// overrides). Write the result with managers::write_generated.
std::optional<managers::Generated> generate_for(const managers::ManagerAdapter& manager, const Paths& paths,
                                                Terminal& term, int& exit_status);
// The two halves of generate_for, for a deployment that also needs the definitions: the definitions as
// `check` loads them (nullopt after printing why; the messages name `verb`), and the adapter's result
// for them (nullopt after printing why, e.g. a bad overrides value).
std::optional<config::Definitions> load_definitions_for(const Paths& paths, Terminal& term, std::string_view verb);
std::optional<managers::Generated> generate_from(const managers::ManagerAdapter& manager,
                                                 const config::Definitions& definitions, const Paths& paths,
                                                 Terminal& term, std::string_view verb);
// The adapter --manager names, or nullptr after printing a usage error (none given, or unknown) that
// names `verb`.
const managers::ManagerAdapter* chosen_manager(const Invocation& inv, Terminal& term, std::string_view verb);
// The loss report: one line per loss on term.err ("nginx: umask: lost on launchd: ...").
void print_losses(const managers::Generated& generated, const managers::ManagerAdapter& manager,
                  Terminal& term);

int run_generate(const Invocation& inv, const Paths& paths, Terminal& term);

}  // namespace nixpm::client
