// cache_thrash.cpp: active false sharing; see cache.hpp.
#include "cache.hpp"

int main(int argc, char** argv) { return wl::run_cache_test(argc, argv, "cache-thrash", false); }
