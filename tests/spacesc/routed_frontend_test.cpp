// ---------------------------------------------------------------------------
// routed_frontend_test.cpp: third-party code in a memory domain. spacesc's
// front end is ANTLR's C++ runtime driving the generated Toy parser; with
// the malloc replacement linked in, run_unit routes its thread into the
// unit's heap, so every allocation the runtime and the standard library
// make while a unit compiles lands there, and nothing in the caller's heap
// or the default heap but the result handed back.
// ---------------------------------------------------------------------------
#include <spacesc/driver.hpp>

#include <spaces/spaces.hpp>

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

spaces_stats_t stats_of(const spaces_heap_t* h) {
  spaces_stats_t s{};
  spaces_heap_stats(h, &s);
  return s;
}

/// The count of "heap unit N allocations" in a --stats text; 0 if absent.
std::size_t unit_heap_allocations(const std::string& stats) {
  const std::size_t at = stats.find("  heap unit ");
  return at == std::string::npos ? 0 : std::stoul(stats.substr(at + 13));
}

// run_unit routes the unit's thread into the unit's heap: ANTLR's vectors
// and prediction caches, the standard library's strings, the diagnostics
// and the output are allocated there, and nothing in the default heap (each
// unit predicts with its own DFAs). The result is copied into the heap the
// caller was on.
TEST(RoutedFrontendTest, AUnitAllocatesFromItsOwnHeapAndHandsItsResultToTheCaller) {
  const std::string path = std::string(SPACESC_EXAMPLES_DIR) + "/nested_struct.toy";
  spacesc::Options options;
  options.emit = spacesc::Emit::Run;
  options.stats = true;
  // The first unit of the process fills the shared ATN's follow sets, once,
  // in the default heap (shared_prediction.hpp:share_follow_sets).
  ASSERT_EQ(spacesc::run_unit(path, options).status, spacesc::ExitStatus::Ok);
  spaces::Heap domain(spaces::HeapOptions().name("caller-domain"));
  spaces_heap_t* def = spaces_default_heap();
  const spaces_stats_t def_before = stats_of(def);
  spaces_stats_t while_alive{};
  std::string out, err;
  spacesc::ExitStatus status{};
  {
    spaces::ScopedHeap in(domain);
    {
      const spacesc::UnitResult r = spacesc::run_unit(path, options);
      while_alive = stats_of(domain.get());
      status = r.status;
      const spaces::ScopedHeap back(nullptr);  // copies in the default heap would show below: free them first
      out.assign(r.out);
      err.assign(r.err);
    }
  }
  // Before any EXPECT: a failure's message would be a default-heap block.
  const spaces_stats_t after = stats_of(domain.get());
  const spaces_stats_t def_after = stats_of(def);
  EXPECT_EQ(status, spacesc::ExitStatus::Ok) << err;
  EXPECT_EQ(out, "10.000000 20.000000 4.000000 4.000000 ");
  // The unit's own heap took ANTLR's and the library's allocations (546
  // for this unit today)...
  EXPECT_GT(unit_heap_allocations(err), 300u) << err;
  // ...the caller's domain got the result, out and err (and the --stats
  // text's temporaries), nothing else...
  EXPECT_EQ(while_alive.live_blocks, 2u);
  EXPECT_EQ(after.live_blocks, 0u);
  // ...and the default heap only the two copies made above, out and err,
  // and one block the lexer's simulator makes and frees at the end of the
  // input (ANTLR never caches a DFA edge for EOF, so every unit's last
  // token is a DFA miss, computed on the default heap).
  EXPECT_EQ(def_after.alloc_count, def_before.alloc_count + 3);
  EXPECT_EQ(def_after.live_blocks, def_before.live_blocks + 2);
}

// Units leave nothing behind in the process: after the first compile of a
// program (which fills the shared DFAs and follow sets), ten more allocate
// in the default heap only the lexer's block at EOF, freed at once.
TEST(RoutedFrontendTest, RepeatedUnitsLeaveNothingInTheDefaultHeap) {
  const std::string path = std::string(SPACESC_EXAMPLES_DIR) + "/worked.toy";
  spacesc::Options options;
  ASSERT_EQ(spacesc::run_unit(path, options).status, spacesc::ExitStatus::Ok);
  spaces::Heap domain(spaces::HeapOptions().name("caller-domain"));
  const spaces_stats_t def_before = stats_of(spaces_default_heap());
  {
    spaces::ScopedHeap in(domain);
    for (int i = 0; i < 10; ++i) {
      const spacesc::UnitResult r = spacesc::run_unit(path, options);
      ASSERT_EQ(r.status, spacesc::ExitStatus::Ok) << r.err;
    }
  }
  const spaces_stats_t def_after = stats_of(spaces_default_heap());
  const spaces_stats_t domain_after = stats_of(domain.get());
  EXPECT_EQ(def_after.alloc_count, def_before.alloc_count + 10);
  EXPECT_EQ(def_after.live_blocks, def_before.live_blocks);
  EXPECT_EQ(def_after.live_bytes, def_before.live_bytes);
  EXPECT_EQ(domain_after.live_blocks, 0u);
}

/// A unit under every cap from 64 KiB to `top` in steps of `step` (slab
/// acquisitions happen at 64 KiB and 4 KiB granularity, so this fails the
/// unit at every point where its memory grows, ANTLR's allocations
/// included): each run either matches the uncapped run exactly or stops with
/// status 3 and the cap message, and leaves nothing in the default heap.
void sweep_caps(const std::string& path, std::size_t top, std::size_t step,
                spacesc::Emit emit = spacesc::Emit::Run) {
  spacesc::Options options;
  options.emit = emit;
  const spacesc::UnitResult free_run = spacesc::run_unit(path, options);
  const std::string name = path.substr(path.rfind('/') + 1);
  std::size_t capped = 0, ran = 0;
  for (std::size_t cap = 64 * 1024; cap <= top; cap += step) {
    options.mem_cap = cap;
    const spaces_stats_t before = stats_of(spaces_default_heap());
    {
      const spacesc::UnitResult r = spacesc::run_unit(path, options);
      if (r.status == spacesc::ExitStatus::CapExceeded) {
        ++capped;
        ASSERT_EQ(r.out, "") << "cap " << cap;
        ASSERT_EQ(r.err.find("error: memory cap of " + spacesc::format_size(cap) + " exceeded while "),
                  path.size() + 2)
            << r.err;
      } else {
        ++ran;
        ASSERT_EQ(r.status, free_run.status) << "cap " << cap << ": " << r.err;
        ASSERT_EQ(r.out, free_run.out) << "cap " << cap;
        ASSERT_EQ(r.err, free_run.err) << "cap " << cap;
      }
    }
    const spaces_stats_t after = stats_of(spaces_default_heap());
    ASSERT_EQ(after.live_blocks, before.live_blocks) << name << " under a cap of " << cap;
  }
  EXPECT_GT(capped, 4u) << name;  // the sweep reaches below what the unit needs...
  EXPECT_GT(ran, 0u) << name;     // ...and above it
}

// Every bundled example, in each --emit mode.
TEST(RoutedCapSweepTest, EveryCapRunsTheProgramOrStopsItCleanly) {
  for (const char* example : {"worked", "arithmetic", "dead_code", "generic", "nested_struct", "pipeline", "range",
                              "rank3", "reshape", "show", "struct_pair", "transpose"}) {
    for (const spacesc::Emit emit : {spacesc::Emit::Ast, spacesc::Emit::Ir, spacesc::Emit::Run}) {
      SCOPED_TRACE(std::string(example) + ", emit " + std::to_string(static_cast<int>(emit)));
      sweep_caps(std::string(SPACESC_EXAMPLES_DIR) + "/" + example + ".toy", 2 << 20, 4 * 1024, emit);
    }
  }
}

// The same with syntax and static errors to report: the diagnostics' memory
// is the unit's too.
TEST(RoutedCapSweepTest, EveryCapReportsTheErrorsOrStopsCleanly) {
  spacesc::test::ScratchDir dir;
  dir.write("bad.toy",
            "def f(a) {\n  return a +;\n}\n"
            "def main() {\n  var s = {1, [1, 2]};\n  print(g(1));\n  var x<2> = [1, 2, 3];\n}\n");
  sweep_caps(dir.path() + "/bad.toy", 2 << 20, 4 * 1024);
}
}  // namespace
