#include "config/managers/command_runner.hpp"

#include <string_view>
#include <thread>

#include <sys/wait.h>

#include "common/tool_runner.hpp"

extern char** environ;

namespace nixpm::managers {
namespace {

// This process's environment with the command's variables set on top.
std::vector<std::string> child_environment(const ToolCommand& command) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto name = text.substr(0, text.find('='));
    bool replaced = false;
    for (const auto& [key, value] : command.environment) replaced = replaced || key == name;
    if (!replaced) entries.emplace_back(text);
  }
  for (const auto& [key, value] : command.environment) entries.push_back(key + "=" + value);
  return entries;
}

}  // namespace

ToolResult ProcessRunner::run(const ToolCommand& command, std::chrono::milliseconds timeout) {
  ToolResult result;
  result.exit_status = 127;
  if (command.argv.empty()) {
    result.failure = "empty command";
    return result;
  }
  const auto executable = find_program_on_path(command.argv[0]);
  if (!executable) {
    result.failure = "cannot run " + command.argv[0] + ": not found" +
                     (command.argv[0].find('/') == std::string::npos ? " on PATH" : "");
    return result;
  }
  ToolRequest request;
  request.program = *executable;
  request.argv = command.argv;
  request.environment = child_environment(command);
  request.merge_stderr = true;
  // A tool that starts a daemon (supervisord, an init script) may leave its output open in it: the
  // end of the command is its exit, not the end of its output.
  request.until_exit = true;
  request.timeout = timeout;
  auto run = run_tool(request);
  result.output = std::move(run.out);
  if (!run.error.empty()) {
    result.failure = run.error.find("did not finish") != std::string::npos
                         ? describe_command(command) + ": no answer within " +
                               std::to_string(timeout.count() / 1000) + " s"
                         : run.error;
    return result;
  }
  result.exit_status = WIFEXITED(run.wait_status) ? WEXITSTATUS(run.wait_status) : 128 + WTERMSIG(run.wait_status);
  return result;
}

void ProcessRunner::pause(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

std::string describe_command(const ToolCommand& command) {
  std::string text;
  for (const auto& word : command.argv) {
    if (!text.empty()) text += ' ';
    text += word.find_first_of(" \t'\"") == std::string::npos && !word.empty() ? word : "'" + word + "'";
  }
  return text;
}

}  // namespace nixpm::managers
