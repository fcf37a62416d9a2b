#include "credentials_provisioner.hpp"

#include <algorithm>
#include <map>

#include <grp.h>
#include <pwd.h>

#include "common/tool_runner.hpp"

namespace nixpm::daemon {
namespace {

// Where groupadd and useradd live, whatever PATH nixpmd was started with.
constexpr const char* kToolPath = "/usr/sbin:/sbin:/usr/bin:/bin";

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
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
  const auto executable = find_program(tool, kToolPath);
  if (!executable) return tool + " not found in " + kToolPath;
  ToolRequest request;
  request.program = *executable;
  request.argv = argv;
  // A fixed environment: the tools' messages in plain English, and nothing of nixpmd's own.
  request.environment = {std::string("PATH=") + kToolPath, "LC_ALL=C"};
  request.merge_stderr = true;
  const auto result = run_tool(request);
  if (result.exited_zero()) return {};
  if (!result.error.empty()) return result.error;
  const auto output = trimmed(result.out);
  return output.empty() ? tool + ": " + result.status_text() : output;
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
