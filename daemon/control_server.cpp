#include "control_server.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <system_error>

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <sys/stat.h>
#include <unistd.h>

#include "daemon/platform.hpp"

namespace nixpm::daemon {
namespace fs = std::filesystem;
using boost::asio::local::stream_protocol;
using protocol::Json;

namespace {

// Replies a client has not read yet; past this the client is cut off rather than buffered without end.
constexpr std::size_t kMaxPendingBytes = 16 * 1024 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream_protocol::socket socket, RequestHandler& handler, bool read_only)
      : socket_(std::move(socket)), handler_(handler) {
    state_.read_only = read_only;
  }

  void start() { read_more(); }

 private:
  void read_more() {
    socket_.async_read_some(boost::asio::buffer(buffer_),
                            [self = shared_from_this()](const boost::system::error_code& error, std::size_t n) {
                              self->on_read(error, n);
                            });
  }

  void on_read(const boost::system::error_code& error, std::size_t size) {
    if (error || closing_) return;  // peer gone; pending replies are dropped with the session
    decoder_.feed(buffer_.data(), size);
    std::string payload;
    for (;;) {
      const auto status = decoder_.next(payload);
      if (status == protocol::FrameDecoder::Status::need_more) break;
      if (status == protocol::FrameDecoder::Status::error) {
        send(protocol::make_error(nullptr, protocol::error::bad_frame,
                                  "frame length must be between 1 and " + std::to_string(protocol::kMaxFrameSize)),
             true);
        return;
      }
      auto request = protocol::parse_message(payload);
      if (!request) {
        send(protocol::make_error(nullptr, protocol::error::bad_json, "the message is not a JSON object"), false);
        continue;
      }
      std::weak_ptr<Session> weak = shared_from_this();
      handler_.handle(state_, *request, [weak](const protocol::Outgoing& reply, bool close) {
        auto self = weak.lock();
        if (!self || self->closing_) return false;
        self->send(reply, close);
        return true;
      });
      if (closing_) return;
    }
    read_more();
  }

  void send(const protocol::Outgoing& reply, bool close_after) {
    if (closing_) return;
    std::string frame;
    try {
      frame = reply.frame();
    } catch (const std::length_error&) {
      frame = protocol::encode_frame(protocol::make_error(reply.id(), protocol::error::failed, "reply too large"));
    }
    pending_bytes_ += frame.size();
    if (pending_bytes_ > kMaxPendingBytes) {
      spdlog::warn("control: closing a client that does not read its replies");
      closing_ = true;
      boost::system::error_code ignored;
      socket_.close(ignored);
      return;
    }
    outbox_.push_back(std::move(frame));
    if (close_after) closing_ = true;
    if (outbox_.size() == 1) write_next();
  }

  void write_next() {
    boost::asio::async_write(socket_, boost::asio::buffer(outbox_.front()),
                             [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
                               self->on_written(error);
                             });
  }

  void on_written(const boost::system::error_code& error) {
    if (error) return;
    pending_bytes_ -= outbox_.front().size();
    outbox_.pop_front();
    if (!outbox_.empty()) {
      write_next();
    } else if (closing_) {
      boost::system::error_code ignored;
      socket_.shutdown(stream_protocol::socket::shutdown_both, ignored);
      socket_.close(ignored);
    }
  }

  stream_protocol::socket socket_;
  RequestHandler& handler_;
  ConnectionState state_;
  protocol::FrameDecoder decoder_;
  std::array<char, 16 * 1024> buffer_{};
  std::deque<std::string> outbox_;
  std::size_t pending_bytes_ = 0;
  bool closing_ = false;
};

bool daemon_answers(const fs::path& socket_path) {
  boost::asio::io_context probe_io;
  stream_protocol::socket probe(probe_io);
  boost::system::error_code error;
  probe.connect(stream_protocol::endpoint(socket_path.string()), error);
  return !error;
}

}  // namespace

ControlServer::ControlServer(boost::asio::io_context& io, RequestHandler& handler)
    : io_(io), handler_(handler), acceptor_(io), own_uid_(getuid()) {}

ControlServer::~ControlServer() { close(); }

void ControlServer::listen(const fs::path& socket_path, bool private_directory, SocketAccess access) {
  access_ = access;
  const auto directory = socket_path.parent_path();
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw std::runtime_error("cannot create " + directory.string() + ": " + error.message());
  if (private_directory && chmod(directory.c_str(), 0700) != 0)
    throw std::runtime_error("cannot make " + directory.string() + " private: " + std::strerror(errno));

  if (fs::exists(fs::symlink_status(socket_path))) {
    if (daemon_answers(socket_path))
      throw std::runtime_error("another nixpmd is already running on " + socket_path.string());
    fs::remove(socket_path, error);  // left behind by a daemon that died
  }
  // The socket is created with no access for others, then opened up to the owner only.
  const mode_t previous = umask(0177);
  boost::system::error_code bind_error;
  acceptor_.open(stream_protocol(), bind_error);
  if (!bind_error) acceptor_.bind(stream_protocol::endpoint(socket_path.string()), bind_error);
  umask(previous);
  if (!bind_error) acceptor_.listen(boost::asio::socket_base::max_listen_connections, bind_error);
  if (bind_error) throw std::runtime_error("cannot listen on " + socket_path.string() + ": " + bind_error.message());
  chmod(socket_path.c_str(), 0600);
  if (access_.group) {
    // Group members need to reach the socket: the directory and the socket become group-accessible.
    if (chown(directory.c_str(), static_cast<uid_t>(-1), *access_.group) != 0 ||
        chown(socket_path.c_str(), static_cast<uid_t>(-1), *access_.group) != 0 || chmod(directory.c_str(), 0750) != 0 ||
        chmod(socket_path.c_str(), 0660) != 0)
      throw std::runtime_error("cannot open " + socket_path.string() + " to its group: " + std::strerror(errno));
  }
  socket_path_ = socket_path;
  accept_next();
}

void ControlServer::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& error, stream_protocol::socket socket) {
    if (error == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!error) {
      const auto peer = platform::peer_credentials(socket.native_handle());
      if (peer && (peer->uid == own_uid_ || peer->uid == 0)) {
        std::make_shared<Session>(std::move(socket), handler_, false)->start();
      } else if (peer && access_.group && platform::user_in_group(peer->uid, peer->gid, *access_.group)) {
        std::make_shared<Session>(std::move(socket), handler_, !access_.group_may_change)->start();
      } else {
        spdlog::warn("control: refused a connection from uid {}", peer ? std::to_string(peer->uid) : "unknown");
      }
    } else {
      spdlog::warn("control: accept failed: {}", error.message());
    }
    accept_next();
  });
}

void ControlServer::close() {
  if (!acceptor_.is_open()) return;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  std::error_code remove_error;
  if (!socket_path_.empty()) fs::remove(socket_path_, remove_error);
}

}  // namespace nixpm::daemon
