#include "generated_files.hpp"

#include <fstream>
#include <system_error>

#include <unistd.h>

namespace nixpm::daemon {
namespace fs = std::filesystem;

std::string write_generated_files(const std::vector<config::GeneratedFile>& files) {
  for (const auto& file : files) {
    std::error_code error;
    fs::create_directories(file.path.parent_path(), error);
    if (error) return "create directory " + file.path.parent_path().string() + ": " + error.message();
    const fs::path temporary = file.path.string() + ".nixpm-" + std::to_string(getpid());
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << file.content;
      out.close();
      if (!out) return "write " + temporary.string() + ": failed";
    }
    fs::rename(temporary, file.path, error);
    if (error) {
      fs::remove(temporary, error);
      return "write " + file.path.string() + ": " + error.message();
    }
  }
  return {};
}

}  // namespace nixpm::daemon
