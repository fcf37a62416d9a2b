#pragma once
// Instance snapshots as the protocol's JSON (docs/protocol.md, "status"): as a DOM for replies that are
// edited further, and written straight to text for the replies that list many instances (status,
// start, stop, restart), where building and freeing a DOM of N objects cost more than the rest of the
// reply. Both give the same members in the same (sorted) order. A status request may ask for some
// members only (`fields`), which makes a large reply cheaper for both ends.

#include <bitset>
#include <optional>
#include <string>

#include "common/protocol.hpp"
#include "daemon/supervisor.hpp"

namespace nixpm::daemon {

inline constexpr std::size_t kStatusMemberCount = 14;
// A subset of a status entry's members, by their position in sorted order.
using StatusMembers = std::bitset<kStatusMemberCount>;
inline const StatusMembers kAllStatusMembers = StatusMembers().set();

protocol::Json snapshot_to_json(const InstanceSnapshot& snapshot);

// Appends snapshot_to_json(snapshot).dump() to `out`, without the DOM, keeping only `members`.
void append_snapshot_json(std::string& out, const InstanceSnapshot& snapshot,
                          const StatusMembers& members = kAllStatusMembers);

// The members a request's `fields` names (an array of member names); nullopt with `error` set when it
// is not such an array or names an unknown member.
std::optional<StatusMembers> status_members_named(const protocol::Json& fields, std::string& error);

}  // namespace nixpm::daemon
