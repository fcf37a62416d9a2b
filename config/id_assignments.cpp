#include "config/id_assignments.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "config/spelling.hpp"

namespace nixpm::config {
namespace {

std::string range_of(const IdPool& pool) {
  return std::to_string(pool.min) + ".." + std::to_string(pool.max);
}

}  // namespace

IdTable assign_ids(const std::vector<IdPool>& pools, const std::vector<IdRequest>& requests,
                   const IdTable* previous, Diagnostics& diagnostics) {
  std::vector<std::string> pool_names;
  for (const auto& pool : pools) pool_names.push_back(pool.name);
  IdTable table;
  for (const auto& pool : pools) {
    std::vector<const IdRequest*> wanted;
    for (const auto& request : requests)
      if (request.pool == pool.name) wanted.push_back(&request);
    if (wanted.empty()) continue;
    auto& assigned = table[pool.name];
    std::set<long long> taken;
    // First keep what each instance already had, so that new instances never displace old ones.
    if (previous != nullptr) {
      if (auto old = previous->find(pool.name); old != previous->end()) {
        for (const auto* request : wanted) {
          auto id = old->second.find(request->instance);
          if (id == old->second.end() || id->second < pool.min || id->second > pool.max) continue;
          if (!taken.insert(id->second).second) continue;  // a corrupt table: the first keeps it
          assigned[request->instance] = id->second;
        }
      }
    }
    long long next = pool.min;
    for (const auto* request : wanted) {
      if (assigned.contains(request->instance)) continue;
      while (next <= pool.max && taken.contains(next)) ++next;
      if (next > pool.max) {
        diagnostics.push_back({request->position, "id pool '" + pool.name + "' (" + range_of(pool) +
                                                      ") is full: no id left for instance '" +
                                                      request->instance + "'"});
        continue;
      }
      taken.insert(next);
      assigned[request->instance] = next;
    }
  }
  for (const auto& request : requests) {
    if (std::find(pool_names.begin(), pool_names.end(), request.pool) != pool_names.end()) continue;
    diagnostics.push_back({request.position, "unknown id pool '" + request.pool + "'" +
                                                 did_you_mean(request.pool, pool_names)});
  }
  return table;
}

std::filesystem::path id_assignments_path(const std::filesystem::path& state_dir) {
  return state_dir / "lib" / "nixpm" / "ids.json";
}

std::optional<IdTable> load_id_assignments(const std::filesystem::path& file, Diagnostics& diagnostics) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec) && !ec) return IdTable{};
  std::ifstream in(file);
  if (!in) {
    diagnostics.push_back({{file.string(), 0, 0}, "cannot read id assignments"});
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  IdTable table;
  try {
    const auto document = nlohmann::json::parse(text.str());
    if (!document.is_object()) throw std::runtime_error("the top level must be an object");
    for (const auto& [pool, instances] : document.items()) {
      if (!instances.is_object()) throw std::runtime_error("pool '" + pool + "' must be an object");
      for (const auto& [instance, id] : instances.items()) {
        if (!id.is_number_integer())
          throw std::runtime_error("the id of '" + instance + "' in pool '" + pool + "' must be an integer");
        table[pool][instance] = id.get<long long>();
      }
    }
  } catch (const std::exception& e) {
    diagnostics.push_back({{file.string(), 0, 0}, std::string("invalid id assignments: ") + e.what()});
    return std::nullopt;
  }
  return table;
}

std::optional<std::string> save_id_assignments(const std::filesystem::path& file, const IdTable& table) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return "cannot create " + file.parent_path().string() + ": " + ec.message();
  const std::string text = nlohmann::json(table).dump(2) + "\n";
  const std::filesystem::path temporary = file.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot write " + temporary.string() + ": " + std::strerror(errno);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string error = std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      return "cannot write " + temporary.string() + ": " + error;
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  if (!synced || ::rename(temporary.c_str(), file.c_str()) != 0) {
    const std::string error = std::strerror(synced ? errno : sync_errno);
    ::unlink(temporary.c_str());
    return "cannot replace " + file.string() + ": " + error;
  }
  return std::nullopt;
}

}  // namespace nixpm::config
