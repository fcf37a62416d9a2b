#pragma once
// A synchronous client for nixpmd's control socket (docs/protocol.md).
//
// One ControlClient is one connection: connect() dials the socket and performs the hello handshake,
// then request() sends one request at a time and waits for its reply. Every call has a deadline; when
// it passes, the connection is closed and ClientTimeout is thrown.
//
// Failures are reported as exceptions derived from ClientError, each of which knows the exit status
// nixpmctl should end with (common/exit_codes.hpp):
//   DaemonUnreachable  the socket cannot be connected to (missing, refused, no permission)  -> 3
//   ErrorReply         the daemon answered {"ok": false, "error": {...}}                      -> 1 or 2
//   ConnectionError    the connection broke, or the daemon sent something that is not a reply -> 1
//   ClientTimeout      no reply before the deadline                                         -> 1

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/protocol.hpp"

namespace nixpm::client {

class ClientError : public std::runtime_error {
 public:
  ClientError(const std::string& message, int exit_code) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

class DaemonUnreachable : public ClientError {
 public:
  explicit DaemonUnreachable(const std::string& message);
};

class ConnectionError : public ClientError {
 public:
  explicit ConnectionError(const std::string& message);
};

class ClientTimeout : public ClientError {
 public:
  explicit ClientTimeout(const std::string& message);
};

class ErrorReply : public ClientError {
 public:
  // `error` is the reply's "error" member: {"code", "message", optionally "instances"}.
  explicit ErrorReply(const protocol::Json& error);

  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  // The optional "instances" member (status entries of the instances concerned); an empty array if absent.
  const protocol::Json& instances() const { return instances_; }

 private:
  std::string code_;
  std::string message_;
  protocol::Json instances_;
};

// The exit status for an error code: 2 for requests the user got wrong, 1 for everything else.
int exit_code_for_error(std::string_view code);

// A successful reply.
struct Reply {
  protocol::Json result;  // the "result" member (an object)
  std::string payload;    // the whole reply as received, for output that keeps the daemon's key order
};

class ControlClient {
 public:
  using Duration = std::chrono::milliseconds;

  explicit ControlClient(std::filesystem::path socket_path);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Connects and says hello, all within `timeout`. Returns the hello result ({"protocol", "daemon", ...}).
  const protocol::Json& connect(Duration timeout);

  // Sends `request` (an object with at least "op"; the id is assigned here) and waits up to `timeout`
  // for the reply. Throws ErrorReply for an error reply.
  Reply request(protocol::Json request, Duration timeout);

  // Waits up to `timeout` for the next unsolicited message (an event after "subscribe").
  protocol::Json next_event(Duration timeout);

  const std::filesystem::path& socket_path() const { return socket_path_; }

 private:
  struct Impl;
  std::string read_frame(std::chrono::steady_clock::time_point deadline, const std::string& timeout_message);
  Reply exchange(const protocol::Json& message, std::chrono::steady_clock::time_point deadline, Duration timeout);

  std::filesystem::path socket_path_;
  std::unique_ptr<Impl> impl_;
  protocol::Json hello_;
  std::uint64_t next_id_ = 1;
};

}  // namespace nixpm::client
