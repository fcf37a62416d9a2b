#pragma once
// The Unix-socket transport of the control protocol. Each connection is a Session: it reads frames,
// hands whole requests to a RequestHandler (the CommandHandler, or the
// ManagerFrontHandler of nixpmd --manager), and writes replies from a queue with exactly one
// async_write in flight. A client that sends garbage gets an error and is closed; a client that does
// not read its replies is closed once its queue passes a bound. No client can stall the others.

#include <filesystem>
#include <memory>
#include <optional>

#include <sys/types.h>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "daemon/command_handler.hpp"
#include "daemon/request_handler.hpp"

namespace nixpm::daemon {

// Who besides the daemon's own user and root may use the socket.
struct SocketAccess {
  std::optional<gid_t> group;  // members of this group may connect
  bool group_may_change = false;  // false: read-only (status, list, logs, watch)
};

class ControlServer {
 public:
  ControlServer(boost::asio::io_context& io, RequestHandler& handler);
  ~ControlServer();

  // Creates the socket (and its directory, mode 0700) and starts accepting. A stale socket left by a
  // dead daemon is replaced; a live one is an error. Throws std::runtime_error with a clear message.
  void listen(const std::filesystem::path& socket_path, bool private_directory, SocketAccess access = {});
  // Stops accepting and removes the socket file. Open sessions finish what they are writing.
  void close();

 private:
  void accept_next();

  boost::asio::io_context& io_;
  RequestHandler& handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::filesystem::path socket_path_;
  uid_t own_uid_;
  SocketAccess access_;
};

}  // namespace nixpm::daemon
