#include "common/tool_runner.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace nixpm {
namespace {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() = default;
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    close_read();
    close_write();
  }
  bool open() {
    int fds[2];
    if (::pipe(fds) != 0) return false;
    // FD_CLOEXEC rather than pipe2: pipe2 is missing on macOS. A fork elsewhere between the two calls
    // could leak the descriptors into that child; the tools are run before or outside such forks.
    for (int fd : fds) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    read_end = fds[0];
    write_end = fds[1];
    return true;
  }
  void close_read() {
    if (read_end >= 0) ::close(read_end);
    read_end = -1;
  }
  void close_write() {
    if (write_end >= 0) ::close(write_end);
    write_end = -1;
  }
};

bool is_executable_file(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// posix_spawn rather than Boost.Process: this runs in nixpmctl and before nixpmd's loop exists, needs
// nothing but pipes, and must reset the signal mask nixpmd blocks for its own handling.
int spawn(const ToolRequest& request, const Pipe& out, const Pipe& err, pid_t& pid) {
  std::vector<char*> argv;
  for (const auto& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (request.environment) {
    for (const auto& entry : *request.environment) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write_end, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, request.merge_stderr ? out.write_end : err.write_end,
                                   STDERR_FILENO);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const int error = ::posix_spawn(&pid, request.program.c_str(), &actions, &attributes, argv.data(),
                                  request.environment ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  return error;
}

// Whatever the pipe holds now, without waiting (the read end is non-blocking).
void read_available(int fd, std::string& text) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

enum class Drained { closed, exited, stopped };

// Reads both pipes until both are closed (or, with until_exit, until the child exited: `status` then
// holds its wait status). `stopped` when the deadline passed or the output grew too large.
Drained drain(Pipe& out, Pipe& err, ToolResult& result, const ToolRequest& request, pid_t pid, int& status) {
  // How often a tool that may leave its output open to a daemon is checked for its exit.
  constexpr auto kExitCheck = std::chrono::milliseconds(20);
  const auto deadline = std::chrono::steady_clock::now() + request.timeout;
  pollfd fds[2] = {{out.read_end, POLLIN, 0}, {err.read_end, POLLIN, 0}};
  std::string* texts[2] = {&result.out, &result.err};
  char buffer[65536];
  for (;;) {
    if (request.until_exit && ::waitpid(pid, &status, WNOHANG) == pid) {
      for (int i = 0; i < 2; ++i)
        if (fds[i].fd >= 0) read_available(fds[i].fd, *texts[i]);
      return Drained::exited;
    }
    if (fds[0].fd < 0 && fds[1].fd < 0) return Drained::closed;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Drained::stopped;
    if (request.until_exit) left = std::min(left, kExitCheck);
    const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Drained::stopped;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        texts[i]->append(buffer, static_cast<std::size_t>(n));
        if (texts[i]->size() > request.max_output) return Drained::stopped;
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;  // at its end; the Pipe closes the descriptor
      }
    }
  }
}

}  // namespace

bool ToolResult::exited_zero() const {
  return error.empty() && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
}

std::string ToolResult::status_text() const {
  if (!error.empty()) return error;
  if (WIFEXITED(wait_status)) return "exited " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status))
    return "killed by signal " + std::to_string(WTERMSIG(wait_status)) + " (" + strsignal(WTERMSIG(wait_status)) +
           ")";
  return "ended with wait status " + std::to_string(wait_status);
}

ToolResult run_tool(const ToolRequest& request) {
  ToolResult result;
  const std::string name = request.argv.empty() ? request.program.string() : request.argv.front();
  if (request.argv.empty()) {
    result.error = "cannot run " + request.program.string() + ": no argv";
    return result;
  }
  Pipe out;
  Pipe err;
  if (!out.open() || (!request.merge_stderr && !err.open())) {
    result.error = "cannot run " + name + ": pipe: " + std::strerror(errno);
    return result;
  }
  pid_t pid = -1;
  const int spawn_error = spawn(request, out, err, pid);
  out.close_write();
  err.close_write();
  if (spawn_error != 0) {
    result.error = "cannot run " + request.program.string() + ": " + std::strerror(spawn_error);
    return result;
  }
  if (request.until_exit) {
    for (int fd : {out.read_end, err.read_end})
      if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  int status = 0;
  const Drained drained = drain(out, err, result, request, pid, status);
  const bool finished = drained != Drained::stopped;
  if (!finished) ::kill(pid, SIGKILL);
  while (drained != Drained::exited && ::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      result.error = "cannot wait for " + name + ": " + std::strerror(errno);
      return result;
    }
  }
  result.wait_status = status;
  if (!finished) {
    const auto seconds = std::chrono::duration<double>(request.timeout).count();
    char text[32];
    std::snprintf(text, sizeof text, "%g", seconds);
    result.error = name + " did not finish within " + text + " seconds (or printed too much) and was stopped";
  }
  return result;
}

std::optional<std::filesystem::path> find_program(std::string_view program, std::string_view search_path) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string_view::npos) {
    if (is_executable_file(std::filesystem::path(program))) return std::filesystem::path(program);
    return std::nullopt;
  }
  std::size_t start = 0;
  while (start <= search_path.size()) {
    std::size_t end = search_path.find(':', start);
    if (end == std::string_view::npos) end = search_path.size();
    const std::string_view dir = search_path.substr(start, end - start);
    const auto candidate = std::filesystem::path(dir.empty() ? "." : std::string(dir)) / program;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<std::filesystem::path> find_program_on_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  return find_program(program, path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin");
}

}  // namespace nixpm
