#pragma once
// The template language of every interpolated value: the ${name} rules of interpolation.hpp plus a
// loop over list values:
//
//   ${for w in webapps}server ${w.dnsName}:${w.port};${end}
//
// The body is repeated for each item of the list, with the loop variable bound to the item:
//   ${w}       the item itself (it must be a string);
//   ${w.key}   for a map item: its entry `key`; for a string item: ${instances.<item>.key}, a
//              reference to the instance the item names (which makes that instance a dependency).
// Loops may nest; `${end}` closes the innermost open loop. Internal to the config library.

#include <optional>
#include <string>
#include <string_view>

#include "config/values.hpp"

namespace nixpm::config {

// The outcome of looking a name up: a value, or an error message, or neither when the problem
// was already reported elsewhere (e.g. a parameter whose own default is broken).
struct Lookup {
  std::optional<Resolved> value;
  std::string error;
};

// What a template can name besides its loop variables.
class TemplateNames {
 public:
  virtual ~TemplateNames() = default;
  // `name` is a dotted variable name such as "port", "ids.webappPorts" or "instances.web.port".
  virtual Lookup find(std::string_view name) = 0;
};

struct TemplateError {
  std::string message;  // empty: already reported elsewhere
};

std::optional<std::string> render_template(std::string_view text, TemplateNames& names, TemplateError& error);

}  // namespace nixpm::config
