#pragma once
// The seam between the native-manager tool layer and the processes it runs. Tools (supervisorctl, sv,
// s6-svc, systemctl, ...) are always run through a CommandRunner, so unit tests hand the layer a fake
// that records each argv and answers with scripted output, and check the exact commands without
// running anything.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace nixpm::managers {

// One command: argv (never shell-split) and variables set on top of the caller's environment.
struct ToolCommand {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> environment;
  bool operator==(const ToolCommand&) const = default;
};

struct ToolResult {
  int exit_status = 0;  // the command's exit status; 128 + n when signal n ended it
  std::string output;   // stdout and stderr together, as the tool wrote them
  // Not empty: the command could not be run at all (not found, timed out); exit_status is then 127.
  std::string failure;
  bool ok() const { return failure.empty() && exit_status == 0; }
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs `command` to completion, at most `timeout` (then it is killed and `failure` says so).
  virtual ToolResult run(const ToolCommand& command, std::chrono::milliseconds timeout) = 0;
  // Waits between two polls of a condition (a fake returns at once).
  virtual void pause(std::chrono::milliseconds duration) = 0;
};

// The real runner: run_tool (common/tool_runner.hpp) with a PATH search, stdout and stderr in one pipe.
// Returns as soon as the command exits, even when a daemon it started keeps the pipe open.
class ProcessRunner : public CommandRunner {
 public:
  ToolResult run(const ToolCommand& command, std::chrono::milliseconds timeout) override;
  void pause(std::chrono::milliseconds duration) override;
};

// "supervisorctl -c /x/supervisord.conf start nginx", for messages (words with blanks are quoted).
std::string describe_command(const ToolCommand& command);

}  // namespace nixpm::managers
