#pragma once
// The one place for operating-system specifics. Linux gets its speed-ups and extra guarantees here
// (close_range, the child subreaper, SO_PEERCRED); every other POSIX system gets the portable fallback.

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace nixpm::daemon::platform {

// Makes orphaned descendants of our children ours to reap (Linux PR_SET_CHILD_SUBREAPER).
// Returns false where the system has no such notion.
bool become_child_subreaper();

// The uid and primary gid of the process at the other end of a connected Unix socket.
struct PeerCredentials {
  uid_t uid;
  gid_t gid;
};
std::optional<PeerCredentials> peer_credentials(int socket_fd);

// Every group of the user `name` whose primary group is `gid` (from the group database).
std::vector<gid_t> groups_of(const char* name, gid_t gid);

// Whether the user `uid` (primary group `gid`) belongs to group `group`, supplementary groups included.
bool user_in_group(uid_t uid, gid_t gid, gid_t group);

// A descriptor that becomes readable when process `pid` exits (Linux pidfd_open), or -1 where the
// system has none (the caller falls back to polling with kill(pid, 0)).
int open_process_descriptor(pid_t pid);

// One row of the process table: enough to walk descendants and to tell a reused pid apart.
struct ProcessEntry {
  pid_t pid;
  pid_t parent;
  unsigned long long start_time;  // in clock ticks since boot; 0 where unknown
};
// Every process visible to us (Linux: /proc). Empty where the system offers no cheap way; callers
// then rely on process groups alone.
std::vector<ProcessEntry> process_table();
// The start time of `pid` as process_table() reports it, or nullopt when it is gone.
std::optional<unsigned long long> process_start_time(pid_t pid);

// The path of the running executable (Linux /proc/self/exe, FreeBSD /proc/curproc/file), or empty.
std::string self_executable();

// The writable cgroup v2 directory this process belongs to (Linux), or empty when there is none.
std::string own_cgroup_directory();

// In a freshly forked child: closes every descriptor >= 3 except `keep`. Async-signal-safe.
void close_descriptors_except(int keep) noexcept;

}  // namespace nixpm::daemon::platform
