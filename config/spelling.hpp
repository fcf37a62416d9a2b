#pragma once
// "Did you mean ...?" suggestions for misspelt keys, constructors, parameters and instance names.
// Internal to the config library.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nixpm::config {

// Optimal string alignment distance, ignoring ASCII case: a swapped pair of letters counts as one
// edit because that is the typo people make most.
std::size_t edit_distance(std::string_view a, std::string_view b);

// " (did you mean 'x'?)" for the closest candidate within two edits (ties go to the earlier
// candidate), or "" when nothing is close enough to be a plausible typo.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace nixpm::config
