#pragma once
// nixpmctl's command line: global options, the table of verbs, and what each verb sends and prints.
//
// The work is split so that every step but the socket is testable on its own:
//   parse_command_line  argv -> Invocation (or help / version / a usage error), pure
//   build_request       Invocation -> the request JSON, pure
//   Verb::present       reply -> text on the terminal and an exit status, pure
//   run                 all of the above plus a ControlClient
//
// Adding a verb is one entry in the table in commands.cpp: its name, the protocol op, a one-line summary
// for `nixpmctl --help`, a longer text for `nixpmctl <verb> --help`, and three small functions (options,
// request, presentation), usually shared with the existing verbs.

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "client/control_client.hpp"
#include "common/exit_codes.hpp"
#include "common/paths.hpp"
#include "common/protocol.hpp"

namespace CLI {
class App;
}

namespace nixpm::client {

// Options accepted before or after the verb.
struct GlobalOptions {
  PathOverrides overrides;  // -c, --socket, --user/--system, --state-dir, ...
  bool json = false;
  double timeout_seconds = 60;
};

struct Verb;

// One parsed command line.
struct Invocation {
  const Verb* verb = nullptr;
  GlobalOptions globals;
  std::vector<std::string> names;
  bool wait = true;  // cleared by --no-wait
  bool check_executables = true;  // check: cleared by --no-executable-check
  std::size_t lines = 10;         // logs -n
  bool follow = false;            // logs -f
  bool dot = false;               // graph --dot
  // generate, deploy, undeploy: --manager, -o, --strict, --list, --capabilities
  std::string manager;
  std::optional<std::filesystem::path> output_dir;
  bool strict = false;
  bool list_managers = false;
  bool capabilities = false;
  // deploy: --root (where the manager's files go instead of its usual place)
  std::optional<std::filesystem::path> root;
};

// Where output goes; `colour` is true only for a terminal that wants it.
struct Terminal {
  std::ostream& out;
  std::ostream& err;
  bool colour = false;
};

struct Verb {
  std::string_view name;     // on the command line
  std::string_view op;       // in the protocol
  std::string_view summary;  // one line, for `nixpmctl --help`
  std::string_view details;  // for `nixpmctl <verb> --help`
  // Declares the verb's own positionals and options, bound to `inv`.
  void (*configure)(CLI::App& sub, Invocation& inv);
  // The request to send, without "id".
  protocol::Json (*request)(const Invocation& inv);
  // Prints a successful reply; returns the exit status.
  int (*present)(const Invocation& inv, const Reply& reply, Terminal& term);
  // Set for a verb that runs locally, without a daemon (`check`): `run` calls it instead of connecting,
  // and `request`/`present` are not used. Returns the exit status.
  int (*local)(const Invocation& inv, const Paths& paths, Terminal& term) = nullptr;
  // Set for a verb that keeps reading unsolicited messages after its reply (`watch`); runs after
  // `present` and returns the exit status.
  int (*stream)(const Invocation& inv, ControlClient& client, Terminal& term) = nullptr;
};

// Every verb, in the order `--help` lists them.
const std::vector<Verb>& verbs();

struct ParseOutcome {
  std::optional<Invocation> invocation;  // set when there is a verb to run
  int exit_code = exit_code::ok;         // otherwise: 0 after --help/--version, 2 after a usage error
};

// Parses the arguments that follow argv[0]. Help and version text go to `out`, usage errors to `err`.
ParseOutcome parse_command_line(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The request an invocation sends (no "id"; ControlClient assigns it).
protocol::Json build_request(const Invocation& inv);

// How long to wait for the connection plus handshake, and for the reply. A waiting start/stop gets a
// few seconds beyond the timeout it hands the daemon, so the daemon's own "timeout" reply arrives first.
ControlClient::Duration connect_timeout(const Invocation& inv);
ControlClient::Duration reply_timeout(const Invocation& inv);

// Prints an error reply to the request (naming the verb and instances) and returns the exit status.
int report_error_reply(const Invocation& inv, const ErrorReply& error, Terminal& term);

// The whole command: parse, connect, request, print (a local verb runs instead of connecting). Error
// replies to the request are reported here; the other ClientErrors (unreachable, broken connection,
// timeout) are thrown for main to report.
int run(const std::vector<std::string>& args, const EnvLookup& env, uid_t uid, Terminal& term);

}  // namespace nixpm::client
