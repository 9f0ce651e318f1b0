// ---------------------------------------------------------------------------
// options.cpp: the table of process-wide options (knobs).
//
// One row per option: name, unit, default, range. Each is read once from
// SPACES_<NAME> (upper case) on first use; a bad value is reported on stderr
// once and the default stays. spaces_option_set changes them at run time.
// The table is the single source for docs/tuning.md, which lists the same
// rows; tests/core/options_test.cpp checks that the two agree.
// ---------------------------------------------------------------------------
#include <cctype>
#include <climits>
#include <cstring>

#include "internal/base.h"

namespace spaces::detail {
namespace {

enum class Unit : std::uint8_t { Bytes, Milliseconds, Count, Bool, Enum };

constexpr const char* kDecommitNames[] = {"keep", "free", "dontneed", "unmap"};

struct OptionRow {
  const char* name;
  Unit unit;
  long long def;
  long long min;
  long long max;
};

constexpr long long kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024, kTiB = kGiB * 1024;

// Indexed by spaces_option_t.
constexpr OptionRow kOptions[SPACES_OPTION_COUNT] = {
    {"slab_cache", Unit::Bytes, 256 * kMiB, 0, 1024 * kTiB},
    {"decommit", Unit::Enum, 2, 0, 3},
    {"decommit_delay", Unit::Milliseconds, 500, 0, 1000LL * 1000 * 1000},
    {"reserve_size", Unit::Bytes, 32 * kMiB, 64 * kKiB, kTiB},
    {"huge_threshold", Unit::Bytes, 64 * kMiB, 64 * kKiB, 1024 * kTiB},
    {"huge_pages", Unit::Bool, 0, 0, 1},
    {"junk", Unit::Bool, 0, 0, 1},
    {"stats_at_exit", Unit::Bool, 0, 0, 1},
    {"default_cap", Unit::Bytes, 0, 0, 1024 * kTiB},
    {"verbose", Unit::Bool, 0, 0, 1},
    {"leak_report", Unit::Bool, 0, 0, 1},
    {"leak_blocks", Unit::Count, 8, 0, 64},
};


bool equal_nocase(const char* a, const char* b) noexcept {
  for (; *a != '\0' && *b != '\0'; ++a, ++b)
    if (std::tolower(static_cast<unsigned char>(*a)) != std::tolower(static_cast<unsigned char>(*b))) return false;
  return *a == *b;
}

/// Parses an option value as the environment spells it.
bool parse_value(const OptionRow& row, const char* text, long long* out) noexcept {
  if (row.unit == Unit::Enum) {
    for (long long i = 0; i <= row.max; ++i)
      if (equal_nocase(text, kDecommitNames[i])) {
        *out = i;
        return true;
      }
  }
  if (row.unit == Unit::Bool) {
    if (equal_nocase(text, "true") || equal_nocase(text, "yes") || equal_nocase(text, "on")) {
      *out = 1;
      return true;
    }
    if (equal_nocase(text, "false") || equal_nocase(text, "no") || equal_nocase(text, "off")) {
      *out = 0;
      return true;
    }
  }
  if (row.unit == Unit::Bytes) return parse_size(text, out);
  // Plain decimal for the rest.
  long long v = 0;
  if (*text == '\0') return false;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
    if (v > (LLONG_MAX - (*p - '0')) / 10) return false;
    v = v * 10 + (*p - '0');
  }
  *out = v;
  return true;
}

/// Sets an option. (A new default cap reaches the default heap in api.cpp,
/// which sits above the heaps.)
void apply(spaces_option_t o, long long v) noexcept { g_options[o].store(v, std::memory_order_relaxed); }

}  // namespace

constinit std::atomic<long long> g_options[SPACES_OPTION_COUNT]{};
constinit std::atomic<int> g_options_state{0};  // 0 new, 1 reading the environment, 2 ready

bool option_index(spaces_option_t o, unsigned* index) noexcept {
  // A C caller may pass any integer in an enum: look at it as one.
  unsigned i = 0;
  static_assert(sizeof(i) == sizeof(o));
  std::memcpy(&i, &o, sizeof(i));
  *index = i;
  return i < SPACES_OPTION_COUNT;
}

bool parse_size(const char* text, long long* out) noexcept {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  unsigned long long v = 0;
  const char* p = text;
  for (; *p >= '0' && *p <= '9'; ++p) {
    if (v > (static_cast<unsigned long long>(LLONG_MAX) - static_cast<unsigned>(*p - '0')) / 10) return false;
    v = v * 10 + static_cast<unsigned>(*p - '0');
  }
  unsigned long long scale = 1;
  switch (*p) {
    case 'k': case 'K': scale = kKiB; ++p; break;
    case 'm': case 'M': scale = kMiB; ++p; break;
    case 'g': case 'G': scale = kGiB; ++p; break;
    case 't': case 'T': scale = kTiB; ++p; break;
    default: break;
  }
  if (scale != 1 && (*p == 'i' || *p == 'I')) ++p;  // "MiB"
  if (*p == 'b' || *p == 'B') ++p;
  if (*p != '\0') return false;
  if (v > static_cast<unsigned long long>(LLONG_MAX) / scale) return false;
  *out = static_cast<long long>(v * scale);
  return true;
}

void options_init() noexcept {
  int state = g_options_state.load(std::memory_order_acquire);
  if (SPACES_LIKELY(state == 2)) return;
  if (state != 0 || !g_options_state.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) {
    while (g_options_state.load(std::memory_order_acquire) != 2) sched_yield();
    return;
  }
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i) {
    const OptionRow& row = kOptions[i];
    long long v = row.def;
    char var[64] = "SPACES_";
    std::size_t n = 7;
    for (const char* c = row.name; *c != '\0' && n < sizeof(var) - 1; ++c)
      var[n++] = static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
    var[n] = '\0';
    if (const char* text = os::getenv(var); text != nullptr) {
      long long parsed = 0;
      if (!parse_value(row, text, &parsed)) {
        message("spaces: ignoring %s=%s: not a valid value; using the default\n", var, text);
      } else if (parsed < row.min || parsed > row.max) {
        message("spaces: ignoring %s=%s: out of range; using the default\n", var, text);
      } else {
        v = parsed;
      }
    }
    g_options[i].store(v, std::memory_order_relaxed);
  }
  g_options_state.store(2, std::memory_order_release);
}

spaces_status_t option_set(spaces_option_t o, long long v) noexcept {
  unsigned i = 0;
  if (!option_index(o, &i)) return SPACES_E_INVALID;
  options_init();
  const OptionRow& row = kOptions[i];
  if (v < row.min || v > row.max) return SPACES_E_RANGE;
  apply(o, v);
  return SPACES_OK;
}

spaces_status_t option_set_str(const char* name, const char* value) noexcept {
  if (name == nullptr || value == nullptr) return SPACES_E_INVALID;
  for (int i = 0; i < SPACES_OPTION_COUNT; ++i) {
    if (!equal_nocase(name, kOptions[i].name)) continue;
    long long v = 0;
    if (!parse_value(kOptions[i], value, &v)) return SPACES_E_INVALID;
    return option_set(static_cast<spaces_option_t>(i), v);
  }
  return SPACES_E_INVALID;
}

const char* option_name(spaces_option_t o) noexcept {
  unsigned i = 0;
  return option_index(o, &i) ? kOptions[i].name : nullptr;
}

}  // namespace spaces::detail
