// nixpmctl: the command-line client of nixpmd. All of the work is in commands.cpp; this file connects it
// to the process and is the one place that turns exceptions into an exit status.

#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include "client/commands.hpp"
#include "common/exit_codes.hpp"

int main(int argc, char** argv) {
  // A daemon that goes away mid-request must surface as an error, not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  const char* no_colour = std::getenv("NO_COLOR");
  const bool colour = ::isatty(STDOUT_FILENO) == 1 && (no_colour == nullptr || *no_colour == '\0');
  nixpm::client::Terminal term{std::cout, std::cerr, colour};

  try {
    const int status = nixpm::client::run(args, nixpm::process_environment(), ::getuid(), term);
    std::cout.flush();
    return status;
  } catch (const nixpm::client::ClientError& e) {
    std::cout.flush();
    std::cerr << "nixpmctl: " << e.what() << '\n';
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "nixpmctl: " << e.what() << '\n';
    return nixpm::exit_code::failed;
  }
}
