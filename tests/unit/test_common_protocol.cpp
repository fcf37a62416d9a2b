// Framing and message helpers of the control protocol: every error path of the decoder.

#include <catch2/catch.hpp>

#include "common/protocol.hpp"

using namespace nixpm::protocol;
using Status = FrameDecoder::Status;

TEST_CASE("a frame round-trips through the decoder", "[protocol]") {
  const Json message = make_request(7, op::status, {{"names", {"a", "b"}}});
  const auto frame = encode_frame(message);
  REQUIRE(frame.size() > kHeaderSize);
  CHECK(static_cast<unsigned char>(frame[0]) == 0);
  FrameDecoder decoder;
  decoder.feed(frame.data(), frame.size());
  std::string payload;
  REQUIRE(decoder.next(payload) == Status::frame);
  auto parsed = parse_message(payload);
  REQUIRE(parsed);
  CHECK((*parsed)["id"] == 7);
  CHECK((*parsed)["op"] == "status");
  CHECK((*parsed)["names"] == Json({"a", "b"}));
  CHECK(decoder.next(payload) == Status::need_more);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("frames arriving byte by byte and several per read are reassembled", "[protocol]") {
  const auto stream = encode_frame(make_request(1, op::list)) + encode_frame(make_request(2, op::shutdown));
  FrameDecoder decoder;
  std::vector<std::string> payloads;
  std::string payload;
  for (char byte : stream) {
    decoder.feed(&byte, 1);
    while (decoder.next(payload) == Status::frame) payloads.push_back(payload);
  }
  REQUIRE(payloads.size() == 2);
  CHECK((*parse_message(payloads[1]))["op"] == "shutdown");

  FrameDecoder at_once;
  at_once.feed(stream.data(), stream.size());
  CHECK(at_once.next(payload) == Status::frame);
  CHECK(at_once.next(payload) == Status::frame);
  CHECK(at_once.next(payload) == Status::need_more);
}

TEST_CASE("a zero or oversized length breaks the stream for good", "[protocol]") {
  std::string payload;
  SECTION("zero") {
    FrameDecoder decoder;
    const char zero[4] = {0, 0, 0, 0};
    decoder.feed(zero, 4);
    CHECK(decoder.next(payload) == Status::error);
  }
  SECTION("over the limit") {
    FrameDecoder decoder;
    const std::uint32_t n = kMaxFrameSize + 1;
    const char header[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                            static_cast<char>(n)};
    decoder.feed(header, 4);
    CHECK(decoder.next(payload) == Status::error);
    const auto good = encode_frame(make_request(1, op::list));
    decoder.feed(good.data(), good.size());
    CHECK(decoder.next(payload) == Status::error);
  }
}

TEST_CASE("a truncated frame waits for the rest", "[protocol]") {
  const auto frame = encode_frame(make_request(3, op::list));
  FrameDecoder decoder;
  std::string payload;
  decoder.feed(frame.data(), 2);
  CHECK(decoder.next(payload) == Status::need_more);
  decoder.feed(frame.data() + 2, frame.size() - 3);
  CHECK(decoder.next(payload) == Status::need_more);
  decoder.feed(frame.data() + frame.size() - 1, 1);
  CHECK(decoder.next(payload) == Status::frame);
}

TEST_CASE("only JSON objects are messages", "[protocol]") {
  CHECK_FALSE(parse_message("not json"));
  CHECK_FALSE(parse_message("[1,2]"));
  CHECK_FALSE(parse_message("\"text\""));
  CHECK_FALSE(parse_message("{\"truncated\":"));
  CHECK(parse_message("{}"));
}

TEST_CASE("replies carry the id, ok and a result or a coded error", "[protocol]") {
  const auto ok = make_ok(5, {{"x", 1}});
  CHECK(ok["id"] == 5);
  CHECK(ok["ok"] == true);
  CHECK(ok["result"]["x"] == 1);
  const auto bad = make_error(nullptr, error::bad_json, "nope");
  CHECK(bad["id"].is_null());
  CHECK(bad["ok"] == false);
  CHECK(bad["error"]["code"] == "bad-json");
  CHECK(bad["error"]["message"] == "nope");
}

TEST_CASE("a message too large to frame is refused when encoding", "[protocol]") {
  Json huge = {{"blob", std::string(kMaxFrameSize, 'x')}};
  CHECK_THROWS_AS(encode_frame(huge), std::length_error);
}

TEST_CASE("an ok reply with its result given as text frames as make_ok would", "[protocol]") {
  const Json result = {{"instances", Json::array({{{"name", "a"}, {"pid", 7}}, {{"name", "b"}, {"pid", nullptr}}})}};
  const auto outgoing = Outgoing::ok_with_result_text(Json(42), result.dump());
  CHECK(outgoing.frame() == encode_frame(make_ok(Json(42), result)));
  CHECK(outgoing.id() == 42);
  CHECK(Json::parse(outgoing.frame().substr(kHeaderSize)) == make_ok(Json(42), result));
}

TEST_CASE("any other message goes out as JSON, and its id is found for an error reply", "[protocol]") {
  const Outgoing reply = make_error(Json(5), "failed", "no");
  CHECK(reply.frame() == encode_frame(make_error(Json(5), "failed", "no")));
  CHECK(reply.id() == 5);
  const Outgoing event = Json{{"event", "state"}};
  CHECK(event.id().is_null());
  const Outgoing huge = Outgoing::ok_with_result_text(Json(1), "\"" + std::string(kMaxFrameSize, 'x') + "\"");
  CHECK_THROWS_AS(huge.frame(), std::length_error);
}
