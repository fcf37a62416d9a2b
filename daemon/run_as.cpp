#include "run_as.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>

#include <grp.h>
#include <unistd.h>

namespace nixpm::daemon {

std::string format_run_as(const RunAsIdentity& identity) {
  std::string text = std::to_string(identity.uid) + ":" + std::to_string(identity.gid) + ":";
  for (std::size_t i = 0; i < identity.groups.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(identity.groups[i]);
  }
  return text;
}

namespace {

std::optional<unsigned long> parse_number(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 10)
    return std::nullopt;
  return std::stoul(text);
}

}  // namespace

std::optional<RunAsIdentity> parse_run_as(const std::string& text) {
  const auto first = text.find(':');
  if (first == std::string::npos) return std::nullopt;
  const auto second = text.find(':', first + 1);
  const auto uid = parse_number(text.substr(0, first));
  const auto gid = parse_number(text.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1));
  if (!uid || !gid) return std::nullopt;
  RunAsIdentity identity{static_cast<uid_t>(*uid), static_cast<gid_t>(*gid), {}};
  if (second != std::string::npos && second + 1 < text.size()) {
    std::stringstream groups(text.substr(second + 1));
    std::string group;
    while (std::getline(groups, group, ',')) {
      const auto number = parse_number(group);
      if (!number) return std::nullopt;
      identity.groups.push_back(static_cast<gid_t>(*number));
    }
  }
  return identity;
}

bool is_run_as_invocation(int argc, char** argv) { return argc >= 2 && std::strcmp(argv[1], "--run-as") == 0; }

int run_as_main(int argc, char** argv) {
  // nixpmd --run-as SPEC -- PROGRAM [ARGS...]
  if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
    std::cerr << "nixpmd --run-as: usage: nixpmd --run-as UID:GID[:GROUPS] -- PROGRAM [ARGS...]\n";
    return 2;
  }
  const auto identity = parse_run_as(argv[2]);
  if (!identity) {
    std::cerr << "nixpmd --run-as: not UID:GID[:GROUP,...]: " << argv[2] << "\n";
    return 2;
  }
  if (setgroups(identity->groups.size(), identity->groups.data()) != 0 || setgid(identity->gid) != 0 ||
      setuid(identity->uid) != 0) {
    std::cerr << "nixpmd --run-as: switching to uid " << identity->uid << ": " << std::strerror(errno) << "\n";
    return 126;
  }
  execvp(argv[4], argv + 4);
  std::cerr << "nixpmd --run-as: exec " << argv[4] << ": " << std::strerror(errno) << "\n";
  return errno == ENOENT ? 127 : 126;
}

}  // namespace nixpm::daemon
