#include "process_containment.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <system_error>

#include <spdlog/spdlog.h>

#include <unistd.h>

namespace nixpm::daemon {
namespace fs = std::filesystem;

namespace {

// Cgroup directory names: instance names are already [A-Za-z0-9_.-]-ish, but never trust a path part.
std::string directory_name(const std::string& instance) {
  std::string name;
  for (char c : instance) name += (c == '/' || c == '\0') ? '_' : c;
  if (name.empty() || name == "." || name == "..") name = "_" + name;
  return name;
}

}  // namespace

ProcessContainment::ProcessContainment(bool use_cgroups) {
  if (!use_cgroups) return;
  const auto own = platform::own_cgroup_directory();
  if (own.empty()) return;
  // The pid alone is not unique: every nixpmd that is PID 1 of its own namespace is pid 1.
  const auto unique = std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007;
  fs::path base = fs::path(own) / ("nixpm-" + std::to_string(getpid()) + "-" + std::to_string(unique));
  std::error_code error;
  fs::create_directory(base, error);
  if (error || !fs::exists(base / "cgroup.procs")) {
    fs::remove(base, error);
    return;
  }
  base_ = base;
}

ProcessContainment::~ProcessContainment() {
  // A cgroup can be removed only once its last member has fully exited; killed leftovers may take a
  // moment. nixpmd is exiting, so a short bounded wait is fine here (and only here).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (const auto& [instance, directory] : created_) {
    std::error_code error;
    while (!fs::remove(directory, error) && error && std::chrono::steady_clock::now() < deadline) {
      kill_leftovers(instance);
      usleep(10000);
    }
  }
  std::error_code ignored;
  if (!base_.empty()) fs::remove(base_, ignored);
}

void ProcessContainment::disable_cgroups() {
  std::error_code ignored;
  for (const auto& [instance, directory] : created_) fs::remove(directory, ignored);
  created_.clear();
  if (!base_.empty()) fs::remove(base_, ignored);
  base_.clear();
}

std::string ProcessContainment::mechanism() const {
  if (!base_.empty()) return "cgroup " + base_.string();
  if (!platform::process_table().empty()) return "process table";
  return "process groups only";
}

fs::path ProcessContainment::cgroup_for(const std::string& instance) {
  if (base_.empty()) return {};
  if (auto found = created_.find(instance); found != created_.end()) return found->second;
  const fs::path directory = base_ / directory_name(instance);
  std::error_code error;
  fs::create_directory(directory, error);
  if (error) {
    spdlog::warn("{}: cannot create cgroup {}: {}; using the process table", instance, directory.string(),
                 error.message());
    return {};
  }
  created_[instance] = directory;
  return directory;
}

std::vector<pid_t> ProcessContainment::cgroup_members(const std::string& instance) const {
  std::vector<pid_t> members;
  auto found = created_.find(instance);
  if (found == created_.end()) return members;
  std::ifstream procs(found->second / "cgroup.procs");
  pid_t pid = 0;
  while (procs >> pid)
    if (pid > 1) members.push_back(pid);
  return members;
}

void ProcessContainment::signal_escaped(const std::string& instance, pid_t main_pid, int signal) {
  if (created_.contains(instance)) {
    for (pid_t pid : cgroup_members(instance))
      if (getpgid(pid) != main_pid) kill(pid, signal);
    return;
  }
  auto found = platform::descendants_of(main_pid);
  auto& remembered = remembered_[instance];
  for (const auto& entry : found) {
    if (getpgid(entry.pid) != main_pid) kill(entry.pid, signal);
    bool known = false;
    for (const auto& seen : remembered) known = known || (seen.pid == entry.pid && seen.start_time == entry.start_time);
    if (!known) remembered.push_back(entry);
  }
}

void ProcessContainment::kill_leftovers(const std::string& instance) {
  if (auto found = created_.find(instance); found != created_.end()) {
    // cgroup.kill (Linux 5.14+) kills every member at once, including ones forking right now.
    std::ofstream kill_file(found->second / "cgroup.kill");
    if (kill_file && (kill_file << "1" << std::flush)) return;
    for (pid_t pid : cgroup_members(instance)) kill(pid, SIGKILL);
    return;
  }
  auto remembered = remembered_.find(instance);
  if (remembered == remembered_.end()) return;
  for (const auto& entry : remembered->second) {
    // Only the very process we saw: same pid and same start time.
    if (platform::process_start_time(entry.pid) == entry.start_time) kill(entry.pid, SIGKILL);
  }
  remembered_.erase(remembered);
}

}  // namespace nixpm::daemon
