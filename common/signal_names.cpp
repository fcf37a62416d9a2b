#include "signal_names.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <csignal>
#include <utility>

namespace nixpm {
namespace {
// The portable set (POSIX); numbers differ between systems, so they come from <csignal>.
const std::array<std::pair<int, std::string_view>, 22> kSignals{{
    {SIGHUP, "HUP"},   {SIGINT, "INT"},   {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},   {SIGTRAP, "TRAP"},
    {SIGABRT, "ABRT"}, {SIGBUS, "BUS"},   {SIGFPE, "FPE"},   {SIGKILL, "KILL"}, {SIGUSR1, "USR1"},
    {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"}, {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"},
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"}, {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"}, {SIGTTIN, "TTIN"},
    {SIGTTOU, "TTOU"}, {SIGWINCH, "WINCH"},
}};
}  // namespace

std::string signal_name(int signal) {
  for (const auto& [number, name] : kSignals)
    if (number == signal) return "SIG" + std::string(name);
  return "signal " + std::to_string(signal);
}

std::optional<int> parse_signal(std::string_view text) {
  int number = 0;
  const auto* end = text.data() + text.size();
  if (auto [ptr, ec] = std::from_chars(text.data(), end, number); ec == std::errc() && ptr == end) {
    if (number > 0 && number < 65) return number;
    return std::nullopt;
  }
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  std::string_view name = upper;
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const auto& [value, known] : kSignals)
    if (known == name) return value;
  return std::nullopt;
}

}  // namespace nixpm
