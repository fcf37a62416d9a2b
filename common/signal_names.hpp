#pragma once
// Signal names both ways ("TERM"/"SIGTERM" ↔ 15), for definitions, logs and the client.

#include <optional>
#include <string>
#include <string_view>

namespace nixpm {

// "SIGTERM" for a known signal, "signal 42" otherwise.
std::string signal_name(int signal);
// Accepts "TERM", "SIGTERM", "term" or a decimal number; nullopt for anything else.
std::optional<int> parse_signal(std::string_view text);

}  // namespace nixpm
