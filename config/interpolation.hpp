#pragma once
// ${name} substitution, shared by every front-end. Rules (SPEC "Interpolation"):
//   ${name}  is replaced by the variable's value; an unknown name is an error;
//   $${      is a literal "${";
//   a "$" not followed by "{" is literal; "${" without a closing "}" is an error.
// Names are [A-Za-z_][A-Za-z0-9_.-]* (dots select parts: ${ids.pool}, ${db.host}). The loader renders
// through templates.hpp, which adds loops on top of these rules.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace nixpm::config {

using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

struct InterpolationError {
  std::size_t offset = 0;  // byte offset in the input where the problem starts
  std::string message;     // e.g. "unknown variable 'prot'" or "unterminated '${'"
};

// Returns the expanded text, or the first error.
std::optional<std::string> interpolate(std::string_view text, const VariableLookup& lookup,
                                       InterpolationError& error);

// Whether `name` could be written as ${name}; front-ends use it to refuse parameters no template
// could ever reach.
bool is_variable_name(std::string_view name);

}  // namespace nixpm::config
