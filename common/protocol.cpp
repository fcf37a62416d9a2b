#include "protocol.hpp"

#include <stdexcept>

namespace nixpm::protocol {

namespace {

std::string frame_of(const std::string& payload) {
  if (payload.empty() || payload.size() > kMaxFrameSize)
    throw std::length_error("protocol message of " + std::to_string(payload.size()) + " bytes exceeds the limit");
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string frame;
  frame.reserve(kHeaderSize + payload.size());
  frame.push_back(static_cast<char>((n >> 24) & 0xff));
  frame.push_back(static_cast<char>((n >> 16) & 0xff));
  frame.push_back(static_cast<char>((n >> 8) & 0xff));
  frame.push_back(static_cast<char>(n & 0xff));
  frame += payload;
  return frame;
}

std::string text_of(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

std::string encode_frame(const Json& message) { return frame_of(text_of(message)); }

Outgoing Outgoing::ok_with_result_text(const Json& id, std::string result_json) {
  Outgoing outgoing{id};
  outgoing.result_json_ = std::move(result_json);
  return outgoing;
}

std::string Outgoing::frame() const {
  if (!result_json_) return encode_frame(message_);
  // Members in make_ok's order (protocol::Json sorts them): id, ok, result.
  return frame_of("{\"id\":" + text_of(message_) + ",\"ok\":true,\"result\":" + *result_json_ + "}");
}

Json Outgoing::id() const {
  if (result_json_) return message_;
  return message_.is_object() ? message_.value("id", Json(nullptr)) : Json(nullptr);
}

void FrameDecoder::feed(const char* data, std::size_t size) {
  if (broken_) return;
  // Drop what was already handed out before growing, so a long-lived connection does not accumulate.
  if (consumed_ > 0 && consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 64 * 1024) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(data, size);
}

FrameDecoder::Status FrameDecoder::next(std::string& payload) {
  if (broken_) return Status::error;
  if (buffered() < kHeaderSize) return Status::need_more;
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  const std::uint32_t n = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                          (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  if (n == 0 || n > kMaxFrameSize) {
    broken_ = true;
    return Status::error;
  }
  if (buffered() < kHeaderSize + n) return Status::need_more;
  payload.assign(buffer_, consumed_ + kHeaderSize, n);
  consumed_ += kHeaderSize + n;
  return Status::frame;
}

std::optional<Json> parse_message(std::string_view payload) {
  Json message = Json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || !message.is_object()) return std::nullopt;
  return message;
}

Json make_request(std::uint64_t id, std::string_view op, Json members) {
  if (!members.is_object()) members = Json::object();
  members["id"] = id;
  members["op"] = std::string(op);
  return members;
}

Json make_ok(const Json& id, Json result) {
  return Json{{"id", id}, {"ok", true}, {"result", std::move(result)}};
}

Json make_error(const Json& id, std::string_view code, std::string_view message) {
  return Json{{"id", id},
              {"ok", false},
              {"error", {{"code", std::string(code)}, {"message", std::string(message)}}}};
}

}  // namespace nixpm::protocol
