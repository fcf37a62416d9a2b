#pragma once
// Where an instance's stdout and stderr go: the seam between the supervisor and log capture.

#include <string>

namespace nixpm::daemon {

class OutputRouter {
 public:
  virtual ~OutputRouter() = default;
  // A descriptor for the child's stdout and stderr (the caller closes its copy after spawning), or
  // -1 with `error` set.
  virtual int open_output(const std::string& instance, std::string& error) = 0;
};

}  // namespace nixpm::daemon
