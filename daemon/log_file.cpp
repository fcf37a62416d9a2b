#include "log_file.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nixpm::daemon {
namespace fs = std::filesystem;

LogFile::LogFile(fs::path path, LogRotation rotation) : path_(std::move(path)), rotation_(rotation) {}

LogFile::~LogFile() { release(); }

void LogFile::release() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

std::string LogFile::ensure_exists() {
  // Once per LogFile, not per spawn: a restart should not cost three more system calls. A file
  // removed behind our back is created again by the next append.
  if (created_ || fd_ >= 0) return {};
  auto error = open_file();
  release();
  return error;
}

std::string LogFile::open_file() {
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return "open " + path_.string() + ": " + std::strerror(errno);
  created_ = true;
  struct stat info {};
  size_ = fstat(fd_, &info) == 0 ? static_cast<std::size_t>(info.st_size) : 0;
  return {};
}

std::string LogFile::rotate() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  std::error_code ignored;
  if (rotation_.keep <= 0) {
    fs::resize_file(path_, 0, ignored);
  } else {
    const auto numbered = [&](int n) { return fs::path(path_.string() + "." + std::to_string(n)); };
    fs::remove(numbered(rotation_.keep), ignored);
    for (int n = rotation_.keep - 1; n >= 1; --n) fs::rename(numbered(n), numbered(n + 1), ignored);
    fs::rename(path_, numbered(1), ignored);
  }
  return open_file();
}

std::string LogFile::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = write(fd_, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      return "write " + path_.string() + ": " + std::strerror(errno);
    }
    data += written;
    size -= static_cast<std::size_t>(written);
    size_ += static_cast<std::size_t>(written);
  }
  return {};
}

std::string LogFile::append(const char* data, std::size_t size) {
  if (fd_ < 0) {
    if (auto error = open_file(); !error.empty()) return error;
  }
  if (rotation_.max_bytes == 0) return write_all(data, size);  // no limit
  // No file ever grows past max_bytes: what does not fit goes to the next file, cut after the last
  // complete line that fits (or, for a line longer than a whole file, at the limit).
  while (size > 0) {
    const std::size_t room = size_ < rotation_.max_bytes ? rotation_.max_bytes - size_ : 0;
    if (size <= room) return write_all(data, size);
    std::size_t part = 0;
    if (size_ == 0) {
      part = room;
    } else {
      const std::string_view fits(data, room);
      const auto newline = fits.rfind('\n');
      part = newline == std::string_view::npos ? 0 : newline + 1;
    }
    if (auto error = write_all(data, part); !error.empty()) return error;
    data += part;
    size -= part;
    if (auto error = rotate(); !error.empty()) return error;
  }
  return {};
}

}  // namespace nixpm::daemon
