#pragma once
// `nixpmctl logs`: the end of an instance's log file, and following it as it grows (like tail -F:
// a rotated or truncated file is reopened from its start). The client reads the file itself; the
// daemon only says where it is, so no log data ever passes through the daemon's loop twice.

#include <chrono>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace nixpm::client {

// The last `count` lines of the file (fewer if it has fewer); reads only the end of a large file.
std::vector<std::string> last_lines(const std::filesystem::path& path, std::size_t count);

// Prints what is appended to `path` from its current end, until `keep_going` returns false (checked
// after each poll). Returns false if the file cannot be opened at all.
bool follow_file(const std::filesystem::path& path, std::ostream& out, const std::function<bool()>& keep_going,
                 std::chrono::milliseconds poll = std::chrono::milliseconds(200));

}  // namespace nixpm::client
