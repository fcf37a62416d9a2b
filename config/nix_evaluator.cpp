#include "config/nix_evaluator.hpp"

// Runs nix-instantiate as a child process: posix_spawn (no shell, arguments passed as they are),
// stdout and stderr read through pipes with poll() so that neither can fill up and block the child,
// a deadline after which the child is killed, and waitpid on the child's own pid.
//
// Reaping: this waits for its child with waitpid(pid). It must therefore run while nothing else in the
// process reaps children with waitpid(-1) (the daemon's SIGCHLD reaper): nixpmctl never has one, and
// nixpmd evaluates its definitions before the supervisor and its reaper exist. A reaper that runs
// concurrently would steal the exit status (waitpid would fail with ECHILD, reported as an error).
//
// Environment: the child inherits ours unchanged. With `--store dummy://` nix-instantiate needs no
// /nix, no daemon and no writable HOME; it was checked as root without /nix and as an unprivileged
// user with HOME=/nonexistent and with an empty environment.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace nixpm::config {
namespace {

constexpr std::string_view kProgram = "nix-instantiate";
constexpr auto kTimeout = std::chrono::seconds(60);
constexpr std::size_t kMaxOutput = 64 * 1024 * 1024;  // a runaway evaluation is stopped here

bool is_executable_file(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// PATH is searched here rather than by the shell or execvp, so "is it available" and "what runs" agree.
std::optional<std::filesystem::path> find_program(std::string_view program) {
  const char* env_path = std::getenv("PATH");
  const std::string_view search = env_path != nullptr && *env_path != '\0' ? env_path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= search.size()) {
    std::size_t end = search.find(':', start);
    if (end == std::string_view::npos) end = search.size();
    const std::string_view dir = search.substr(start, end - start);
    const std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : std::string(dir)) / program;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

// Where `import <nixpm>` points: $NIXPM_NIX_LIBRARY, else <prefix>/share/nixpm/nix next to the binary.
std::optional<std::filesystem::path> nix_library_dir() {
  if (const char* dir = std::getenv("NIXPM_NIX_LIBRARY"); dir != nullptr && *dir != '\0') return dir;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const auto installed = exe.parent_path().parent_path() / "share" / "nixpm" / "nix";
  if (std::filesystem::exists(installed / "default.nix", ec)) return installed;
  return std::nullopt;
}

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end = fds[0];
    write_end = fds[1];
    return true;
  }
  void close_write() {
    ::close(write_end);
    write_end = -1;
  }
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "nix-instantiate exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "nix-instantiate was killed by signal " + std::to_string(WTERMSIG(status));
  return "nix-instantiate ended with wait status " + std::to_string(status);
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

struct Spawned {
  pid_t pid = -1;
  int error = 0;  // errno when spawning failed
};

Spawned spawn(const std::filesystem::path& program, const std::vector<std::string>& args, Pipe& out, Pipe& err) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write_end, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write_end, STDERR_FILENO);
  // The caller may block signals or ignore SIGPIPE; the child starts with a clean slate.
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  Spawned spawned;
  spawned.error = ::posix_spawn(&spawned.pid, program.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  return spawned;
}

// Reads both pipes until both are closed, the deadline passes or the output grows too large.
// Returns false in the last two cases.
bool drain(Pipe& out, Pipe& err, std::string& out_text, std::string& err_text,
           std::chrono::steady_clock::time_point deadline) {
  pollfd fds[2] = {{out.read_end, POLLIN, 0}, {err.read_end, POLLIN, 0}};
  std::string* texts[2] = {&out_text, &err_text};
  char buffer[65536];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        texts[i]->append(buffer, static_cast<std::size_t>(n));
        if (texts[i]->size() > kMaxOutput) return false;
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        fds[i].fd = -1;  // closed (the Pipe closes the descriptor)
      }
    }
  }
  return true;
}

}  // namespace

bool nix_available() { return find_program(kProgram).has_value(); }

NixEvaluation evaluate_nix_file(const std::filesystem::path& file, const DirectoryVariables& dirs,
                                bool force_disable_user_change) {
  NixEvaluation result;
  const auto program = find_program(kProgram);
  if (!program) {
    result.error =
        "cannot evaluate a .nix file: nix-instantiate is not on PATH (on Debian: apt-get install "
        "--no-install-recommends nix-bin)";
    return result;
  }
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(file, ec);
  std::vector<std::string> args = {std::string(kProgram), "--eval", "--strict", "--json", "--store", "dummy://"};
  if (const auto library = nix_library_dir()) {
    args.insert(args.end(), {"-I", "nixpm=" + library->string()});
  }
  args.push_back(ec ? file.string() : absolute.string());
  const std::pair<const char*, const std::string*> directories[] = {
      {"stateDir", &dirs.state_dir}, {"runtimeDir", &dirs.runtime_dir}, {"logDir", &dirs.log_dir},
      {"tmpDir", &dirs.tmp_dir},     {"cacheDir", &dirs.cache_dir},
  };
  for (const auto& [name, value] : directories) args.insert(args.end(), {"--argstr", name, *value});
  args.insert(args.end(), {"--arg", "forceDisableUserChange", force_disable_user_change ? "true" : "false"});

  Pipe out;
  Pipe err;
  if (!out.open() || !err.open()) {
    result.error = std::string("cannot run nix-instantiate: pipe: ") + std::strerror(errno);
    return result;
  }
  const Spawned child = spawn(*program, args, out, err);
  out.close_write();
  err.close_write();
  if (child.error != 0) {
    result.error = "cannot run " + program->string() + ": " + std::strerror(child.error);
    return result;
  }

  std::string out_text;
  std::string err_text;
  const bool finished = drain(out, err, out_text, err_text, std::chrono::steady_clock::now() + kTimeout);
  if (!finished) ::kill(child.pid, SIGKILL);
  const int status = wait_for(child.pid);

  if (!finished) {
    result.error = "nix-instantiate did not finish within " + std::to_string(kTimeout.count()) +
                   " seconds (or printed too much) and was stopped";
  } else if (status < 0) {
    result.error = std::string("cannot wait for nix-instantiate: ") + std::strerror(errno);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    result.json = std::move(out_text);
  } else {
    // Nix's message is passed on as it is (it names file:line); only trailing newlines go.
    while (!err_text.empty() && (err_text.back() == '\n' || err_text.back() == '\r')) err_text.pop_back();
    result.error = err_text.empty() ? describe_status(status) : err_text;
  }
  return result;
}

}  // namespace nixpm::config
