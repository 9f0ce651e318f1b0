// ---------------------------------------------------------------------------
// test_main.cpp: GoogleTest's main for spacesc_tests. Units may run on
// threads, so death tests, if any, use the "threadsafe" style.
// ---------------------------------------------------------------------------
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  return RUN_ALL_TESTS();
}
