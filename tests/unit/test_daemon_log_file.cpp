// Size-based rotation of instance logs, on real files in a temporary directory, and the optional
// line timestamps.

#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <unistd.h>

#include "daemon/log_file.hpp"
#include "daemon/log_timestamps.hpp"

namespace fs = std::filesystem;
using nixpm::daemon::LogFile;
using nixpm::daemon::LineStamper;
using nixpm::daemon::LogRotation;

namespace {
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("nixpm-logfile-" + std::to_string(getpid()) + "-" +
                                                std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};
std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

TEST_CASE("appends across reopenings", "[logfile]") {
  TempDir dir;
  {
    LogFile log(dir.path / "a.log", {});
    CHECK(log.append("one\n", 4).empty());
  }
  LogFile again(dir.path / "a.log", {});
  CHECK(again.append("two\n", 4).empty());
  CHECK(read(dir.path / "a.log") == "one\ntwo\n");
}

TEST_CASE("rotates by size and keeps the configured number of files", "[logfile]") {
  TempDir dir;
  LogFile log(dir.path / "a.log", LogRotation{10, 2});
  for (const char* chunk : {"11111111\n", "22222222\n", "33333333\n", "44444444\n"}) CHECK(log.append(chunk, 9).empty());
  CHECK(read(dir.path / "a.log") == "44444444\n");
  CHECK(read(dir.path / "a.log.1") == "33333333\n");
  CHECK(read(dir.path / "a.log.2") == "22222222\n");
  CHECK_FALSE(fs::exists(dir.path / "a.log.3"));
}

TEST_CASE("keep 0 truncates instead of rotating", "[logfile]") {
  TempDir dir;
  LogFile log(dir.path / "a.log", LogRotation{10, 0});
  log.append("11111111\n", 9);
  log.append("22222222\n", 9);
  CHECK(read(dir.path / "a.log") == "22222222\n");
  CHECK_FALSE(fs::exists(dir.path / "a.log.1"));
}

TEST_CASE("a write that does not fit is cut after its last line that fits", "[logfile]") {
  TempDir dir;
  LogFile log(dir.path / "a.log", LogRotation{10, 3});
  CHECK(log.append("aaaa\n", 5).empty());
  CHECK(log.append("bbbb\ncccc\ndddd\n", 15).empty());
  CHECK(read(dir.path / "a.log.1") == "aaaa\nbbbb\n");
  CHECK(read(dir.path / "a.log") == "cccc\ndddd\n");
}

TEST_CASE("no file grows past the limit, even with one huge write without newlines", "[logfile]") {
  TempDir dir;
  LogFile log(dir.path / "a.log", LogRotation{4, 1});
  const std::string big(10, 'x');
  CHECK(log.append(big.data(), big.size()).empty());
  // 10 bytes through 4-byte files: xxxx, xxxx (dropped with the oldest rotation), xx.
  CHECK(read(dir.path / "a.log") == "xx");
  CHECK(read(dir.path / "a.log.1") == "xxxx");
  CHECK_FALSE(fs::exists(dir.path / "a.log.2"));
}

TEST_CASE("a crash loop's output stays within keep + 1 files of at most max_bytes", "[logfile]") {
  TempDir dir;
  const LogRotation rotation{1024, 2};
  // Each "run" reopens the log as a restart does and writes a burst of lines of varying length.
  for (int run = 0; run < 50; ++run) {
    LogFile log(dir.path / "a.log", rotation);
    for (int line = 0; line < 40; ++line) {
      const std::string text = "run " + std::to_string(run) + " line " + std::to_string(line) +
                               std::string(static_cast<std::size_t>(line % 7) * 9, '.') + "\n";
      REQUIRE(log.append(text.data(), text.size()).empty());
    }
  }
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    ++files;
    CHECK(fs::file_size(entry.path()) <= rotation.max_bytes);
    // Cuts happen between lines: every file ends with a complete line.
    CHECK(read(entry.path()).back() == '\n');
  }
  CHECK(files == 3);
  CHECK(read(dir.path / "a.log").find("run 49 line 39") != std::string::npos);
}

TEST_CASE("an unwritable place is reported, not thrown", "[logfile]") {
  LogFile log("/nonexistent-dir/a.log", {});
  CHECK(log.append("x", 1).find("open /nonexistent-dir/a.log") == 0);
}

namespace {
// A clock that counts, so that each stamp tells which call made it.
struct CountingClock {
  int calls = 0;
  std::string operator()() { return "T" + std::to_string(++calls); }
};
}  // namespace

TEST_CASE("timestamps: each line is stamped once, when its first byte arrives", "[logtimestamps]") {
  auto clock = std::make_shared<CountingClock>();
  LineStamper stamper([clock] { return (*clock)(); });
  CHECK(stamper.feed("one\ntwo\n") == "T1 one\nT2 two\n");
  // A line split across reads is held back until its newline, and keeps the time it started.
  CHECK(stamper.feed("thr").empty());
  CHECK(stamper.feed("ee").empty());
  CHECK(stamper.feed("\nfour\nfi") == "T3 three\nT4 four\n");
  CHECK(stamper.feed("ve\n") == "T5 five\n");
  CHECK(stamper.feed("\n") == "T6 \n");  // an empty line is still a line
  CHECK(stamper.finish().empty());
}

TEST_CASE("timestamps: an unfinished line is kept at the end of the stream", "[logtimestamps]") {
  LineStamper stamper([] { return std::string("T"); });
  CHECK(stamper.feed("last words").empty());
  CHECK(stamper.finish() == "T last words\n");
  CHECK(stamper.finish().empty());
}

TEST_CASE("timestamps: a line without end is passed on in bounded pieces", "[logtimestamps]") {
  LineStamper stamper([] { return std::string("T"); });
  const std::string chunk(4096, 'x');
  std::string out;
  std::size_t fed = 0;
  while (fed < 3 * LineStamper::kMaxLine) {
    out += stamper.feed(chunk);
    fed += chunk.size();
  }
  out += stamper.finish();
  std::size_t pieces = 0;
  std::size_t payload = 0;
  std::size_t begin = 0;
  while (begin < out.size()) {
    const auto end = out.find('\n', begin);
    REQUIRE(end != std::string::npos);
    const std::string piece = out.substr(begin, end - begin);
    CHECK(piece.rfind("T ", 0) == 0);
    CHECK(piece.size() <= LineStamper::kMaxLine + chunk.size());
    payload += piece.size() - 2;
    ++pieces;
    begin = end + 1;
  }
  CHECK(payload == fed);  // nothing lost
  CHECK(pieces >= 3);
}

TEST_CASE("timestamps: the real clock writes ISO 8601 UTC with milliseconds", "[logtimestamps]") {
  const std::string stamp = nixpm::daemon::utc_timestamp();
  REQUIRE(stamp.size() == 24);  // 2024-05-01T12:00:00.123Z
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u, 11u, 12u, 14u, 15u, 17u, 18u, 20u, 21u, 22u})
    CHECK(std::isdigit(static_cast<unsigned char>(stamp[i])));
  CHECK(stamp[4] == '-');
  CHECK(stamp[7] == '-');
  CHECK(stamp[10] == 'T');
  CHECK(stamp[13] == ':');
  CHECK(stamp[16] == ':');
  CHECK(stamp[19] == '.');
  CHECK(stamp[23] == 'Z');
  CHECK(stamp.substr(0, 2) == "20");
}

namespace {
// How many of this process's descriptors are open on `path`.
int descriptors_on(const fs::path& path) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    if (fs::read_symlink(entry.path(), error) == path) ++count;
  }
  return count;
}
}  // namespace

TEST_CASE("a released log file holds no descriptor, and the next append reopens it where it was",
          "[logfile]") {
  TempDir dir;
  const auto path = dir.path / "a.log";
  LogFile log(path, LogRotation{20, 1});
  CHECK(log.ensure_exists().empty());
  CHECK(fs::exists(path));
  CHECK(descriptors_on(path) == 0);

  CHECK(log.append("11111111\n", 9).empty());
  CHECK(descriptors_on(path) == 1);
  log.release();
  CHECK(descriptors_on(path) == 0);
  // Rotation still knows the size after a release: 9 + 9 fits in 20, the third write does not.
  CHECK(log.append("22222222\n", 9).empty());
  log.release();
  CHECK(log.append("33333333\n", 9).empty());
  log.release();
  CHECK(read(path) == "33333333\n");
  CHECK(read(dir.path / "a.log.1") == "11111111\n22222222\n");
  CHECK(descriptors_on(path) == 0);
}
