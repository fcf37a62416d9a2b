#pragma once
// An instance's log file, appended to across restarts and rotated by size: when the next write would
// take it past `max_bytes`, <name>.log becomes <name>.log.1 (older ones shift up to .log.<keep>, the
// oldest is deleted). A write is split at the last newline that fits, so no file exceeds `max_bytes`
// and a process that writes without end, or a crash loop, uses at most (keep + 1) × max_bytes of disk.

#include <cstddef>
#include <filesystem>
#include <string>

namespace nixpm::daemon {

struct LogRotation {
  std::size_t max_bytes = 10 * 1024 * 1024;
  int keep = 3;  // rotated files kept besides the current one; 0 truncates instead
};

class LogFile {
 public:
  LogFile(std::filesystem::path path, LogRotation rotation);
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Appends everything (rotating first when needed). Returns an error text, empty on success; on
  // error the data is dropped, never the daemon.
  std::string append(const char* data, std::size_t size);
  // Creates the file if needed, so that it exists from the first start on, and closes it again.
  std::string ensure_exists();
  // Closes the descriptor until the next append. nixpmd keeps a log file open only while it writes:
  // every descriptor nixpmd holds is copied into each child it spawns (and closed there before exec),
  // so an open log file per instance made each spawn cost more the more instances ran.
  void release();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::string open_file();
  std::string rotate();
  std::string write_all(const char* data, std::size_t size);

  std::filesystem::path path_;
  LogRotation rotation_;
  int fd_ = -1;
  bool created_ = false;  // opened (and so created) at least once
  std::size_t size_ = 0;
};

}  // namespace nixpm::daemon
