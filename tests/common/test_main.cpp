// The main of every GoogleTest executable: death tests re-execute the binary
// ("threadsafe" style), because shards and the slab cache are process state
// that a plain fork would copy mid-operation.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  return RUN_ALL_TESTS();
}
