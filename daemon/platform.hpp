#pragma once
// The one place for operating-system specifics. Linux gets its speed-ups and extra guarantees here
// (close_range, the child subreaper, SO_PEERCRED); every other POSIX system gets the portable fallback.

#include <optional>
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

// In a freshly forked child: closes every descriptor >= 3 except `keep`. Async-signal-safe.
void close_descriptors_except(int keep) noexcept;

}  // namespace nixpm::daemon::platform
