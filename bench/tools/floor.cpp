// bench-floor: the floor every manager is compared with. It does the least a program can do to run
// the workload: spawn one process per name, respawn a process the moment it dies, and on SIGTERM
// kill every process, reap them all and exit. No configuration, no logs, no control socket.
//
//   bench-floor [--fork] NAMES_FILE PROGRAM     (PROGRAM NAME is run for each line of NAMES_FILE)
//
// By default it spawns with posix_spawn (a vfork-style clone in glibc: the cheapest way to start a
// process on Linux); --fork uses fork+exec instead, which is what most supervisors do, to show what
// that choice alone costs. Signals are taken with sigwaitinfo, so while nothing happens the floor
// sleeps in one system call and never wakes up.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace {

struct Options {
  bool use_fork = false;
  std::string names_file;
  std::string program;
};

sigset_t g_empty_mask;

pid_t spawn_one(const Options& options, const std::string& name) {
  char* argv[] = {const_cast<char*>(options.program.c_str()), const_cast<char*>(name.c_str()), nullptr};
  if (options.use_fork) {
    const pid_t pid = fork();
    if (pid == 0) {
      sigprocmask(SIG_SETMASK, &g_empty_mask, nullptr);
      execve(argv[0], argv, environ);
      _exit(127);
    }
    return pid;
  }
  // The child must not inherit the blocked SIGCHLD/SIGTERM this program waits for.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setsigmask(&attributes, &g_empty_mask);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, argv[0], nullptr, &attributes, argv, environ);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) {
    errno = error;
    return -1;
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fork") == 0) options.use_fork = true;
    else positional.emplace_back(argv[i]);
  }
  if (positional.size() != 2) {
    std::fprintf(stderr, "usage: bench-floor [--fork] NAMES_FILE PROGRAM\n");
    return 2;
  }
  options.names_file = positional[0];
  options.program = positional[1];

  std::vector<std::string> names;
  std::ifstream input(options.names_file);
  for (std::string line; std::getline(input, line);)
    if (!line.empty()) names.push_back(line);
  if (names.empty()) {
    std::fprintf(stderr, "bench-floor: no names in %s\n", options.names_file.c_str());
    return 2;
  }

  sigemptyset(&g_empty_mask);
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  sigaddset(&waited, SIGTERM);
  sigaddset(&waited, SIGINT);
  sigprocmask(SIG_BLOCK, &waited, nullptr);

  std::unordered_map<pid_t, std::size_t> index_of;
  index_of.reserve(names.size() * 2);
  std::vector<pid_t> pids(names.size(), -1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    pids[i] = spawn_one(options, names[i]);
    if (pids[i] < 0) std::fprintf(stderr, "bench-floor: spawn %s: %s\n", names[i].c_str(), std::strerror(errno));
    else index_of[pids[i]] = i;
  }

  for (;;) {
    siginfo_t info;
    const int signal = sigwaitinfo(&waited, &info);
    if (signal < 0) continue;  // EINTR
    if (signal == SIGCHLD) {
      int status = 0;
      pid_t pid;
      while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        const auto found = index_of.find(pid);
        if (found == index_of.end()) continue;
        const std::size_t i = found->second;
        index_of.erase(found);
        pids[i] = spawn_one(options, names[i]);
        if (pids[i] >= 0) index_of[pids[i]] = i;
      }
      continue;
    }
    // SIGTERM or SIGINT: kill everything, reap everything, leave.
    for (const auto& entry : index_of) kill(entry.first, SIGTERM);
    std::size_t remaining = index_of.size();
    while (remaining > 0) {
      int status = 0;
      const pid_t pid = waitpid(-1, &status, 0);
      if (pid < 0) {
        if (errno == EINTR) continue;
        break;  // ECHILD: nothing left
      }
      if (index_of.erase(pid) > 0) --remaining;
    }
    return 0;
  }
}
