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
// Every descendant of `root` (not `root` itself), children before their own children. On Linux it
// follows /proc/<pid>/task/<tid>/children from `root` down, so the cost is that of the descendants;
// scanning the whole process table for each instance made stopping N instances cost N × (all
// processes). Where those files do not exist it falls back to one scan of process_table().
std::vector<ProcessEntry> descendants_of(pid_t root);
// The start time of `pid` as process_table() reports it, or nullopt when it is gone.
std::optional<unsigned long long> process_start_time(pid_t pid);

// The path of the running executable (Linux /proc/self/exe, FreeBSD /proc/curproc/file), or empty.
std::string self_executable();

// The writable cgroup v2 directory this process belongs to (Linux), or empty when there is none.
std::string own_cgroup_directory();

// Starts a child process that runs `child(argument)`, which must end in execve or _exit and may make
// only async-signal-safe calls. With `share_memory` on Linux, the child borrows nixpmd's memory and
// nixpmd is suspended until the child has exec'd or exited (clone with CLONE_VM | CLONE_VFORK, what
// glibc's posix_spawn does): no page tables are copied and no page of nixpmd turns copy-on-write, so a
// spawn costs the same however large nixpmd is. Such a child must not change its credentials through
// the C library (glibc's set*id functions coordinate with the parent's threads). Without
// `share_memory`, elsewhere, and in sanitizer builds, it is fork. Returns the pid, or -1 with errno.
pid_t start_child(int (*child)(void*), void* argument, bool share_memory);

// In a freshly forked child: closes every descriptor >= 3 except `keep`. Async-signal-safe.
void close_descriptors_except(int keep) noexcept;

}  // namespace nixpm::daemon::platform
