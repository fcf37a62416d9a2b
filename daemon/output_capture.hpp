#pragma once
// Log capture on the Asio loop: each start of an instance gets a pipe; nixpmd reads it and appends to
// the instance's LogFile, which rotates by size. A reader lives until every writer closed the pipe
// (grandchildren included), so nothing written is lost, and it costs no wakeup while nothing is written.
// Each pipe has its own reader (a few hundred bytes; the read buffer is one for all of them), so with
// timestamps an unfinished line of one process waits for its own newline instead of being cut by
// another process's output. The log file itself is open only while output is being written.

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "daemon/log_file.hpp"
#include "daemon/output_router.hpp"

namespace nixpm::daemon {

// How instance logs are written, from nixpmd's command line.
struct LogOptions {
  LogRotation rotation;
  bool timestamps = false;  // prefix each line with its UTC arrival time (see log_timestamps.hpp)
};

class OutputCapture final : public OutputRouter {
 public:
  OutputCapture(boost::asio::io_context& io, std::filesystem::path log_dir, LogOptions options);
  int open_output(const std::string& instance, std::string& error) override;

  // The one read buffer every pipe reader shares: a pipe holds at most 64 KiB by default.
  static constexpr std::size_t kReadBufferSize = 64 * 1024;

 private:
  boost::asio::io_context& io_;
  std::filesystem::path log_dir_;
  LogOptions options_;
  // One file per instance name, shared by the readers of its successive processes.
  std::unordered_map<std::string, std::shared_ptr<LogFile>> files_;
  std::shared_ptr<std::vector<char>> read_buffer_;
};

}  // namespace nixpm::daemon
