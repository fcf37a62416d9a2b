#pragma once
// Runs a helper tool to completion and collects what it prints: nix-instantiate for .nix definitions,
// groupadd/useradd for credentials, a native manager's own tool. posix_spawn with no shell (arguments
// pass as they are), stdin from /dev/null, default signal dispositions and an empty signal mask in the
// child whatever the caller blocks, stdout and stderr read through pipes with poll() so that neither can
// fill up and block the child, and a deadline after which the child is killed.
//
// Reaping: this waits for its child with waitpid(pid). It must not run while something else in the
// process reaps with waitpid(-1) (nixpmd's SIGCHLD reaper) unless that reaper leaves this pid alone:
// the exit status would be stolen (reported as "cannot wait").

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nixpm {

struct ToolRequest {
  std::filesystem::path program;  // the file to execute (find_program finds it on a PATH)
  std::vector<std::string> argv;  // argv[0] included
  // NAME=value entries; nullopt: the child inherits this process's environment.
  std::optional<std::vector<std::string>> environment;
  bool merge_stderr = false;  // stderr into `out` (interleaved as printed) instead of `err`
  // Done when the tool exits, even if a process it started (an init script's daemon, supervisord)
  // still holds its output open; otherwise done when both outputs are closed. Then what the tool
  // printed before it exited is collected, and its children's later output is not waited for.
  bool until_exit = false;
  std::chrono::milliseconds timeout{60'000};
  std::size_t max_output = 64 * 1024 * 1024;  // a runaway tool is stopped here
};

struct ToolResult {
  // Not empty when the tool could not run to its end: not startable, killed at the deadline or for
  // printing too much, or not waitable. wait_status is meaningless then.
  std::string error;
  int wait_status = 0;
  std::string out;
  std::string err;
  bool exited_zero() const;
  // "exited 3", "killed by signal 9 (Killed)".
  std::string status_text() const;
};

ToolResult run_tool(const ToolRequest& request);

// The first executable regular file named `program` in the ':'-separated `search_path` (an empty entry
// is the current directory); a name with a '/' is taken as it is if it is executable.
std::optional<std::filesystem::path> find_program(std::string_view program, std::string_view search_path);
// The same on $PATH, or /usr/local/bin:/usr/bin:/bin without one.
std::optional<std::filesystem::path> find_program_on_path(std::string_view program);

}  // namespace nixpm
