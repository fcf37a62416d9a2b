#include "log_timestamps.hpp"

#include <cstdio>
#include <ctime>

namespace nixpm::daemon {

std::string utc_timestamp() {
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm utc {};
  gmtime_r(&now.tv_sec, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  char text[48];
  std::snprintf(text, sizeof text, "%s.%03dZ", date, static_cast<int>(now.tv_nsec / 1000000) % 1000);
  return text;
}

std::string LineStamper::feed(std::string_view data) {
  std::string complete;
  while (!data.empty()) {
    if (pending_.empty()) pending_ = clock_() + ' ';  // the time a line starts, not when it ends
    const auto newline = data.find('\n');
    const std::size_t take = newline == std::string_view::npos ? data.size() : newline + 1;
    pending_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (newline != std::string_view::npos) {
      complete += pending_;
      pending_.clear();
    } else if (pending_.size() >= kMaxLine) {
      complete += finish();
    }
  }
  return complete;
}

std::string LineStamper::finish() {
  if (pending_.empty()) return {};
  std::string line = std::move(pending_);
  pending_.clear();
  line += '\n';
  return line;
}

}  // namespace nixpm::daemon
