#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/sources.hpp"

namespace nixpm::config {
namespace {

namespace fs = std::filesystem;

class IncludeLoader {
 public:
  IncludeLoader(DeclarationSet& set, Diagnostics& diagnostics, SourceFiles& files)
      : set_(set), diagnostics_(diagnostics), files_(files) {}

  // `identity` is the canonical path (or the label for text without a file).
  void load_text(std::string_view text, const std::string& label, const std::string& identity);
  void load_file(const fs::path& file, const SourcePosition& included_at);

 private:
  DeclarationSet& set_;
  Diagnostics& diagnostics_;
  SourceFiles& files_;
  std::vector<std::pair<std::string, std::string>> stack_;  // identity, label of the files being read
  std::vector<std::string> loaded_;                         // identities already read
};

void IncludeLoader::load_text(std::string_view text, const std::string& label, const std::string& identity) {
  loaded_.push_back(identity);
  files_.labels.push_back(label);
  auto root = parse_yaml(text, label, diagnostics_);
  if (!root) return;
  YamlReader reader(label, diagnostics_);
  const auto includes = read_document(*root, reader, set_);
  stack_.emplace_back(identity, label);
  const fs::path base = fs::path(label).parent_path();
  for (const auto& include : includes) {
    if (include.value.empty()) {
      reader.error(include.position, "'include' items must not be empty");
      continue;
    }
    fs::path target(include.value);
    if (target.is_relative()) target = base / target;
    load_file(target.lexically_normal(), include.position);
  }
  stack_.pop_back();
}

void IncludeLoader::load_file(const fs::path& file, const SourcePosition& included_at) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  const std::string identity = ec ? file.string() : canonical.string();
  auto open = std::find_if(stack_.begin(), stack_.end(), [&](const auto& f) { return f.first == identity; });
  if (open != stack_.end()) {
    std::string chain;
    for (auto it = open; it != stack_.end(); ++it) chain += it->second + " -> ";
    diagnostics_.push_back({included_at, "include cycle: " + chain + file.string()});
    return;
  }
  // A file included from two places is read once (its names would otherwise clash with themselves).
  if (std::find(loaded_.begin(), loaded_.end(), identity) != loaded_.end()) return;
  int error = 0;
  auto text = read_text_file(file, error);
  if (!text) {
    const std::string reason = std::generic_category().message(error);
    if (included_at.file.empty())
      diagnostics_.push_back({{file.string(), 0, 0}, "cannot read file: " + reason});
    else
      diagnostics_.push_back({included_at, "cannot read included file '" + file.string() + "': " + reason});
    return;
  }
  load_text(*text, file.string(), identity);
}

}  // namespace

// POSIX calls rather than iostreams, whose error reporting cannot tell a directory or an I/O error
// from an empty file.
std::optional<std::string> read_text_file(const std::filesystem::path& file, int& error) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = errno;
    return std::nullopt;
  }
  std::string text;
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    error = errno;
  } else if (S_ISDIR(status.st_mode)) {
    error = EISDIR;
  } else {
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        text.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno != EINTR) {
        error = errno;
        break;
      }
    }
  }
  ::close(fd);
  if (error != 0) return std::nullopt;
  return text;
}

std::optional<YAML::Node> parse_yaml(std::string_view text, const std::string& label, Diagnostics& diagnostics) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    SourcePosition where{label, 0, 0};
    if (e.mark.line >= 0 && e.mark.column >= 0) where = {label, e.mark.line + 1, e.mark.column + 1};
    diagnostics.push_back({where, "invalid YAML: " + e.msg});
    return std::nullopt;
  }
}

void load_yaml_text(std::string_view text, const std::string& label, DeclarationSet& set,
                    Diagnostics& diagnostics, SourceFiles& files) {
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(label, ec);
  IncludeLoader(set, diagnostics, files).load_text(text, label, ec ? label : canonical.string());
}

void load_yaml_file(const std::filesystem::path& file, DeclarationSet& set, Diagnostics& diagnostics,
                    SourceFiles& files) {
  IncludeLoader(set, diagnostics, files).load_file(file, SourcePosition{});
}

}  // namespace nixpm::config
