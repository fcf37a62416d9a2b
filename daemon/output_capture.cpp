#include "output_capture.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include "daemon/log_timestamps.hpp"

namespace nixpm::daemon {
namespace {

class PipeReader : public std::enable_shared_from_this<PipeReader> {
 public:
  PipeReader(boost::asio::io_context& io, int fd, std::shared_ptr<LogFile> file, bool timestamps)
      : pipe_(io, fd), file_(std::move(file)) {
    if (timestamps) stamper_.emplace();
  }

  // After EOF, or when nixpmd ends with the stream still open: an unfinished stamped line is kept.
  ~PipeReader() {
    if (stamper_) write(stamper_->finish());
  }
  PipeReader(const PipeReader&) = delete;
  PipeReader& operator=(const PipeReader&) = delete;

  void start() { read_more(); }

 private:
  void read_more() {
    pipe_.async_read_some(boost::asio::buffer(buffer_),
                          [self = shared_from_this()](const boost::system::error_code& error, std::size_t size) {
                            if (error) return;  // EOF: every writer is gone; the descriptor closes with us
                            if (self->stamper_)
                              self->write(self->stamper_->feed({self->buffer_.data(), size}));
                            else
                              self->write({self->buffer_.data(), size});
                            self->read_more();
                          });
  }

  void write(std::string_view text) {
    if (text.empty()) return;
    if (auto problem = file_->append(text.data(), text.size()); !problem.empty() && !warned_) {
      spdlog::error("log: {}", problem);
      warned_ = true;
    }
  }

  boost::asio::posix::stream_descriptor pipe_;
  std::shared_ptr<LogFile> file_;
  std::optional<LineStamper> stamper_;
  std::array<char, 64 * 1024> buffer_{};
  bool warned_ = false;
};

}  // namespace

OutputCapture::OutputCapture(boost::asio::io_context& io, std::filesystem::path log_dir, LogOptions options)
    : io_(io), log_dir_(std::move(log_dir)), options_(options) {}

int OutputCapture::open_output(const std::string& instance, std::string& error) {
  int fds[2];
  if (pipe(fds) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  auto& file = files_[instance];
  if (!file) file = std::make_shared<LogFile>(log_dir_ / (instance + ".log"), options_.rotation);
  if (auto problem = file->ensure_open(); !problem.empty()) spdlog::error("log: {}", problem);
  std::make_shared<PipeReader>(io_, fds[0], file, options_.timestamps)->start();
  return fds[1];
}

}  // namespace nixpm::daemon
