#include "credentials_provisioner.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/posix_spawner.hpp"

namespace nixpm::daemon {
namespace {

// Where groupadd and useradd live, whatever PATH nixpmd was started with.
constexpr const char* kToolPath = "/usr/sbin:/sbin:/usr/bin:/bin";

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

// The instances that name an account, for the failure report.
using NamedBy = std::map<std::string, std::vector<std::string>>;

void note(NamedBy& named_by, std::vector<std::string>& order, const std::string& account,
          const std::string& instance) {
  auto [entry, added] = named_by.try_emplace(account);
  if (added) order.push_back(account);
  if (std::find(entry->second.begin(), entry->second.end(), instance) == entry->second.end())
    entry->second.push_back(instance);
}

}  // namespace

bool SystemAccountTools::group_exists(const std::string& name) {
  return getgrnam(name.c_str()) != nullptr;
}

bool SystemAccountTools::user_exists(const std::string& name) {
  return getpwnam(name.c_str()) != nullptr;
}

std::string SystemAccountTools::run(const std::vector<std::string>& argv) {
  const std::string tool = argv.front();
  const std::string executable = find_executable(tool, kToolPath);
  if (executable.empty()) return tool + " not found in " + kToolPath;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  // A fixed environment: the tools' messages in plain English, and nothing of nixpmd's own.
  std::string path_entry = std::string("PATH=") + kToolPath;
  char lang[] = "LC_ALL=C";
  char* envp[] = {path_entry.data(), lang, nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // nixpmd blocks signals it handles through Asio only in its loop; the tool gets the defaults.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int spawn_error = posix_spawn(&pid, executable.c_str(), &actions, &attributes, args.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(fds[1]);
  if (spawn_error != 0) {
    close(fds[0]);
    return "exec " + executable + ": " + std::strerror(spawn_error);
  }

  std::string output;
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(fds[0], buffer, sizeof buffer);
    if (got > 0) {
      output.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  output = trimmed(std::move(output));
  return output.empty() ? tool + ": " + exit_text(status) : output;
}

std::vector<std::string> groupadd_command(const config::GroupCredential& group) {
  std::vector<std::string> argv{"groupadd", "--system"};
  if (group.gid) argv.insert(argv.end(), {"--gid", std::to_string(*group.gid)});
  argv.push_back(group.name);
  return argv;
}

std::vector<std::string> useradd_command(const config::UserCredential& user, bool own_group_exists) {
  std::vector<std::string> argv{"useradd", "--system"};
  if (user.uid) argv.insert(argv.end(), {"--uid", std::to_string(*user.uid)});
  if (!user.group.empty())
    argv.insert(argv.end(), {"--gid", user.group});
  else if (own_group_exists)
    argv.insert(argv.end(), {"--gid", user.name});
  if (!user.description.empty()) argv.insert(argv.end(), {"--comment", user.description});
  if (!user.home_dir.empty()) argv.insert(argv.end(), {"--home-dir", user.home_dir});
  argv.push_back(user.create_home_dir ? "--create-home" : "--no-create-home");
  if (!user.shell.empty()) argv.insert(argv.end(), {"--shell", user.shell});
  argv.push_back(user.name);
  return argv;
}

ProvisioningReport provision_credentials(const std::vector<config::InstanceSpec>& instances,
                                         AccountTools& tools) {
  // The first definition of each account, and who names it.
  std::map<std::string, const config::GroupCredential*> groups;
  std::map<std::string, const config::UserCredential*> users;
  NamedBy group_instances;
  NamedBy user_instances;
  std::vector<std::string> group_order;
  std::vector<std::string> user_order;
  for (const auto& instance : instances) {
    for (const auto& group : instance.credentials.groups) {
      groups.try_emplace(group.name, &group);
      note(group_instances, group_order, group.name, instance.name);
    }
    for (const auto& user : instance.credentials.users) {
      users.try_emplace(user.name, &user);
      note(user_instances, user_order, user.name, instance.name);
    }
  }

  ProvisioningReport report;
  auto create = [&](const std::string& account, const std::vector<std::string>& argv,
                    const std::vector<std::string>& named_by) {
    if (auto message = tools.run(argv); !message.empty())
      report.failures.push_back({account, std::move(message), named_by});
    else
      report.created.push_back(account);
  };
  for (const auto& name : group_order) {
    if (name.empty() || tools.group_exists(name)) continue;
    create("group " + name, groupadd_command(*groups.at(name)), group_instances.at(name));
  }
  for (const auto& name : user_order) {
    if (name.empty() || tools.user_exists(name)) continue;
    const auto& user = *users.at(name);
    create("user " + name, useradd_command(user, user.group.empty() && tools.group_exists(name)),
           user_instances.at(name));
  }
  return report;
}

}  // namespace nixpm::daemon
