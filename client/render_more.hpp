#pragma once
// Rendering for the verbs beyond status and list: reload changes, the dependency graph, live events.
// Pure, like render.hpp.

#include <string>

#include "common/protocol.hpp"

namespace nixpm::client {

// "added: a b" ... one line per non-empty category of a reload result; "nothing changed" otherwise.
std::string render_reload(const protocol::Json& result);

// The dependency graph from status entries (each with "name" and "dependencies"): every instance that
// nothing depends on, with what it depends on indented below it. An instance reached twice is
// printed once more with "(see above)" instead of its subtree again.
std::string render_graph_tree(const protocol::Json& instances);

// The same graph in Graphviz DOT: an edge from each instance to each of its dependencies.
std::string render_graph_dot(const protocol::Json& instances);

// One line for one event: "<time> <name> <state> [pid N] [(last exit)]", or the reload summary.
std::string render_event(const protocol::Json& event);

}  // namespace nixpm::client
