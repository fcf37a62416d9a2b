#pragma once
// Containment with the best tool the system offers:
//   - a cgroup v2 directory per instance, under nixpmd's own cgroup, when that is writable (Linux):
//     every descendant is a member whatever it does; the leftovers are killed with cgroup.kill;
//   - else the process table (Linux /proc): the descendants of the main process, found by walking
//     parent links when the stop begins, remembered with their start times (so a reused pid is never
//     hit) and killed after the main process is gone; as a subreaper, nixpmd reaps them;
//   - else (other systems) nothing beyond the process group.

#include <map>
#include <unordered_map>
#include <vector>

#include "daemon/containment.hpp"
#include "daemon/platform.hpp"

namespace nixpm::daemon {

class ProcessContainment final : public Containment {
 public:
  // `use_cgroups`: false forces the process-table fallback (tests, or --no-cgroups).
  explicit ProcessContainment(bool use_cgroups = true);
  ~ProcessContainment() override;
  ProcessContainment(const ProcessContainment&) = delete;
  ProcessContainment& operator=(const ProcessContainment&) = delete;

  std::filesystem::path cgroup_for(const std::string& instance) override;
  void signal_escaped(const std::string& instance, pid_t main_pid, int signal) override;
  void kill_leftovers(const std::string& instance) override;

  // Gives up the cgroup subtree (before anything was spawned): the process table is used instead.
  void disable_cgroups();
  // "cgroup <dir>", "process table" or "process groups only", for the log.
  std::string mechanism() const;

 private:
  std::vector<pid_t> cgroup_members(const std::string& instance) const;

  std::filesystem::path base_;  // our cgroup subtree; empty without cgroups
  std::map<std::string, std::filesystem::path> created_;
  // Descendants seen when a stop began, per instance: pid -> start time.
  std::unordered_map<std::string, std::vector<platform::ProcessEntry>> remembered_;
};

}  // namespace nixpm::daemon
