#pragma once
// Where a value came from, and a problem found there. Every definition error names file:line:column.

#include <string>
#include <vector>

namespace nixpm::config {

struct SourcePosition {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown

  // "file:line:column", or just "file" when the position is unknown.
  std::string to_string() const;
  bool operator==(const SourcePosition&) const = default;
};

// Errors make definitions unusable; warnings (e.g. a relative command not found on PATH on this
// machine, which may well exist where the definitions run) are reported but do not block loading.
enum class Severity { error, warning };

struct Diagnostic {
  SourcePosition position;
  std::string message;
  Severity severity = Severity::error;

  // "file:line:column: error: message" (or "warning:")
  std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace nixpm::config
