#pragma once
// One instance's $NOTIFY_SOCKET: a Unix datagram socket speaking systemd's sd_notify protocol
// (newline-separated VAR=value assignments per datagram). READY=1 marks the instance ready; STATUS=
// is kept for the log. Each instance has its own socket, so a message needs no sender credentials to
// be attributed (which keeps this portable beyond Linux's SO_PASSCRED).

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

namespace nixpm::daemon {

class NotifySocket {
 public:
  using Ready = std::function<void()>;

  NotifySocket(boost::asio::io_context& io, std::filesystem::path path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Binds the socket (replacing a stale file) and starts receiving. Returns an error message or "".
  std::string open();
  // `ready` runs once: at once if READY=1 already arrived, else when it does.
  void when_ready(Ready ready);
  const std::filesystem::path& path() const { return path_; }
  bool ready_seen() const;

 private:
  struct State;
  std::filesystem::path path_;
  std::shared_ptr<State> state_;
};

// Whether a datagram of the sd_notify protocol contains READY=1 (a whole line of it).
bool notify_message_says_ready(std::string_view datagram);

}  // namespace nixpm::daemon
