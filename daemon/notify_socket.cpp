#include "notify_socket.hpp"

#include <array>
#include <system_error>

#include <boost/asio/local/datagram_protocol.hpp>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

namespace nixpm::daemon {

bool notify_message_says_ready(std::string_view datagram) {
  while (!datagram.empty()) {
    const auto end = datagram.find('\n');
    const auto line = datagram.substr(0, end);
    if (line == "READY=1") return true;
    if (end == std::string_view::npos) break;
    datagram.remove_prefix(end + 1);
  }
  return false;
}

struct NotifySocket::State {
  explicit State(boost::asio::io_context& io) : socket(io) {}
  boost::asio::local::datagram_protocol::socket socket;
  std::array<char, 4096> buffer{};
  bool ready_seen = false;
  Ready on_ready;
  bool closed = false;
};

NotifySocket::NotifySocket(boost::asio::io_context& io, std::filesystem::path path)
    : path_(std::move(path)), state_(std::make_shared<State>(io)) {}

NotifySocket::~NotifySocket() {
  state_->closed = true;
  state_->on_ready = nullptr;
  boost::system::error_code ignored;
  state_->socket.close(ignored);
  std::error_code ignored_remove;
  std::filesystem::remove(path_, ignored_remove);
}

std::string NotifySocket::open() {
  boost::system::error_code error;
  if (path_.string().size() >= 100) return "notify socket path too long: " + path_.string();
  std::error_code fs_error;
  std::filesystem::create_directories(path_.parent_path(), fs_error);
  std::filesystem::remove(path_, fs_error);
  state_->socket.open(boost::asio::local::datagram_protocol(), error);
  if (!error) state_->socket.bind(boost::asio::local::datagram_protocol::endpoint(path_.string()), error);
  if (error) return "notify socket " + path_.string() + ": " + error.message();
  // The instance may run as another user (a root daemon with `user`): it must be able to send.
  chmod(path_.c_str(), 0666);
  auto state = state_;
  struct Receiver {
    static void next(const std::shared_ptr<State>& s) {
      s->socket.async_receive(boost::asio::buffer(s->buffer), [s](const boost::system::error_code& e, std::size_t n) {
        if (e || s->closed) return;
        std::string_view datagram(s->buffer.data(), n);
        if (notify_message_says_ready(datagram) && !s->ready_seen) {
          s->ready_seen = true;
          if (s->on_ready) {
            auto ready = std::move(s->on_ready);
            s->on_ready = nullptr;
            ready();
          }
        }
        if (auto status = datagram.find("STATUS="); status != std::string_view::npos)
          spdlog::debug("notify: {}", datagram.substr(status + 7, datagram.find('\n', status) - status - 7));
        if (!s->closed) next(s);
      });
    }
  };
  Receiver::next(state);
  return {};
}

bool NotifySocket::ready_seen() const { return state_->ready_seen; }

void NotifySocket::when_ready(Ready ready) {
  if (state_->ready_seen) {
    ready();
    return;
  }
  state_->on_ready = std::move(ready);
}

}  // namespace nixpm::daemon
