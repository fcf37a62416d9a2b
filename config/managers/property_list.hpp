#pragma once
// Apple's XML property lists (plist 1.0), the format of launchd's job files: a JSON value written as a
// plist, and the merge that applies overrides.launchd to a generated job.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace nixpm::managers::plist {

// `value` as a complete plist document: objects become <dict> (keys in the object's order), arrays
// <array>, strings <string>, integers <integer>, other numbers <real>, booleans <true/> and <false/>.
// Throws GenerateError, naming `what`, for null and for text an XML document cannot hold.
std::string document(const nlohmann::ordered_json& value, std::string_view what);

// Applies `overrides` (an object) to `target` (an object): objects merge key by key, null removes the key,
// anything else replaces it. New keys come last.
void merge(nlohmann::ordered_json& target, const nlohmann::json& overrides);

}  // namespace nixpm::managers::plist
