#pragma once
// Log capture on the Asio loop: each start of an instance gets a pipe; nixpmd reads it and appends to
// the instance's LogFile, which rotates by size. A reader lives until every writer closed the pipe
// (grandchildren included), so nothing written is lost, and it costs no wakeup while nothing is written.

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "daemon/log_file.hpp"
#include "daemon/output_router.hpp"

namespace nixpm::daemon {

class OutputCapture final : public OutputRouter {
 public:
  OutputCapture(boost::asio::io_context& io, std::filesystem::path log_dir, LogRotation rotation);
  int open_output(const std::string& instance, std::string& error) override;

 private:
  boost::asio::io_context& io_;
  std::filesystem::path log_dir_;
  LogRotation rotation_;
  // One file per instance name, shared by the readers of its successive processes.
  std::unordered_map<std::string, std::shared_ptr<LogFile>> files_;
};

}  // namespace nixpm::daemon
