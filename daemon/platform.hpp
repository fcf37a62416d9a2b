#pragma once
// The one place for operating-system specifics. Linux gets its speed-ups and extra guarantees here
// (close_range, the child subreaper, SO_PEERCRED); every other POSIX system gets the portable fallback.

#include <optional>

#include <sys/types.h>

namespace nixpm::daemon::platform {

// Makes orphaned descendants of our children ours to reap (Linux PR_SET_CHILD_SUBREAPER).
// Returns false where the system has no such notion.
bool become_child_subreaper();

// The uid of the process at the other end of a connected Unix socket, or nullopt if unknown.
std::optional<uid_t> peer_uid(int socket_fd);

// In a freshly forked child: closes every descriptor >= 3 except `keep`. Async-signal-safe.
void close_descriptors_except(int keep) noexcept;

}  // namespace nixpm::daemon::platform
