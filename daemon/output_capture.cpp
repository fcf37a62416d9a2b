#include "output_capture.hpp"

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include "daemon/log_timestamps.hpp"

namespace nixpm::daemon {
namespace {

// One buffer for every pipe: a reader reads only when its pipe is readable and hands the bytes to
// its log before it returns to the loop, so nothing is kept in the buffer between two wakeups. A
// buffer per pipe (64 KiB each, as it was) made nixpmd's memory grow by 64 KiB per instance.
using SharedBuffer = std::shared_ptr<std::vector<char>>;

// Reads per wakeup before yielding to the rest of the loop: a process that writes without pause must
// not starve the others (and its remaining output is read on the next turn).
constexpr int kReadsPerTurn = 16;

class PipeReader : public std::enable_shared_from_this<PipeReader> {
 public:
  PipeReader(boost::asio::io_context& io, int fd, std::shared_ptr<LogFile> file, bool timestamps, SharedBuffer buffer)
      : pipe_(io, fd), file_(std::move(file)), buffer_(std::move(buffer)) {
    if (timestamps) stamper_.emplace();
    boost::system::error_code ignored;
    pipe_.non_blocking(true, ignored);
  }

  // After EOF, or when nixpmd ends with the stream still open: an unfinished stamped line is kept.
  ~PipeReader() {
    if (stamper_) write(stamper_->finish());
    file_->release();
  }
  PipeReader(const PipeReader&) = delete;
  PipeReader& operator=(const PipeReader&) = delete;

  void start() { wait(); }

 private:
  void wait() {
    pipe_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& error) {
                       if (!error) self->drain();
                     });
  }

  // Reads what is there. The reactor reports a pipe only when new data arrives (edge-triggered), so a
  // wakeup reads until the pipe is empty, or yields after kReadsPerTurn and continues on the next turn.
  // The log file is open only within one wakeup (LogFile::release says why).
  void drain() {
    auto& buffer = *buffer_;
    for (int reads = 0; reads < kReadsPerTurn; ++reads) {
      const ssize_t got = ::read(pipe_.native_handle(), buffer.data(), buffer.size());
      if (got > 0) {
        const std::string_view text(buffer.data(), static_cast<std::size_t>(got));
        write(stamper_ ? std::string_view(stamped_ = stamper_->feed(text)) : text);
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      file_->release();
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait();
      return;  // EOF (every writer is gone) or an error: the descriptor closes with us
    }
    file_->release();
    boost::asio::post(pipe_.get_executor(), [self = shared_from_this()] { self->drain(); });
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
  SharedBuffer buffer_;
  std::optional<LineStamper> stamper_;
  std::string stamped_;  // the stamper's output, kept while it is written
  bool warned_ = false;
};

}  // namespace

OutputCapture::OutputCapture(boost::asio::io_context& io, std::filesystem::path log_dir, LogOptions options)
    : io_(io),
      log_dir_(std::move(log_dir)),
      options_(options),
      read_buffer_(std::make_shared<std::vector<char>>(kReadBufferSize)) {}

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
  if (auto problem = file->ensure_exists(); !problem.empty()) spdlog::error("log: {}", problem);
  std::make_shared<PipeReader>(io_, fds[0], file, options_.timestamps, read_buffer_)->start();
  return fds[1];
}

}  // namespace nixpm::daemon
