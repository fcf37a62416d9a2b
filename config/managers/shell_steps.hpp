#pragma once
// Steps of the POSIX sh start scripts that launchd, cygrunsrv, runit, s6 and s6-rc adapters generate where
// their manager has no word for a property: creating credentials, exporting the environment, running
// `initialize` in the process that then becomes the program (as nixpmd does), keeping a forking daemon in
// the foreground, and turning a manager's SIGTERM into the instance's stop signal. Each step returns sh
// text (lines ending in '\n') or argv words; quoting goes through support::shell_quote.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/managers/manager_adapter.hpp"
#include "config/model.hpp"

namespace nixpm::managers::shell {

// The instance's environment for a script: `export NAME=value` lines for the names a shell can assign,
// then PATH with the `path` directories in front (as nixpmd does, also in front of a PATH given in
// `environment`). Names a shell cannot assign (`a.b`, `x-y`) come back as NAME=value words for `env`
// in front of the command.
struct Environment {
  std::string exports;
  std::vector<std::string> env_words;
};
Environment environment(const config::InstanceSpec& spec);

// Lines creating the instance's groups and users that do not exist yet (groupadd/useradd with the
// fields given), for scripts that run as root before switching to `user`. Empty without credentials.
std::string create_credentials(const config::InstanceSpec& spec);

// `mkdir -p` of the directories nixpmd makes when it starts: the state dir with run/, log/, tmp/, lib/ and
// cache/ (the runtime and log directories where the options move them), so that what the definitions
// put there finds its directory.
std::string make_state_directories(const GenerateOptions& options);

// `argv` run after `setup` (shell text, with sh -e) in the same process, so that the pid stays the
// program's: /bin/sh -ec 'setup
// exec "$0" "$@"' argv... Returns argv unchanged when setup is empty.
std::vector<std::string> after_setup(std::string_view setup, std::vector<std::string> argv);

// The program's argv (foreground form, or daemon form for a forking daemon), with `initialize` run
// first by after_setup.
std::vector<std::string> program_argv(const config::InstanceSpec& spec);

// "0|2": a `case` pattern matching the success exit codes.
std::string exit_code_pattern(const std::vector<int>& codes);

// Keeps a forking daemon in the foreground, for managers that supervise foreground processes only. The
// script starts it, waits (up to the start timeout) until its pid file names a live process, then stays
// until that process is gone, passing signals on: TERM (and INT) as the instance's stop signal, the
// stop signal, HUP, QUIT, USR1 and USR2 as they are. It exits 0 after a stop it passed on, else 1 (the
// daemon died by itself, a failure).
struct DaemonProxy {
  std::string start_command;  // sh command line starting the daemon (which forks and exits)
  std::string pid_file;
  double start_timeout_seconds = 60;
  int stop_signal = 15;
  std::string ready_check;  // sh command that must succeed too before the daemon counts as ready ("": none)
  std::string on_ready;     // sh command run once ready (s6: "echo >&3"); "" for none
};
std::string daemon_proxy(const DaemonProxy& proxy);

// Runs `command` (an sh command line) as a child and stays its parent: a TERM from the manager becomes
// `stop_signal` for the child, and the script exits 0 when the child exits with a success code, else
// with the child's status. For managers that can neither choose the stop signal nor the success codes.
std::string translating_parent(std::string_view command, int stop_signal,
                               const std::vector<int>& success_codes);

// `ulimit` lines that set the instance's `rlimits` in the script's own process, which the program then
// inherits: each line prefixed by `indent` and followed by `or_else` (" || exit 1"). Only the limits in
// ulimit_limits() are written (ulimit_limit_check reports the others). Empty without rlimits.
std::string resource_limits(const config::InstanceSpec& spec, std::string_view indent,
                            std::string_view or_else);
// The limits /bin/sh's ulimit sets with the same flag and unit in dash, bash (as sh), and the BSD and
// macOS shells: as, core, cpu, data, fsize, memlock, nofile, rss, stack. (nproc is -p in dash and -u
// elsewhere; the rest have no flag in dash.)
const std::vector<std::string_view>& ulimit_limits();
// The support::LimitCheck of adapters that set limits with resource_limits().
std::optional<Loss> ulimit_limit_check(const config::InstanceSpec& spec);

// One line of text (a description in a comment): newlines become spaces.
std::string one_line(std::string_view text);

}  // namespace nixpm::managers::shell
