#pragma once
// ProcessWatch on the Asio loop: a pidfd per process where the system has them (Linux 5.3+), else a
// kill(pid, 0) poll every second per watched process (only forking daemons are ever watched).

#include <memory>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "daemon/process_watch.hpp"

namespace nixpm::daemon {

class AsioProcessWatch final : public ProcessWatch {
 public:
  explicit AsioProcessWatch(boost::asio::io_context& io) : io_(io) {}
  ~AsioProcessWatch() override;
  void watch(pid_t pid) override;
  void unwatch(pid_t pid) override;

 private:
  struct Watched;
  void poll_later(const std::shared_ptr<Watched>& watched);
  void report(const std::shared_ptr<Watched>& watched);

  boost::asio::io_context& io_;
  std::unordered_map<pid_t, std::shared_ptr<Watched>> watched_;
};

}  // namespace nixpm::daemon
