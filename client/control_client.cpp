#include "client/control_client.hpp"

#include <array>
#include <cerrno>
#include <cstdio>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include <nixpm/version.hpp>

#include "common/exit_codes.hpp"

namespace nixpm::client {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using boost::system::error_code;
using protocol::Json;
using Clock = std::chrono::steady_clock;

DaemonUnreachable::DaemonUnreachable(const std::string& message) : ClientError(message, exit_code::unreachable) {}
ConnectionError::ConnectionError(const std::string& message) : ClientError(message, exit_code::failed) {}
ClientTimeout::ClientTimeout(const std::string& message) : ClientError(message, exit_code::failed) {}

namespace {

std::string string_member(const Json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string describe_error(const Json& error) {
  std::string message = string_member(error, "message");
  if (!message.empty()) return message;
  std::string code = string_member(error, "code");
  return code.empty() ? "nixpmd reported an error without a code" : code;
}

// "60s", "2.5s": a duration the way a user would have typed it in --timeout.
std::string seconds_text(ControlClient::Duration d) {
  char text[32];
  const auto ms = d.count();
  if (ms % 1000 == 0)
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(ms / 1000));
  else
    std::snprintf(text, sizeof text, "%.3gs", static_cast<double>(ms) / 1000.0);
  return text;
}

std::string unreachable_message(const std::filesystem::path& path, const error_code& ec) {
  std::string message = "cannot connect to nixpmd at " + path.string() + ": " + ec.message();
  switch (ec.value()) {
    case EACCES:
    case EPERM:
      return message + " (only the daemon's own user and root may use its socket)";
    case ECONNREFUSED:
      return message + " (a stale socket: nixpmd is not running; start it with `nixpmd`)";
    default:
      return message + " (is nixpmd running? start it with `nixpmd`, or pass --socket / set NIXPM_SOCKET)";
  }
}

}  // namespace

ErrorReply::ErrorReply(const Json& error)
    : ClientError(describe_error(error), exit_code_for_error(string_member(error, "code"))),
      code_(string_member(error, "code")),
      message_(describe_error(error)),
      instances_(Json::array()) {
  if (error.is_object()) {
    auto it = error.find("instances");
    if (it != error.end() && it->is_array()) instances_ = *it;
  }
}

int exit_code_for_error(std::string_view code) {
  if (code == protocol::error::unknown_instance || code == protocol::error::bad_request ||
      code == protocol::error::invalid_definitions)
    return exit_code::usage;
  return exit_code::failed;
}

struct ControlClient::Impl {
  asio::io_context io;
  local::socket socket{io};
  protocol::FrameDecoder decoder;

  // Runs the pending operation until it sets `done` or the deadline passes. On a timeout the socket is
  // closed (the operation completes with operation_aborted) and false is returned.
  bool run_until(const bool& done, Clock::time_point deadline) {
    io.restart();
    while (!done) {
      if (io.run_one_until(deadline) == 0) break;
    }
    if (done) return true;
    close();
    io.restart();
    io.run();
    return false;
  }

  void close() {
    error_code ignored;
    socket.shutdown(local::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
};

ControlClient::ControlClient(std::filesystem::path socket_path)
    : socket_path_(std::move(socket_path)), impl_(std::make_unique<Impl>()) {}

ControlClient::~ControlClient() = default;

const Json& ControlClient::connect(Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  local::endpoint endpoint;
  try {
    endpoint = local::endpoint(socket_path_.string());
  } catch (const boost::system::system_error& e) {
    throw DaemonUnreachable("cannot connect to nixpmd at " + socket_path_.string() + ": " + e.code().message());
  }

  bool done = false;
  error_code result;
  impl_->socket.async_connect(endpoint, [&](const error_code& ec) {
    result = ec;
    done = true;
  });
  if (!impl_->run_until(done, deadline))
    throw DaemonUnreachable("cannot connect to nixpmd at " + socket_path_.string() + ": no answer within " +
                            seconds_text(timeout));
  if (result) {
    impl_->close();
    throw DaemonUnreachable(unreachable_message(socket_path_, result));
  }

  Json hello = protocol::make_request(
      0, protocol::op::hello,
      Json{{"protocol", protocol::kVersion}, {"client", std::string("nixpmctl ") + kVersionString}});
  hello_ = exchange(hello, deadline, timeout).result;
  return hello_;
}

Reply ControlClient::request(Json request, Duration timeout) {
  if (hello_.is_null()) throw ConnectionError("not connected to nixpmd");
  request["id"] = next_id_++;
  return exchange(request, Clock::now() + timeout, timeout);
}

std::string ControlClient::read_frame(Clock::time_point deadline, const std::string& timeout_message) {
  Impl& io = *impl_;
  std::string payload;
  std::array<char, 16 * 1024> buffer{};
  for (;;) {
    const auto status = io.decoder.next(payload);
    if (status == protocol::FrameDecoder::Status::frame) return payload;
    if (status == protocol::FrameDecoder::Status::error) {
      io.close();
      throw ConnectionError("nixpmd sent a malformed frame");
    }
    bool done = false;
    error_code read_error;
    std::size_t received = 0;
    io.socket.async_read_some(asio::buffer(buffer), [&](const error_code& ec, std::size_t n) {
      read_error = ec;
      received = n;
      done = true;
    });
    if (!io.run_until(done, deadline)) throw ClientTimeout(timeout_message);
    if (read_error) {
      io.close();
      if (read_error == asio::error::eof || read_error == asio::error::connection_reset)
        throw ConnectionError(io.decoder.buffered() > 0 ? "nixpmd closed the connection in the middle of a reply"
                                                        : "nixpmd closed the connection without replying");
      throw ConnectionError("reading from nixpmd: " + read_error.message());
    }
    io.decoder.feed(buffer.data(), received);
  }
}

Json ControlClient::next_event(Duration timeout) {
  if (!impl_->socket.is_open()) throw ConnectionError("the connection to nixpmd is closed");
  auto event = protocol::parse_message(read_frame(Clock::now() + timeout, "no event within " + seconds_text(timeout)));
  if (!event) {
    impl_->close();
    throw ConnectionError("nixpmd sent an event that is not a JSON object");
  }
  return *event;
}

Reply ControlClient::exchange(const Json& message, Clock::time_point deadline, Duration timeout) {
  Impl& io = *impl_;
  if (!io.socket.is_open()) throw ConnectionError("the connection to nixpmd is closed");
  const std::string timeout_message = "no reply from nixpmd within " + seconds_text(timeout);

  const std::string frame = protocol::encode_frame(message);
  bool done = false;
  error_code write_error;
  asio::async_write(io.socket, asio::buffer(frame), [&](const error_code& ec, std::size_t) {
    write_error = ec;
    done = true;
  });
  if (!io.run_until(done, deadline)) throw ClientTimeout(timeout_message);
  if (write_error) {
    io.close();
    throw ConnectionError("sending to nixpmd: " + write_error.message());
  }

  std::string payload = read_frame(deadline, timeout_message);
  auto reply = protocol::parse_message(payload);
  if (!reply) {
    io.close();
    throw ConnectionError("nixpmd sent a reply that is not a JSON object");
  }
  auto ok = reply->find("ok");
  if (ok == reply->end() || !ok->is_boolean()) {
    io.close();
    throw ConnectionError("nixpmd sent a reply without \"ok\"");
  }
  const Json id = reply->value("id", Json());
  // Errors about a request the daemon could not read (bad-frame, bad-json) carry a null id.
  if (id != message["id"] && !(id.is_null() && !ok->get<bool>())) {
    io.close();
    throw ConnectionError("nixpmd answered request " + id.dump() + " while " + message["id"].dump() + " was asked");
  }
  if (!ok->get<bool>()) throw ErrorReply(reply->value("error", Json::object()));

  Reply result;
  // Moved out, not copied: at N=1000 a status result is some 14,000 JSON values.
  if (auto member = reply->find("result"); member != reply->end()) result.result = std::move(*member);
  else result.result = Json::object();
  if (!result.result.is_object()) {
    io.close();
    throw ConnectionError("nixpmd sent a result that is not an object");
  }
  result.payload = std::move(payload);
  return result;
}

}  // namespace nixpm::client
