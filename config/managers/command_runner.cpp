#include "config/managers/command_runner.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string_view>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace nixpm::managers {
namespace {

void append_available(int fd, std::string& output) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      output.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;  // EOF, EAGAIN (a daemon holds the pipe open) or an error: nothing more to take now
  }
}

// The executable for argv[0]: itself when it names a path, else the first match on PATH. Resolved
// before fork, so that the child (of a possibly multi-threaded parent) only calls async-signal-safe
// functions.
std::string resolve_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : std::string();
  const char* path = std::getenv("PATH");
  std::string directories = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t begin = 0;
  while (begin <= directories.size()) {
    const auto end = std::min(directories.find(':', begin), directories.size());
    const std::string directory = end == begin ? "." : directories.substr(begin, end - begin);
    const std::string candidate = directory + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    begin = end + 1;
  }
  return {};
}

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

[[noreturn]] void exec_child(const std::string& executable, char* const* argv, char* const* envp,
                             const std::string& exec_failed, int output_fd) {
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(output_fd, STDOUT_FILENO);
  dup2(output_fd, STDERR_FILENO);
  // Whoever started us may ignore signals; the tool and what it starts must see them as usual.
  for (int signal_number : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) std::signal(signal_number, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(executable.c_str(), argv, envp);
  [[maybe_unused]] const auto written = write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
  _exit(127);
}

}  // namespace

ToolResult ProcessRunner::run(const ToolCommand& command, std::chrono::milliseconds timeout) {
  ToolResult result;
  if (command.argv.empty()) {
    result.exit_status = 127;
    result.failure = "empty command";
    return result;
  }
  const std::string executable = resolve_executable(command.argv[0]);
  if (executable.empty()) {
    result.exit_status = 127;
    result.failure = "cannot run " + command.argv[0] + ": not found" +
                     (command.argv[0].find('/') == std::string::npos ? " on PATH" : "");
    return result;
  }
  std::vector<char*> argv;
  for (const auto& word : command.argv) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  const auto environment = child_environment(command);
  std::vector<char*> envp;
  for (const auto& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const std::string exec_failed = "cannot run " + executable + "\n";

  int fds[2];
  if (pipe(fds) != 0) {
    result.exit_status = 127;
    result.failure = std::string("cannot create a pipe: ") + std::strerror(errno);
    return result;
  }
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    result.exit_status = 127;
    result.failure = std::string("cannot fork: ") + std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    close(fds[0]);
    exec_child(executable, argv.data(), envp.data(), exec_failed, fds[1]);
  }
  close(fds[1]);
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);

  // Poll the pipe and the child together: a tool that starts a daemon (supervisord, an init script)
  // may leave the pipe open in it, so the end of the command is its exit, not the pipe's EOF.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      append_available(fds[0], result.output);
      close(fds[0]);
      result.exit_status = 127;
      result.failure = describe_command(command) + ": no answer within " +
                       std::to_string(timeout.count() / 1000) + " s";
      return result;
    }
    pollfd entry{fds[0], POLLIN, 0};
    if (poll(&entry, 1, 20) > 0) append_available(fds[0], result.output);
  }
  append_available(fds[0], result.output);
  close(fds[0]);
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (result.exit_status == 127 && result.output.starts_with("cannot run ")) {
    result.failure = result.output.substr(0, result.output.find('\n'));
  }
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
