// Size-based rotation of instance logs, on real files in a temporary directory.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "daemon/log_file.hpp"

namespace fs = std::filesystem;
using nixpm::daemon::LogFile;
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

TEST_CASE("a write larger than the limit is kept whole", "[logfile]") {
  TempDir dir;
  LogFile log(dir.path / "a.log", LogRotation{4, 1});
  const std::string big(100, 'x');
  CHECK(log.append(big.data(), big.size()).empty());
  CHECK(read(dir.path / "a.log") == big);
}

TEST_CASE("an unwritable place is reported, not thrown", "[logfile]") {
  LogFile log("/nonexistent-dir/a.log", {});
  CHECK(log.append("x", 1).find("open /nonexistent-dir/a.log") == 0);
}
