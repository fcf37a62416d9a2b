#pragma once
// Exit statuses of nixpmctl (and nixpmd's command line), as promised in SPEC.md.

namespace nixpm::exit_code {
inline constexpr int ok = 0;                // done
inline constexpr int failed = 1;            // the operation failed
inline constexpr int usage = 2;             // usage or definition error
inline constexpr int unreachable = 3;       // the daemon could not be reached
}  // namespace nixpm::exit_code
