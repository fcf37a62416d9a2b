#include "config/templates.hpp"

#include <vector>

#include "config/interpolation.hpp"

namespace nixpm::config {
namespace {

struct Binding {
  std::string name;
  const Resolved* item;
};

// A ${...} token: its content and where the text after it starts.
struct Token {
  std::string_view content;
  std::size_t begin = 0;  // offset of '$'
  std::size_t end = 0;    // offset after '}'
};

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> result;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) result.push_back(text.substr(start, i - start));
  }
  return result;
}

bool is_loop(std::string_view content) { return content.starts_with("for "); }

class Renderer {
 public:
  Renderer(std::string_view text, TemplateNames& names, TemplateError& error)
      : text_(text), names_(names), error_(error) {}

  // Renders text_[begin, end) into out; false after an error.
  bool render(std::size_t begin, std::size_t end, std::string& out);

 private:
  // The next token at or after `from` (before `end`), copying literal text into `out` when given.
  std::optional<Token> next_token(std::size_t from, std::size_t end, std::string* out, bool& failed);
  bool render_loop(const Token& open, std::size_t end, std::size_t& resume, std::string& out);
  std::optional<Resolved> value_of(std::string_view name);
  bool fail(std::string message) {
    error_.message = std::move(message);
    return false;
  }

  std::string_view text_;
  TemplateNames& names_;
  TemplateError& error_;
  std::vector<Binding> bindings_;
};

std::optional<Token> Renderer::next_token(std::size_t from, std::size_t end, std::string* out, bool& failed) {
  std::size_t i = from;
  while (i < end) {
    const std::size_t dollar = text_.find('$', i);
    if (dollar == std::string_view::npos || dollar >= end) break;
    if (out != nullptr) out->append(text_.substr(i, dollar - i));
    const std::string_view rest = text_.substr(dollar, end - dollar);
    if (rest.starts_with("$${")) {
      if (out != nullptr) out->append("${");
      i = dollar + 3;
      continue;
    }
    if (!rest.starts_with("${")) {
      if (out != nullptr) out->push_back('$');
      i = dollar + 1;
      continue;
    }
    const std::size_t close = text_.find('}', dollar + 2);
    if (close == std::string_view::npos || close >= end) {
      failed = !fail("unterminated '${'");
      return std::nullopt;
    }
    return Token{text_.substr(dollar + 2, close - dollar - 2), dollar, close + 1};
  }
  if (out != nullptr) out->append(text_.substr(i, end - i));
  return std::nullopt;
}

bool Renderer::render(std::size_t begin, std::size_t end, std::string& out) {
  std::size_t i = begin;
  for (;;) {
    bool failed = false;
    auto token = next_token(i, end, &out, failed);
    if (failed) return false;
    if (!token) return true;
    if (is_loop(token->content)) {
      if (!render_loop(*token, end, i, out)) return false;
      continue;
    }
    if (token->content == "end") return fail("'${end}' without a '${for ...}' to close");
    if (token->content.empty()) return fail("empty variable name in '${}'");
    if (!is_variable_name(token->content))
      return fail("invalid variable name '" + std::string(token->content) + "'");
    auto value = value_of(token->content);
    if (!value) return false;
    if (value->kind != ValueKind::scalar)
      return fail("'" + std::string(token->content) + "' is " + describe(value->kind) +
                  ", not a string (walk a list with ${for x in " + std::string(token->content) + "})");
    out.append(value->text);
    i = token->end;
  }
}

bool Renderer::render_loop(const Token& open, std::size_t end, std::size_t& resume, std::string& out) {
  const auto parts = words(open.content);
  const std::string written = "${" + std::string(open.content) + "}";
  if (parts.size() != 4 || parts[2] != "in" || !is_variable_name(parts[1]) ||
      parts[1].find('.') != std::string_view::npos || !is_variable_name(parts[3]))
    return fail("invalid loop '" + written + "' (write ${for item in list})");
  // Find the matching ${end}, counting nested loops.
  int depth = 1;
  std::size_t i = open.end;
  std::optional<Token> close;
  while (depth > 0) {
    bool failed = false;
    auto token = next_token(i, end, nullptr, failed);
    if (failed) return false;
    if (!token) return fail("'" + written + "' has no matching '${end}'");
    if (is_loop(token->content)) ++depth;
    if (token->content == "end" && --depth == 0) close = token;
    i = token->end;
  }
  auto list = value_of(parts[3]);
  if (!list) return false;
  if (list->kind != ValueKind::list)
    return fail("'" + std::string(parts[3]) + "' in '" + written + "' is " + describe(list->kind) + ", not a list");
  for (const auto& item : list->items) {
    bindings_.push_back({std::string(parts[1]), &item});
    const bool ok = render(open.end, close->begin, out);
    bindings_.pop_back();
    if (!ok) return false;
  }
  resume = close->end;
  return true;
}

std::optional<Resolved> Renderer::value_of(std::string_view name) {
  const std::size_t dot = name.find('.');
  const std::string_view head = name.substr(0, dot);
  for (auto binding = bindings_.rbegin(); binding != bindings_.rend(); ++binding) {
    if (binding->name != head) continue;
    const Resolved* item = binding->item;
    if (dot == std::string_view::npos) return *item;
    const std::string_view rest = name.substr(dot + 1);
    if (item->kind == ValueKind::scalar) return value_of(std::string("instances.") + item->text + "." + std::string(rest));
    if (item->kind == ValueKind::map) {
      const std::string_view key = rest.substr(0, rest.find('.'));
      for (std::size_t i = 0; i < item->keys.size(); ++i)
        if (item->keys[i] == key && key.size() == rest.size()) return item->items[i];
      fail("'" + std::string(head) + "' has no entry '" + std::string(rest) + "'");
      return std::nullopt;
    }
    fail("'" + std::string(head) + "' is a list; '" + std::string(name) + "' cannot name a part of it");
    return std::nullopt;
  }
  Lookup lookup = names_.find(name);
  if (!lookup.value) error_.message = lookup.error;
  return lookup.value;
}

}  // namespace

std::optional<std::string> render_template(std::string_view text, TemplateNames& names, TemplateError& error) {
  std::string out;
  out.reserve(text.size());
  if (!Renderer(text, names, error).render(0, text.size(), out)) return std::nullopt;
  return out;
}

}  // namespace nixpm::config
