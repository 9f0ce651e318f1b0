// The main of the chaos build of the model test: the same tests as
// tests/core/model_test.cpp, with every protocol point of the allocator
// yielding or sleeping at random for the whole run (chaos.hpp).
#include <gtest/gtest.h>

#include "chaos.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  spaces_test::chaos::Scope chaos;
  return RUN_ALL_TESTS();
}
