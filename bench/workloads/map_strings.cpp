// ---------------------------------------------------------------------------
// map_strings.cpp: a single-threaded, allocation-heavy program of the kind
// real code is full of. Each round builds a std::map of string keys to
// string values (all longer than the small-string buffer, so every string is
// a heap block), looks keys up, erases a third and inserts replacements,
// copies the map into a std::unordered_map, sorts a vector of the keys, and
// destroys everything. Nodes, strings and buckets are plain operator new.
// With --threads above 1, each thread runs the same rounds independently.
// ---------------------------------------------------------------------------
#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>

#include "common.hpp"

namespace {

// Random text from a 64-letter alphabet, ten letters per random number.
std::string make_string(wl::Rng& rng, std::size_t min_len, std::size_t max_len) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
  static_assert(sizeof kAlphabet - 1 == 64, "six bits per letter");
  std::string s(rng.between(min_len, max_len), ' ');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < s.size(); ++i, bits >>= 6) {
    if (i % 10 == 0) bits = rng.next();
    s[i] = kAlphabet[bits & 63];
  }
  return s;
}

std::uint64_t run_round(std::uint64_t seed, std::uint64_t thread, std::uint64_t round, std::uint64_t n) {
  wl::Rng rng(seed, round, thread);
  std::uint64_t sum = 0;
  std::map<std::string, std::string> ordered;
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    keys.push_back("key:" + make_string(rng, 16, 40));
    ordered.emplace(keys.back(), make_string(rng, 16, 120));
  }
  for (std::uint64_t i = 0; i < n; ++i) {
    auto it = ordered.find(keys[rng.below(n)]);
    if (it != ordered.end()) sum += it->second.size();
  }
  for (std::uint64_t i = 0; i < n; i += 3) {
    ordered.erase(keys[i]);
    keys[i] = "new:" + make_string(rng, 16, 40);
    ordered.emplace(keys[i], make_string(rng, 16, 120));
  }
  std::unordered_map<std::string, std::string> hashed(ordered.begin(), ordered.end());
  for (std::uint64_t i = 0; i < n; ++i) {
    auto it = hashed.find(keys[rng.below(n)]);
    if (it != hashed.end()) sum += static_cast<unsigned char>(it->second[0]);
  }
  std::sort(keys.begin(), keys.end());
  sum += ordered.size() + hashed.size() + static_cast<unsigned char>(keys[n / 2][5]);
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  wl::Flags flags("map-strings", "build, query and destroy big std::map/unordered_map of strings",
                  {{"threads", 1, "independent threads"},
                   {"size", 100000, "keys per map"},
                   {"iterations", 4, "rounds per thread"},
                   {"seed", 7, "random seed"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t threads = flags["threads"] == 0 ? 1 : flags["threads"];
  const std::uint64_t n = flags["size"] == 0 ? 1 : flags["size"], rounds = flags["iterations"];
  const std::uint64_t seed = flags["seed"];

  wl::Stopwatch clock;
  std::vector<std::uint64_t> sums(threads);
  wl::run_threads(threads, [&](std::uint64_t t) {
    for (std::uint64_t r = 0; r < rounds; ++r) sums[t] += run_round(seed, t, r, n);
  });
  const double seconds = clock.seconds();

  std::uint64_t checksum = 0;
  for (std::uint64_t s : sums) checksum += s;
  std::printf("rounds=%" PRIu64 " checksum=%" PRIu64 "\n", threads * rounds, checksum);
  wl::report_time(seconds, static_cast<double>(threads * rounds * n));
  return 0;
}
