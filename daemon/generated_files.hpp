#pragma once
// Writes an instance's generated files (the `files` key) before it starts.

#include <string>
#include <vector>

#include "config/model.hpp"

namespace nixpm::daemon {

// Creates missing parent directories and replaces each file atomically (temp file + rename), so a
// process never reads a half-written configuration. Returns an error text, empty on success.
std::string write_generated_files(const std::vector<config::GeneratedFile>& files);

}  // namespace nixpm::daemon
