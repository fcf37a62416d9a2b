// Creating the groups and users of `credentials`: which commands run, in which order, what is left
// alone, and how failures are reported. A fake account database stands in for the system's.

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "daemon/credentials_provisioner.hpp"

using namespace nixpm;
using daemon::AccountTools;
using Lines = std::vector<std::string>;

namespace {

// Knows some accounts, records every command, and "creates" what groupadd/useradd name, unless told
// that a command fails.
class FakeAccounts final : public AccountTools {
 public:
  std::set<std::string> groups{"root", "users"};
  std::set<std::string> users{"root"};
  std::vector<Lines> commands;
  std::string failing_name;  // a command creating this account fails

  bool group_exists(const std::string& name) override { return groups.contains(name); }
  bool user_exists(const std::string& name) override { return users.contains(name); }
  std::string run(const Lines& argv) override {
    commands.push_back(argv);
    const std::string& name = argv.back();
    if (name == failing_name) return argv.front() + ": cannot lock /etc/passwd; try again later.";
    (argv.front() == "groupadd" ? groups : users).insert(name);
    return {};
  }
};

config::InstanceSpec instance(std::string name, config::Credentials credentials) {
  config::InstanceSpec spec;
  spec.name = std::move(name);
  spec.credentials = std::move(credentials);
  return spec;
}

}  // namespace

TEST_CASE("credentials: commands mirror nix-processmgmt's fields") {
  CHECK(daemon::groupadd_command({"web", std::nullopt}) == Lines{"groupadd", "--system", "web"});
  CHECK(daemon::groupadd_command({"web", 2001}) == Lines{"groupadd", "--system", "--gid", "2001", "web"});
  CHECK(daemon::useradd_command({"web", 2001, "www", "Web server", "/var/lib/web", true, "/bin/sh"}, false) ==
        Lines{"useradd", "--system", "--uid", "2001", "--gid", "www", "--comment", "Web server", "--home-dir",
              "/var/lib/web", "--create-home", "--shell", "/bin/sh", "web"});
  CHECK(daemon::useradd_command({"web", std::nullopt, "", "", "", false, ""}, false) ==
        Lines{"useradd", "--system", "--no-create-home", "web"});
  // A group named like the user exists already: useradd would refuse to make another, so it is used.
  CHECK(daemon::useradd_command({"web", std::nullopt, "", "", "", false, ""}, true) ==
        Lines{"useradd", "--system", "--gid", "web", "--no-create-home", "web"});
}

TEST_CASE("credentials: groups first, each account once, existing ones left alone") {
  FakeAccounts accounts;
  config::Credentials webapp;
  webapp.groups = {{"webapps", std::nullopt}, {"users", 100}};
  webapp.users = {{"webapp1", std::nullopt, "webapps", "", "", false, ""},
                  {"root", 0, "", "", "", false, ""}};
  config::Credentials other;
  other.users = {{"webapp2", std::nullopt, "webapps", "", "", false, ""}};
  other.groups = {{"webapps", 3000}};  // named again: created once, with the first definition
  const auto report =
      daemon::provision_credentials({instance("webapp1", webapp), instance("webapp2", other)}, accounts);
  CHECK(accounts.commands == std::vector<Lines>{
                                 {"groupadd", "--system", "webapps"},
                                 {"useradd", "--system", "--gid", "webapps", "--no-create-home", "webapp1"},
                                 {"useradd", "--system", "--gid", "webapps", "--no-create-home", "webapp2"},
                             });
  CHECK(report.created == Lines{"group webapps", "user webapp1", "user webapp2"});
  CHECK(report.failures.empty());

  // Everything exists now: a second pass (a reload) runs nothing.
  accounts.commands.clear();
  const auto again =
      daemon::provision_credentials({instance("webapp1", webapp), instance("webapp2", other)}, accounts);
  CHECK(accounts.commands.empty());
  CHECK(again.created.empty());
}

TEST_CASE("credentials: a failure names the account, the tool's message and the instances") {
  FakeAccounts accounts;
  accounts.failing_name = "db";
  config::Credentials db;
  db.users = {{"db", std::nullopt, "", "", "", false, ""}};
  config::Credentials app;
  app.users = {{"app", std::nullopt, "", "", "", false, ""}};
  const auto report = daemon::provision_credentials(
      {instance("db1", db), instance("app", app), instance("db2", db)}, accounts);
  REQUIRE(report.failures.size() == 1);
  CHECK(report.failures[0].account == "user db");
  CHECK(report.failures[0].message == "useradd: cannot lock /etc/passwd; try again later.");
  CHECK(report.failures[0].instances == Lines{"db1", "db2"});
  CHECK(report.created == Lines{"user app"});  // the others are still created
}

TEST_CASE("credentials: the real tools report a missing program or a failure with its output") {
  daemon::SystemAccountTools tools;
  CHECK(tools.run({"surely-not-a-tool-nixpm"}) ==
        "surely-not-a-tool-nixpm not found in /usr/sbin:/sbin:/usr/bin:/bin");
  CHECK(tools.run({"sh", "-c", "echo it went wrong >&2; exit 3"}) == "it went wrong");
  CHECK(tools.run({"sh", "-c", "exit 4"}) == "sh: exited 4");
  CHECK(tools.run({"true"}).empty());
  CHECK(tools.group_exists("root"));
  CHECK(tools.user_exists("root"));
  CHECK_FALSE(tools.user_exists("surely-not-a-user-nixpm"));
}
