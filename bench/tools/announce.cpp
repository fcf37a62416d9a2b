// bench-announce: the managed process of every benchmark workload. It writes one line
// "<name> <pid> <CLOCK_MONOTONIC ns>\n" into the FIFO named by $BENCH_FIFO and then execs
// `sleep infinity`, keeping its pid, so the pid a manager reports is the pid that announced.
//
// The name is argv[1], or the base name of the working directory when there is none: runsv and
// s6-supervise run ./run without arguments from inside the service directory, so this lets their run
// file be a symlink to this program and every manager pays for exactly the same two execs.
//
// The time is taken first thing, so a manager is measured until its process runs, not until the
// harness got round to reading the FIFO. Only C library calls: nothing here may make the process slower
// to start than the workload needs.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

int main(int argc, char** argv) {
  struct timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);

  char cwd[PATH_MAX];
  const char* name = argc > 1 ? argv[1] : nullptr;
  if (name == nullptr) {
    if (getcwd(cwd, sizeof cwd) == nullptr) return 111;
    const char* slash = std::strrchr(cwd, '/');
    name = slash != nullptr ? slash + 1 : cwd;
  }

  const char* fifo = std::getenv("BENCH_FIFO");
  if (fifo != nullptr && *fifo != '\0') {
    // Non-blocking open: with no reader (the harness is gone) we must not hang; then blocking writes,
    // so a reader that is momentarily behind delays this process instead of losing its line.
    const int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      char line[512];
      const int length = std::snprintf(line, sizeof line, "%s %ld %lld\n", name, static_cast<long>(getpid()),
                                       static_cast<long long>(now.tv_sec) * 1000000000LL + now.tv_nsec);
      // One write below PIPE_BUF is atomic: lines of concurrent writers never interleave.
      if (length > 0 && length < static_cast<int>(sizeof line)) {
        ssize_t written;
        do {
          written = write(fd, line, static_cast<size_t>(length));
        } while (written < 0 && errno == EINTR);
      }
      close(fd);
    }
  }

  const char* sleep_program = std::getenv("BENCH_SLEEP");
  if (sleep_program == nullptr || *sleep_program == '\0') sleep_program = "/bin/sleep";
  execl(sleep_program, "sleep", "infinity", static_cast<char*>(nullptr));
  std::perror("bench-announce: exec sleep");
  return 127;
}
