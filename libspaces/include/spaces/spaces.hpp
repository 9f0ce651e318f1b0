// ---------------------------------------------------------------------------
// spaces.hpp: the C++ facade of libspaces (umbrella header).
//
//   spaces::Heap            move-only owner of a heap, options builder, stats, walk
//   spaces::Arena           region heap with make<T>(), make_array<T>(), copy(), intern()
//   spaces::TrivialArena    the same, refusing types with non-trivial destructors
//   spaces::MemoryResource  std::pmr::memory_resource over a heap
//   spaces::Allocator<T>    STL allocator over a heap
//   spaces::cap_exceeded    std::bad_alloc thrown at a heap's cap
//
// Every piece is a client of the C API in spaces.h; see docs/api.md.
// ---------------------------------------------------------------------------
#ifndef SPACES_SPACES_HPP
#define SPACES_SPACES_HPP

#include <spaces/arena.hpp>
#include <spaces/heap.hpp>
#include <spaces/pmr.hpp>

#endif  // SPACES_SPACES_HPP
