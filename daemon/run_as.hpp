#pragma once
// `nixpmd --run-as UID:GID[:GROUP,...] -- PROGRAM [ARGS...]`: an internal mode, not for people. It drops
// to the given identity and executes PROGRAM in the same process.
//
// Why: `initialize` must run as root in system mode (to create directories, chown them, ...) and only
// the program itself as the instance's `user`. The spawned child stays root and runs
//   sh -ec '<initialize>; exec "$0" "$@"' /path/to/nixpmd --run-as 33:33:33 -- program args...
// so the shell becomes nixpmd, which becomes the program: one pid throughout, as without `user`.
// (setpriv(1) would do, but it is Linux-only; this works wherever nixpmd does.)

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace nixpm::daemon {

struct RunAsIdentity {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;
};

// "33:33:33,44" <-> identity. Parsing returns nullopt on anything malformed.
std::string format_run_as(const RunAsIdentity& identity);
std::optional<RunAsIdentity> parse_run_as(const std::string& text);

// True when argv asks for the internal mode (argv[1] == "--run-as").
bool is_run_as_invocation(int argc, char** argv);
// Drops privileges and executes; returns (an exit status) only on failure, after printing why.
int run_as_main(int argc, char** argv);

}  // namespace nixpm::daemon
