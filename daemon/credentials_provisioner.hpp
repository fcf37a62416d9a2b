#pragma once
// Creates the groups and users that instances' `credentials` name and that do not exist yet, with the
// system's groupadd and useradd, as nix-processmgmt's credentials are created: system accounts, with the
// gid/uid, primary group, description, home directory and shell when given. Existing groups and users
// are never modified. Only a root daemon in system mode calls this (Daemon decides); it runs before the
// first instances start and again before a reload switches, so that new instances find their users.
//
// The tools run synchronously: account creation takes milliseconds, and the supervisor must not start
// an instance whose user is still being created. Their exits are collected here with waitpid(pid)
// before the ChildReaper's waitpid(-1) can run, because both run on the one event-loop thread.

#include <string>
#include <vector>

#include "config/model.hpp"

namespace nixpm::daemon {

// The seam to the account database and its tools; unit tests use a fake.
class AccountTools {
 public:
  virtual ~AccountTools() = default;
  virtual bool group_exists(const std::string& name) = 0;
  virtual bool user_exists(const std::string& name) = 0;
  // Runs `argv` to completion. Returns "" on success, else the tool's own message (its output) or how
  // it ended ("groupadd: exited 4").
  virtual std::string run(const std::vector<std::string>& argv) = 0;
};

// The real database (getgrnam/getpwnam) and tools (groupadd/useradd from /usr/sbin, /sbin, ...).
class SystemAccountTools final : public AccountTools {
 public:
  bool group_exists(const std::string& name) override;
  bool user_exists(const std::string& name) override;
  std::string run(const std::vector<std::string>& argv) override;
};

struct ProvisioningFailure {
  std::string account;                 // "group web" or "user web"
  std::string message;                 // the tool's message
  std::vector<std::string> instances;  // the instances that name this account
};

struct ProvisioningReport {
  std::vector<std::string> created;  // "group web", "user web", in the order they were created
  std::vector<ProvisioningFailure> failures;
};

// The command that creates `group`.
std::vector<std::string> groupadd_command(const config::GroupCredential& group);
// The command that creates `user`; `own_group_exists` says whether a group named like the user exists
// already (then it becomes the primary group, where useradd would otherwise refuse to create it).
std::vector<std::string> useradd_command(const config::UserCredential& user, bool own_group_exists);

// Creates every missing group (first, so that users can name them), then every missing user. An
// account named by several instances is created once, with the fields of the first that names it.
ProvisioningReport provision_credentials(const std::vector<config::InstanceSpec>& instances,
                                         AccountTools& tools);

}  // namespace nixpm::daemon
