#include "config/interpolation.hpp"

#include <cctype>

namespace nixpm::config {
namespace {

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

}  // namespace

bool is_variable_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

std::optional<std::string> interpolate(std::string_view text, const VariableLookup& lookup,
                                       InterpolationError& error) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, dollar - i));
    const std::string_view rest = text.substr(dollar);
    if (rest.starts_with("$${")) {
      out.append("${");
      i = dollar + 3;
      continue;
    }
    if (!rest.starts_with("${")) {
      out.push_back('$');
      i = dollar + 1;
      continue;
    }
    const std::size_t close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      error = {dollar, "unterminated '${'"};
      return std::nullopt;
    }
    const std::string_view name = text.substr(dollar + 2, close - dollar - 2);
    if (name.empty()) {
      error = {dollar, "empty variable name in '${}'"};
      return std::nullopt;
    }
    if (!is_variable_name(name)) {
      error = {dollar, "invalid variable name '" + std::string(name) + "'"};
      return std::nullopt;
    }
    auto value = lookup(name);
    if (!value) {
      error = {dollar, "unknown variable '" + std::string(name) + "'"};
      return std::nullopt;
    }
    out.append(*value);
    i = close + 1;
  }
  return out;
}

}  // namespace nixpm::config
