#pragma once
// Optional timestamps in instance logs (`nixpmd --log-timestamps`): each line of one output stream gets
// the UTC time its first byte arrived, as "2024-05-01T12:00:00.123Z ". A line is held back until its
// newline arrives, so the lines of two streams feeding one log (a new process and a grandchild of the
// previous one) never mix mid-line; the log still sees every byte, in order per stream.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace nixpm::daemon {

// The current UTC time in ISO 8601 with milliseconds: "2024-05-01T12:00:00.123Z".
std::string utc_timestamp();

class LineStamper {
 public:
  // A line that grows past this without a newline is passed on in pieces, each ended by a newline
  // and stamped, so that a process writing without newlines cannot make nixpmd hold unbounded memory.
  static constexpr std::size_t kMaxLine = 64 * 1024;

  explicit LineStamper(std::function<std::string()> clock = utc_timestamp) : clock_(std::move(clock)) {}

  // Returns the stamped text of every line `data` completes; keeps an unfinished line for later.
  std::string feed(std::string_view data);
  // At the end of the stream: the unfinished line, stamped and ended with a newline ("" if none).
  std::string finish();

 private:
  std::function<std::string()> clock_;
  std::string pending_;  // the unfinished line with its stamp; empty between lines
};

}  // namespace nixpm::daemon
