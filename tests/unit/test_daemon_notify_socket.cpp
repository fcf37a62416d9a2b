// The sd_notify socket: parsing, and a real datagram through a real socket on a real io_context.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

#include <boost/asio/io_context.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "daemon/notify_socket.hpp"

using nixpm::daemon::notify_message_says_ready;
using nixpm::daemon::NotifySocket;

TEST_CASE("READY=1 is recognised only as a whole line of a notify message", "[notify]") {
  CHECK(notify_message_says_ready("READY=1"));
  CHECK(notify_message_says_ready("STATUS=starting\nREADY=1\n"));
  CHECK(notify_message_says_ready("READY=1\nMAINPID=42"));
  CHECK_FALSE(notify_message_says_ready("READY=0"));
  CHECK_FALSE(notify_message_says_ready("STATUS=READY=1 soon"));
  CHECK_FALSE(notify_message_says_ready("NOTREADY=1"));
  CHECK_FALSE(notify_message_says_ready(""));
}

namespace {

void send_datagram(const std::filesystem::path& path, const std::string& text) {
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  const auto sent = sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&address), sizeof address);
  close(fd);
  REQUIRE(sent == static_cast<ssize_t>(text.size()));
}

}  // namespace

TEST_CASE("a READY=1 that arrives before anyone waits is not lost", "[notify]") {
  const auto dir = std::filesystem::temp_directory_path() / ("nixpm-notify-" + std::to_string(getpid()));
  boost::asio::io_context io;
  bool ready = false;
  {
    NotifySocket socket(io, dir / "web");
    REQUIRE(socket.open().empty());
    send_datagram(dir / "web", "STATUS=warming up\n");
    send_datagram(dir / "web", "READY=1\n");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!socket.ready_seen() && std::chrono::steady_clock::now() < deadline)
      io.run_for(std::chrono::milliseconds(10));
    socket.when_ready([&] { ready = true; });
    CHECK(ready);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "web"));  // removed with the socket
  std::filesystem::remove_all(dir);
}

TEST_CASE("a waiting instance becomes ready when READY=1 arrives", "[notify]") {
  const auto dir = std::filesystem::temp_directory_path() / ("nixpm-notify2-" + std::to_string(getpid()));
  boost::asio::io_context io;
  NotifySocket socket(io, dir / "db");
  REQUIRE(socket.open().empty());
  int calls = 0;
  socket.when_ready([&] { ++calls; });
  send_datagram(dir / "db", "READY=1");
  send_datagram(dir / "db", "READY=1");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (calls == 0 && std::chrono::steady_clock::now() < deadline) io.run_for(std::chrono::milliseconds(10));
  CHECK(calls == 1);
  io.poll();  // the second READY=1, if already queued, calls nobody
  CHECK(calls == 1);
  std::filesystem::remove_all(dir);
}
