#pragma once
// Turning daemon replies into text. Everything here is pure: JSON in, string out, no I/O.

#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.hpp"

namespace nixpm::client {

// A compact duration: "3s", "5m12s", "2h03m", "4d01h" (two units at most, the second zero-padded).
std::string format_uptime(double seconds);

// ANSI colour (SGR) for a state name: green for running/done, yellow for the transitional states
// (starting, stopping, backoff), red for failed; empty for stopped and anything unknown.
std::string_view state_colour(std::string_view state);

// One table cell; `colour` is an SGR sequence to wrap the text in, or empty.
struct Cell {
  std::string text;
  std::string_view colour = {};
};

// Left-aligned columns separated by two spaces, widths measured without the colour sequences, no
// trailing blanks. Colour is emitted only when `colour` is true.
std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<Cell>>& rows,
                         bool colour);

// NAME STATE PID UPTIME RESTARTS LAST-EXIT for status entries (docs/protocol.md, "status"); "-" marks
// absent values. Failed instances that carry a reason get a line each below the table.
std::string render_status_table(const protocol::Json& instances, bool colour);
// The members of a status entry that render_status_table reads: what `status` asks the daemon for
// (its `fields`), so that a status of many instances carries nothing the table does not show.
const std::vector<std::string>& status_table_members();

// NAME STATE AUTOSTART DESCRIPTION for list entries.
std::string render_list_table(const protocol::Json& instances, bool colour);

// The reply's "result" member as indented JSON (with a final newline), keys in the order the daemon
// sent them. `reply_payload` is the reply frame's payload.
std::string render_json_result(std::string_view reply_payload);

// One line per failed entry in `instances`, "<verb> <name>: failed: <why>", for stderr.
std::vector<std::string> describe_failures(std::string_view verb, const protocol::Json& instances);

}  // namespace nixpm::client
