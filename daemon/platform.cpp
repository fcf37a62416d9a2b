#include "platform.hpp"

#include <algorithm>
#include <cstdlib>
#include <climits>
#include <vector>

#include <grp.h>
#include <pwd.h>

#include <sys/socket.h>
#include <unistd.h>

#ifdef __linux__
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include <dirent.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>

// A child sharing our memory would run on a stack that AddressSanitizer does not know.
#if defined(__SANITIZE_ADDRESS__)
#define NIXPM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NIXPM_SANITIZED 1
#endif
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

pid_t start_child(int (*child)(void*), void* argument, bool share_memory) {
#if defined(__linux__) && !defined(NIXPM_SANITIZED)
  if (share_memory) {
    // The child runs on this stack while we are suspended, so one stack serves every spawn; the lock
    // only matters if spawns ever come from two threads. A few KiB of it are ever touched.
    static std::mutex stack_in_use;
    alignas(64) static char stack[64 * 1024];
    const std::lock_guard<std::mutex> lock(stack_in_use);
    return clone(child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, argument);
  }
#else
  (void)share_memory;
#endif
  const pid_t pid = fork();
  if (pid == 0) _exit(child(argument));
  return pid;
}

int open_process_descriptor(pid_t pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  return -1;
#endif
}

#ifdef __linux__
namespace {

// Parses /proc/<pid>/stat: the command name is in parentheses and may contain anything, so the fields
// are counted from the last ')'.
std::optional<ProcessEntry> read_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string state;
  long parent = 0;
  fields >> state >> parent;
  std::string skip;
  for (int field = 5; field < 22 && fields; ++field) fields >> skip;  // fields 5..21
  unsigned long long start = 0;
  fields >> start;
  if (!fields) return std::nullopt;
  return ProcessEntry{pid, static_cast<pid_t>(parent), start};
}

}  // namespace
#endif

std::vector<ProcessEntry> process_table() {
  std::vector<ProcessEntry> table;
#ifdef __linux__
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return table;
  while (const dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
    if (auto row = read_stat(static_cast<pid_t>(pid))) table.push_back(*row);
  }
  closedir(proc);
#endif
  return table;
}

namespace {

// Every process reachable from `root` through `children_of(parent, out)`, which appends the parent's
// children and returns false when it cannot tell; each process is reported once, `root` never.
template <typename ChildrenOf>
std::optional<std::vector<ProcessEntry>> walk_descendants(pid_t root, ChildrenOf children_of) {
  std::vector<ProcessEntry> found;
  std::vector<pid_t> pending{root};
  std::unordered_set<pid_t> seen{root};
  std::vector<ProcessEntry> children;
  while (!pending.empty()) {
    const pid_t parent = pending.back();
    pending.pop_back();
    children.clear();
    if (!children_of(parent, children)) return std::nullopt;
    for (auto& child : children) {
      if (!seen.insert(child.pid).second) continue;
      pending.push_back(child.pid);
      found.push_back(std::move(child));
    }
  }
  return found;
}

// The descendants of `root` in a full table of processes.
std::vector<ProcessEntry> descendants_in(const std::vector<ProcessEntry>& table, pid_t root) {
  std::unordered_multimap<pid_t, const ProcessEntry*> by_parent;
  for (const auto& entry : table) by_parent.emplace(entry.parent, &entry);
  return *walk_descendants(root, [&](pid_t parent, std::vector<ProcessEntry>& out) {
    auto [begin, end] = by_parent.equal_range(parent);
    for (auto it = begin; it != end; ++it) out.push_back(*it->second);
    return true;
  });
}

#ifdef __linux__
// The children of every thread of `pid` (Linux 3.5+ with CONFIG_PROC_CHILDREN); false when this kernel
// has no such files, so the caller scans the whole table instead.
bool children_of(pid_t pid, std::vector<pid_t>& children) {
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* directory = opendir(tasks.c_str());
  if (directory == nullptr) return true;  // gone: no children
  bool supported = true;
  while (const dirent* entry = readdir(directory)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream in(tasks + "/" + entry->d_name + "/children");
    if (!in.is_open()) {
      // The thread may have ended meanwhile; the file is missing altogether only without the feature.
      struct stat info {};
      if (stat((tasks + "/" + entry->d_name).c_str(), &info) == 0) supported = false;
      continue;
    }
    long child = 0;
    while (in >> child) children.push_back(static_cast<pid_t>(child));
  }
  closedir(directory);
  return supported;
}
#endif

}  // namespace

std::vector<ProcessEntry> descendants_of(pid_t root) {
#ifdef __linux__
  auto found = walk_descendants(root, [](pid_t parent, std::vector<ProcessEntry>& out) {
    std::vector<pid_t> pids;
    if (!children_of(parent, pids)) return false;
    for (const pid_t pid : pids)
      if (auto row = read_stat(pid)) out.push_back(*row);  // one that is gone has nothing left to signal
    return true;
  });
  if (found) return std::move(*found);
#endif
  return descendants_in(process_table(), root);
}

std::optional<unsigned long long> process_start_time(pid_t pid) {
#ifdef __linux__
  if (auto row = read_stat(pid)) return row->start_time;
#else
  (void)pid;
#endif
  return std::nullopt;
}

std::string self_executable() {
  for (const char* link : {"/proc/self/exe", "/proc/curproc/file"}) {
    char buffer[PATH_MAX];
    const auto length = readlink(link, buffer, sizeof buffer - 1);
    if (length > 0) return std::string(buffer, static_cast<std::size_t>(length));
  }
  return {};
}

std::string own_cgroup_directory() {
#ifdef __linux__
  // The unified (v2) hierarchy: "0::/path" in /proc/self/cgroup, mounted where mountinfo says cgroup2.
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  std::string relative;
  while (std::getline(cgroups, line))
    if (line.starts_with("0::")) relative = line.substr(3);
  if (relative.empty()) return {};
  std::ifstream mounts("/proc/self/mountinfo");
  while (std::getline(mounts, line)) {
    const auto separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    std::istringstream after(line.substr(separator + 3));
    std::string type;
    after >> type;
    if (type != "cgroup2") continue;
    std::istringstream before(line.substr(0, separator));
    std::string id, parent, device, root, mount_point;
    before >> id >> parent >> device >> root >> mount_point;
    if (root != "/") continue;
    std::string directory = mount_point + (relative == "/" ? "" : relative);
    if (access(directory.c_str(), W_OK) == 0) return directory;
  }
#endif
  return {};
}

}  // namespace nixpm::daemon::platform
