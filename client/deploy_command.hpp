#pragma once
// `nixpmctl deploy` and `nixpmctl undeploy`: the definitions installed into a native manager and run by
// its own tool (config/managers/deployment.hpp does the work), without nixpmd. The record of the last
// deployment is <stateDir>/lib/nixpm/deployment.json.
//
// Exit status: 0 deployed (or undeployed); 1 --strict with losses (nothing changed), or a tool or file
// operation failed (every failure is printed; what succeeded stays, and is recorded); 2 usage error
// (unknown manager, a deployment onto another manager or root is recorded), invalid definitions.

#include "client/commands.hpp"

namespace nixpm::client {

int run_deploy(const Invocation& inv, const Paths& paths, Terminal& term);
int run_undeploy(const Invocation& inv, const Paths& paths, Terminal& term);

}  // namespace nixpm::client
