// AddressSanitizer builds only: memory the program may not touch is poisoned,
// so a dangling pointer into a torn-down heap is reported, not silently read.
#include <spaces/spaces.hpp>

#include <gtest/gtest.h>

namespace {

struct Node {
  int value;
  Node* next;
};

int read_through(const volatile int* p) { return *p; }

using AsanDeathTest = ::testing::Test;

// Reading an AST node after its arena is destroyed is a use-after-poison.
TEST_F(AsanDeathTest, ReadingANodeAfterTeardownIsReported) {
  EXPECT_DEATH(
      {
        Node* n = nullptr;
        {
          spaces::TrivialArena ast(spaces::HeapOptions().name("ast"));
          n = ast.make<Node>(Node{42, nullptr});
        }
        std::printf("%d\n", read_through(&n->value));
      },
      "AddressSanitizer: use-after-poison");
}

// Reading a node after the arena's reset is reported too.
TEST_F(AsanDeathTest, ReadingANodeAfterResetIsReported) {
  EXPECT_DEATH(
      {
        spaces::TrivialArena ast;
        Node* n = ast.make<Node>(Node{7, nullptr});
        ast.reset();
        std::printf("%d\n", read_through(&n->value));
      },
      "AddressSanitizer: use-after-poison");
}

// A freed block of a general heap is poisoned.
TEST_F(AsanDeathTest, ReadingAFreedBlockIsReported) {
  EXPECT_DEATH(
      {
        spaces::Heap h(spaces::HeapOptions().name("general"));
        auto* p = static_cast<int*>(h.allocate(64));
        *p = 1;
        spaces::Heap::deallocate(p);
        std::printf("%d\n", read_through(p + 4));
      },
      "AddressSanitizer: use-after-poison");
}

// The slack of a block beyond the requested size is poisoned.
TEST_F(AsanDeathTest, ReadingPastTheRequestIsReported) {
  EXPECT_DEATH(
      {
        spaces::Heap h(spaces::HeapOptions().name("general"));
        auto* p = static_cast<int*>(h.allocate(20));  // a 32-byte block
        std::printf("%d\n", read_through(p + 6));
      },
      "AddressSanitizer: use-after-poison");
}

// Correct use is not reported.
TEST(AsanTest, CorrectUseIsClean) {
  spaces::TrivialArena ast;
  Node* n = ast.make<Node>(Node{1, nullptr});
  n->next = ast.make<Node>(Node{2, nullptr});
  EXPECT_EQ(n->next->value, 2);
  spaces::Heap h(spaces::HeapOptions().name("general"));
  auto* p = static_cast<char*>(h.allocate(100));
  p[99] = 1;
  spaces::Heap::deallocate(p);
}

}  // namespace
