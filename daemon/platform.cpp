#include "platform.hpp"

#include <algorithm>
#include <climits>
#include <vector>

#include <grp.h>
#include <pwd.h>

#include <sys/socket.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace nixpm::daemon::platform {

bool become_child_subreaper() {
#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
  return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
#else
  return false;
#endif
}

std::optional<PeerCredentials> peer_credentials(int socket_fd) {
#if defined(__linux__) && defined(SO_PEERCRED)
  struct ucred credentials {};
  socklen_t length = sizeof credentials;
  if (getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return std::nullopt;
  return PeerCredentials{credentials.uid, credentials.gid};
#else
  uid_t uid = 0;
  gid_t gid = 0;
  if (getpeereid(socket_fd, &uid, &gid) != 0) return std::nullopt;
  return PeerCredentials{uid, gid};
#endif
}

std::vector<gid_t> groups_of(const char* name, gid_t gid) {
  int count = 64;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  // getgrouplist's group type differs between systems (int on macOS); the cast keeps one code path.
  while (getgrouplist(name, gid, reinterpret_cast<decltype(&groups[0])>(groups.data()), &count) < 0) {
    groups.resize(static_cast<std::size_t>(count) + 64);
    count = static_cast<int>(groups.size());
  }
  groups.resize(static_cast<std::size_t>(count));
  return groups;
}

bool user_in_group(uid_t uid, gid_t gid, gid_t group) {
  if (gid == group) return true;
  const struct passwd* entry = getpwuid(uid);
  if (entry == nullptr) return false;
  const auto groups = groups_of(entry->pw_name, gid);
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

void close_descriptors_except(int keep) noexcept {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Two syscalls instead of one per possible descriptor.
  if (keep > 3) close_range(3, static_cast<unsigned>(keep - 1), 0);
  if (close_range(static_cast<unsigned>(keep + 1), UINT_MAX, 0) == 0) return;
#endif
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = 3; fd < max; ++fd)
    if (fd != keep) close(fd);
}

}  // namespace nixpm::daemon::platform
