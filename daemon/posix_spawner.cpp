#include "posix_spawner.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tool_runner.hpp"
#include "daemon/platform.hpp"

namespace nixpm::daemon {
namespace {

// What the child reports through the status pipe when it cannot reach exec.
enum class Stage : int { chdir = 1, exec = 2, setup = 3, nice = 4, user = 5, rlimit = 6, cgroup = 7 };
struct ChildFailure {
  Stage stage;
  int error;
  int index;  // rlimit: which of the prepared limits failed
};

// A limit translated for setrlimit before the child starts: the child may only make system calls.
struct PreparedLimit {
  int resource;
  bool has_soft;
  bool has_hard;
  rlim_t soft;
  rlim_t hard;
};

// setrlimit's resource for a limit name from the definitions; nullopt where this system lacks it.
std::optional<int> rlimit_resource(const std::string& name) {
  static const std::pair<const char*, int> kResources[] = {
      {"nofile", RLIMIT_NOFILE}, {"core", RLIMIT_CORE},   {"as", RLIMIT_AS},     {"data", RLIMIT_DATA},
      {"stack", RLIMIT_STACK},   {"fsize", RLIMIT_FSIZE}, {"cpu", RLIMIT_CPU},
#ifdef RLIMIT_NPROC
      {"nproc", RLIMIT_NPROC},
#endif
#ifdef RLIMIT_MEMLOCK
      {"memlock", RLIMIT_MEMLOCK},
#endif
#ifdef RLIMIT_RSS
      {"rss", RLIMIT_RSS},
#endif
#ifdef RLIMIT_LOCKS
      {"locks", RLIMIT_LOCKS},
#endif
#ifdef RLIMIT_SIGPENDING
      {"sigpending", RLIMIT_SIGPENDING},
#endif
#ifdef RLIMIT_MSGQUEUE
      {"msgqueue", RLIMIT_MSGQUEUE},
#endif
#ifdef RLIMIT_NICE
      {"nice", RLIMIT_NICE},
#endif
#ifdef RLIMIT_RTPRIO
      {"rtprio", RLIMIT_RTPRIO},
#endif
#ifdef RLIMIT_RTTIME
      {"rttime", RLIMIT_RTTIME},
#endif
  };
  for (const auto& [known, resource] : kResources)
    if (name == known) return resource;
  return std::nullopt;
}

rlim_t as_rlim(std::uint64_t value) {
  return value == config::kUnlimited ? RLIM_INFINITY : static_cast<rlim_t>(value);
}

// Translates the request's limits, or says which one this system cannot set.
std::vector<PreparedLimit> prepare_limits(const std::vector<config::ResourceLimit>& limits,
                                          std::string& error) {
  std::vector<PreparedLimit> prepared;
  for (const auto& limit : limits) {
    const auto resource = rlimit_resource(limit.name);
    if (!resource) {
      error = "setrlimit " + limit.name + ": not supported on this system";
      return {};
    }
    prepared.push_back({*resource, limit.soft.has_value(), limit.hard.has_value(),
                        as_rlim(limit.soft.value_or(0)), as_rlim(limit.hard.value_or(0))});
  }
  return prepared;
}

std::string errno_text(int error) { return std::strerror(error); }

std::string path_of(const std::vector<std::string>& environment) {
  for (const auto& entry : environment)
    if (entry.rfind("PATH=", 0) == 0) return entry.substr(5);
  return "/usr/local/bin:/usr/bin:/bin";
}

// Reports why the child could not reach exec, and ends it.
[[noreturn]] void child_failed(int status_fd, Stage stage, int index = 0) {
  const ChildFailure failure{stage, errno, index};
  ssize_t ignored = write(status_fd, &failure, sizeof failure);
  (void)ignored;
  _exit(127);
}

// Moves the calling process into the cgroup whose cgroup.procs is `procs_path`. Async-signal-safe.
bool join_cgroup(const char* procs_path) {
  const int fd = open(procs_path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool written = write(fd, "0\n", 2) == 2;
  const int saved = errno;
  close(fd);
  errno = saved;
  return written;
}

// Applies the limits in order; a missing soft value is kept but never above the new hard one, a
// missing hard value is kept. Returns the index of the limit that failed, or -1. Async-signal-safe.
int apply_limits(const std::vector<PreparedLimit>& limits) {
  for (std::size_t i = 0; i < limits.size(); ++i) {
    const PreparedLimit& limit = limits[i];
    struct rlimit value {};
    const bool partial = !limit.has_soft || !limit.has_hard;
    if (partial && getrlimit(limit.resource, &value) != 0) return static_cast<int>(i);
    if (limit.has_hard) value.rlim_max = limit.hard;
    if (limit.has_soft) {
      value.rlim_cur = limit.soft;
    } else if (value.rlim_max != RLIM_INFINITY &&
               (value.rlim_cur == RLIM_INFINITY || value.rlim_cur > value.rlim_max)) {
      value.rlim_cur = value.rlim_max;
    }
    if (setrlimit(limit.resource, &value) != 0) return static_cast<int>(i);
  }
  return -1;
}

// Everything the child needs, prepared before it starts: between fork and exec it may not allocate.
struct ChildPlan {
  const char* executable;
  char* const* argv;
  char* const* envp;
  const char* directory;
  const char* cgroup_procs;
  const std::vector<PreparedLimit>* limits;
  int stdin_fd;
  int log_fd;
  int status_fd;
  const SpawnRequest* request;
};

// Runs in the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void run_child(const ChildPlan& plan) {
  const int status_fd = plan.status_fd;
  const SpawnRequest& request = *plan.request;
  // First of all, so that nothing this process starts can be outside the cgroup.
  if (plan.cgroup_procs[0] != '\0' && !join_cgroup(plan.cgroup_procs)) child_failed(status_fd, Stage::cgroup);
  setpgid(0, 0);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) sigaction(signal, &default_action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (dup2(plan.stdin_fd, STDIN_FILENO) < 0 || dup2(plan.log_fd, STDOUT_FILENO) < 0 ||
      dup2(plan.log_fd, STDERR_FILENO) < 0)
    child_failed(status_fd, Stage::setup);
  if (status_fd <= STDERR_FILENO) child_failed(status_fd, Stage::setup);
  platform::close_descriptors_except(status_fd);
  // Limits before the user changes: only root may raise a hard limit.
  if (const int failed = apply_limits(*plan.limits); failed >= 0) child_failed(status_fd, Stage::rlimit, failed);
  if (request.nice && setpriority(PRIO_PROCESS, 0, *request.nice) != 0) child_failed(status_fd, Stage::nice);
  if (request.umask) umask(*request.umask);
  if (const auto& identity = request.identity) {
    // Groups first, while still allowed to change them; the uid last.
    if (setgroups(identity->groups.size(), identity->groups.data()) != 0 || setgid(identity->gid) != 0 ||
        setuid(identity->uid) != 0)
      child_failed(status_fd, Stage::user);
  }
  if (plan.directory[0] != '\0' && chdir(plan.directory) != 0) child_failed(status_fd, Stage::chdir);
  execve(plan.executable, plan.argv, plan.envp);
  child_failed(status_fd, Stage::exec);
}

int child_entry(void* plan) { run_child(*static_cast<const ChildPlan*>(plan)); }

// Owns a descriptor for the parent's side of the spawn.
struct Descriptor {
  int fd = -1;
  explicit Descriptor(int value) : fd(value) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd >= 0) close(fd);
  }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

bool set_cloexec(int fd) { return fcntl(fd, F_SETFD, FD_CLOEXEC) == 0; }

}  // namespace

std::string find_executable(const std::string& name, const std::string& path_variable) {
  // A name with a slash goes to exec as given: a missing or unusable file is then reported by exec
  // itself, with its errno.
  if (name.find('/') != std::string::npos) return name;
  const auto found = find_program(name, path_variable);
  return found ? found->string() : std::string();
}

SpawnResult PosixSpawner::spawn(const SpawnRequest& request) {
  const std::string executable = find_executable(request.executable, path_of(request.environment));
  if (executable.empty()) return {-1, "exec " + request.executable + ": not found in PATH"};

  // Everything the child needs is prepared here: once started it may not allocate.
  std::vector<char*> argv;
  argv.reserve(request.arguments.size() + 2);
  argv.push_back(const_cast<char*>(request.executable.c_str()));
  for (const auto& argument : request.arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(request.environment.size() + 1);
  for (const auto& entry : request.environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const std::string directory = request.directory.string();
  const std::string cgroup_procs =
      request.cgroup.empty() ? std::string() : (request.cgroup / "cgroup.procs").string();
  std::string limits_error;
  const auto limits = prepare_limits(request.rlimits, limits_error);
  if (!limits_error.empty()) return {-1, limits_error};

  if (request.output_fd < 0) return {-1, "spawn: no descriptor for the output"};
  Descriptor null_input(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_input.fd < 0) return {-1, "open /dev/null: " + errno_text(errno)};
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {-1, "pipe: " + errno_text(errno)};
  Descriptor status_read(pipe_fds[0]);
  Descriptor status_write(pipe_fds[1]);
  if (!set_cloexec(status_read.fd) || !set_cloexec(status_write.fd)) return {-1, "fcntl: " + errno_text(errno)};

  // Signals stay blocked across the start so that no daemon handler runs in the child before it resets them.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &previous);
  ChildPlan plan{executable.c_str(), argv.data(),  envp.data(),        directory.c_str(),
                 cgroup_procs.c_str(), &limits,     null_input.fd,      request.output_fd,
                 status_write.fd,      &request};
  // The child shares our memory (no copy of it, we wait until it exec'd) unless it changes its user:
  // the C library's set*id calls are not safe in such a child.
  const pid_t pid = platform::start_child(child_entry, &plan, !request.identity.has_value());
  const int fork_error = errno;
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) return {-1, "fork: " + errno_text(fork_error)};

  // Also set the group here, so that a signal sent right after we return reaches the whole group.
  setpgid(pid, pid);
  status_write.reset();
  ChildFailure failure{};
  ssize_t got;
  do {
    got = read(status_read.fd, &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return {pid, {}};
  // The child exits with 127; the ChildReaper reaps it and finds no instance owning the pid.
  if (got != static_cast<ssize_t>(sizeof failure)) return {-1, "spawn: lost the child's status report"};
  switch (failure.stage) {
    case Stage::chdir:
      return {-1, "chdir " + directory + ": " + errno_text(failure.error)};
    case Stage::exec:
      return {-1, "exec " + executable + ": " + errno_text(failure.error)};
    case Stage::nice:
      return {-1, "nice " + std::to_string(request.nice.value_or(0)) + ": " + errno_text(failure.error)};
    case Stage::user:
      return {-1, "switching to uid " + std::to_string(request.identity ? request.identity->uid : 0) + ": " +
                      errno_text(failure.error)};
    case Stage::rlimit:
      if (failure.index >= 0 && static_cast<std::size_t>(failure.index) < request.rlimits.size())
        return {-1, "setrlimit " + request.rlimits[static_cast<std::size_t>(failure.index)].name + ": " +
                        errno_text(failure.error)};
      return {-1, "setrlimit: " + errno_text(failure.error)};
    case Stage::cgroup:
      return {-1, "cgroup " + cgroup_procs + ": " + errno_text(failure.error)};
    case Stage::setup:
      break;
  }
  return {-1, "setting up the child's descriptors: " + errno_text(failure.error)};
}

void PosixSpawner::signal_group(pid_t pid, int signal) {
  if (pid <= 1) return;  // never signal "every process" or init by mistake
  if (kill(-pid, signal) != 0 && errno == ESRCH) kill(pid, signal);
}

}  // namespace nixpm::daemon
