#include "check_commands.hpp"

#include <csignal>

#include <fcntl.h>
#include <unistd.h>

#include "daemon/readiness_prober.hpp"

namespace nixpm::daemon {

CheckCommands::~CheckCommands() {
  for (const auto& [pid, done] : running_) spawner_.signal_group(pid, SIGKILL);
}

pid_t CheckCommands::run(const std::vector<std::string>& argv, const ProbeTarget& target, Done done,
                         std::string& error) {
  if (argv.empty()) {
    error = "empty check command";
    return -1;
  }
  SpawnRequest request;
  request.executable = argv.front();
  request.arguments.assign(argv.begin() + 1, argv.end());
  request.environment = target.environment;
  request.directory = target.directory.empty() ? std::filesystem::path("/") : target.directory;
  request.output_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (request.output_fd < 0) {
    error = "open /dev/null failed";
    return -1;
  }
  const auto result = spawner_.spawn(request);
  close(request.output_fd);
  if (!result.ok()) {
    error = result.error;
    return -1;
  }
  running_.emplace(result.pid, std::move(done));
  return result.pid;
}

void CheckCommands::abandon(pid_t pid) {
  if (running_.erase(pid) != 0) spawner_.signal_group(pid, SIGKILL);
}

bool CheckCommands::child_exited(pid_t pid, int wait_status) {
  auto found = running_.find(pid);
  if (found == running_.end()) return false;
  auto done = std::move(found->second);
  running_.erase(found);
  done(wait_status);
  return true;
}

}  // namespace nixpm::daemon
