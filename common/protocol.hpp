#pragma once
// The control protocol between nixpmctl and nixpmd, in one place (docs/protocol.md describes it for
// people). Messages are JSON objects in length-prefixed frames on a Unix stream socket.
//
// Version history:
//   1 — hello handshake; status, list, start, stop, restart, shutdown, reload, signal, logs, subscribe
//       (with unsolicited {"event": ...} messages after subscribe).
//
// Frame: a 4-byte big-endian length N (1 <= N <= kMaxFrameSize) followed by N bytes of UTF-8 JSON.
// Request: {"id": <unsigned>, "op": "<op>", ...op-specific members}
// Reply:   {"id": <same id>, "ok": true, "result": {...}}
//       or {"id": <same id or null>, "ok": false, "error": {"code": "<code>", "message": "<text>"}}
// The first request on a connection must be {"op": "hello", "protocol": <version>}.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nixpm::protocol {

using Json = nlohmann::json;

inline constexpr int kVersion = 1;
// Large enough for the status of tens of thousands of instances, small enough that a hostile client
// cannot make the daemon allocate without bound.
inline constexpr std::size_t kMaxFrameSize = 4 * 1024 * 1024;
inline constexpr std::size_t kHeaderSize = 4;

// Operation names. Never reuse a name for a different meaning; add new ones with a version bump.
namespace op {
inline constexpr std::string_view hello = "hello";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view list = "list";
inline constexpr std::string_view start = "start";
inline constexpr std::string_view stop = "stop";
inline constexpr std::string_view restart = "restart";
inline constexpr std::string_view shutdown = "shutdown";
inline constexpr std::string_view reload = "reload";
inline constexpr std::string_view signal = "signal";
inline constexpr std::string_view logs = "logs";
inline constexpr std::string_view subscribe = "subscribe";
}  // namespace op

// Error codes carried in error replies.
namespace error {
inline constexpr std::string_view bad_frame = "bad-frame";              // length 0 or above the limit
inline constexpr std::string_view bad_json = "bad-json";                // not JSON, or not an object
inline constexpr std::string_view bad_request = "bad-request";          // missing or mistyped members
inline constexpr std::string_view unknown_op = "unknown-op";
inline constexpr std::string_view handshake_required = "handshake-required";
inline constexpr std::string_view unsupported_version = "unsupported-version";
inline constexpr std::string_view unknown_instance = "unknown-instance";
inline constexpr std::string_view failed = "failed";                    // the operation ran and failed
inline constexpr std::string_view timeout = "timeout";
inline constexpr std::string_view shutting_down = "shutting-down";
inline constexpr std::string_view invalid_definitions = "invalid-definitions";  // reload refused
inline constexpr std::string_view busy = "busy";  // a reload is still in progress
inline constexpr std::string_view permission_denied = "permission-denied";  // a read-only connection
}  // namespace error

// Serialises one message into a frame. Throws std::length_error when it would exceed kMaxFrameSize.
std::string encode_frame(const Json& message);

// A message on its way out of the daemon: any JSON message, or an ok reply whose result is JSON text
// written without building a DOM first (a status of N instances: the DOM cost more than the rest of
// the reply). Converts from Json implicitly, so every other reply is written as before.
class Outgoing {
 public:
  Outgoing(Json message) : message_(std::move(message)) {}  // NOLINT(google-explicit-constructor)
  // {"id": id, "ok": true, "result": <result_json>}, byte for byte what make_ok would give.
  static Outgoing ok_with_result_text(const Json& id, std::string result_json);

  // The frame on the wire. Throws std::length_error when it would exceed kMaxFrameSize.
  std::string frame() const;
  // The request id the message answers (null for events and unreadable requests).
  Json id() const;

 private:
  Json message_;  // the whole message, or only the id when result_json_ holds the result
  std::optional<std::string> result_json_;
};

// Reassembles frames from a byte stream that arrives in arbitrary pieces.
class FrameDecoder {
 public:
  enum class Status { need_more, frame, error };

  void feed(const char* data, std::size_t size);
  // Takes the next complete frame's payload into `payload`. After `error`, the stream is unusable.
  Status next(std::string& payload);
  // Bytes received but not yet returned as frames.
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
  bool broken_ = false;
};

// Parses a payload into a JSON object; nullopt when it is not valid JSON or not an object.
std::optional<Json> parse_message(std::string_view payload);

Json make_request(std::uint64_t id, std::string_view op, Json members = Json::object());
Json make_ok(const Json& id, Json result = Json::object());
Json make_error(const Json& id, std::string_view code, std::string_view message);

}  // namespace nixpm::protocol
