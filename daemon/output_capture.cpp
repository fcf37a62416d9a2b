#include "output_capture.hpp"

#include <array>
#include <cerrno>
#include <cstring>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

namespace nixpm::daemon {
namespace {

class PipeReader : public std::enable_shared_from_this<PipeReader> {
 public:
  PipeReader(boost::asio::io_context& io, int fd, std::shared_ptr<LogFile> file)
      : pipe_(io, fd), file_(std::move(file)) {}

  void start() { read_more(); }

 private:
  void read_more() {
    pipe_.async_read_some(boost::asio::buffer(buffer_),
                          [self = shared_from_this()](const boost::system::error_code& error, std::size_t size) {
                            if (error) return;  // EOF: every writer is gone; the descriptor closes with us
                            if (auto problem = self->file_->append(self->buffer_.data(), size);
                                !problem.empty() && !self->warned_) {
                              spdlog::error("log: {}", problem);
                              self->warned_ = true;
                            }
                            self->read_more();
                          });
  }

  boost::asio::posix::stream_descriptor pipe_;
  std::shared_ptr<LogFile> file_;
  std::array<char, 64 * 1024> buffer_{};
  bool warned_ = false;
};

}  // namespace

OutputCapture::OutputCapture(boost::asio::io_context& io, std::filesystem::path log_dir, LogRotation rotation)
    : io_(io), log_dir_(std::move(log_dir)), rotation_(rotation) {}

int OutputCapture::open_output(const std::string& instance, std::string& error) {
  int fds[2];
  if (pipe(fds) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  auto& file = files_[instance];
  if (!file) file = std::make_shared<LogFile>(log_dir_ / (instance + ".log"), rotation_);
  if (auto problem = file->ensure_open(); !problem.empty()) spdlog::error("log: {}", problem);
  std::make_shared<PipeReader>(io_, fds[0], file)->start();
  return fds[1];
}

}  // namespace nixpm::daemon
