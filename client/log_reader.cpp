#include "client/log_reader.hpp"

#include <fstream>
#include <thread>

#include <sys/stat.h>

namespace nixpm::client {
namespace fs = std::filesystem;

std::vector<std::string> last_lines(const fs::path& path, std::size_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in || count == 0) return {};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  // Read backwards in blocks until enough newlines are seen.
  std::string tail;
  std::streamoff position = size;
  std::size_t newlines = 0;
  constexpr std::streamoff kBlock = 64 * 1024;
  while (position > 0 && newlines <= count) {
    const std::streamoff step = std::min(kBlock, position);
    position -= step;
    std::string block(static_cast<std::size_t>(step), '\0');
    in.seekg(position);
    in.read(block.data(), step);
    for (char c : block) newlines += c == '\n';
    tail.insert(0, block);
  }
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < tail.size()) {
    std::size_t end = tail.find('\n', start);
    if (end == std::string::npos) end = tail.size();
    lines.push_back(tail.substr(start, end - start));
    start = end + 1;
  }
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(count));
  return lines;
}

bool follow_file(const fs::path& path, std::ostream& out, const std::function<bool()>& keep_going,
                 std::chrono::milliseconds poll) {
  std::ifstream in;
  ino_t inode = 0;
  std::streamoff offset = 0;
  auto open_at = [&](bool at_end) {
    in.close();
    in.clear();
    in.open(path, std::ios::binary);
    struct stat info {};
    if (!in || stat(path.c_str(), &info) != 0) return false;
    inode = info.st_ino;
    in.seekg(0, at_end ? std::ios::end : std::ios::beg);
    offset = in.tellg();
    return true;
  };
  if (!open_at(true)) return false;
  std::string buffer(64 * 1024, '\0');
  while (keep_going()) {
    in.clear();
    in.seekg(offset);
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = in.gcount();
    if (got > 0) {
      out.write(buffer.data(), got);
      out.flush();
      offset += got;
      continue;
    }
    struct stat info {};
    if (stat(path.c_str(), &info) == 0 && (info.st_ino != inode || info.st_size < offset)) {
      open_at(false);  // rotated or truncated: the new file is read from its start
      continue;
    }
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace nixpm::client
