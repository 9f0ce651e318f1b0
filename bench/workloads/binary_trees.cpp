// ---------------------------------------------------------------------------
// binary_trees.cpp: the Computer Language Benchmarks Game's binary-trees,
// written plainly with operator new and delete per node. One long-lived tree
// of depth --size stays alive while many short-lived trees of depths 4, 6,
// ... are built, checked (node count) and deleted. The printed checks are the
// same under every allocator. With --threads above 1 the depths are shared
// out across threads, each tree built and deleted by one thread.
// ---------------------------------------------------------------------------
#include <atomic>
#include <thread>

#include "common.hpp"

namespace {

struct Node {
  Node* left;
  Node* right;
};

Node* build(int depth) {
  Node* n = new Node{nullptr, nullptr};
  if (depth > 0) {
    n->left = build(depth - 1);
    n->right = build(depth - 1);
  }
  return n;
}

std::uint64_t check(const Node* n) { return n->left == nullptr ? 1 : 1 + check(n->left) + check(n->right); }

void destroy(Node* n) {
  if (n->left != nullptr) {
    destroy(n->left);
    destroy(n->right);
  }
  delete n;
}

}  // namespace

int main(int argc, char** argv) {
  wl::Flags flags("binary-trees", "Benchmarks Game binary-trees with new/delete per node",
                  {{"threads", 1, "threads sharing the depths"},
                   {"size", 18, "maximum tree depth (>= 6)"},
                   {"iterations", 1, "times the whole program runs"}});
  flags.parse(argc, argv);
  flags.print_settings();
  const std::uint64_t threads = flags["threads"] == 0 ? 1 : flags["threads"];
  const int max_depth = flags["size"] < 6 ? 6 : static_cast<int>(flags["size"]);
  const int min_depth = 4;
  const std::uint64_t repeat = flags["iterations"] == 0 ? 1 : flags["iterations"];

  wl::Stopwatch clock;
  std::uint64_t nodes = 0;
  for (std::uint64_t rep = 0; rep < repeat; ++rep) {
    Node* stretch = build(max_depth + 1);
    const std::uint64_t stretch_check = check(stretch);
    destroy(stretch);
    Node* long_lived = build(max_depth);

    const int levels = (max_depth - min_depth) / 2 + 1;
    std::vector<std::uint64_t> checks(static_cast<std::size_t>(levels));
    std::atomic<int> next_level{0};
    wl::run_threads(threads, [&](std::uint64_t) {
      for (int l; (l = next_level.fetch_add(1)) < levels;) {
        const int depth = min_depth + 2 * l;
        const std::uint64_t trees = std::uint64_t{1} << (max_depth - depth + min_depth);
        std::uint64_t c = 0;
        for (std::uint64_t i = 0; i < trees; ++i) {
          Node* tree = build(depth);
          c += check(tree);
          destroy(tree);
        }
        checks[static_cast<std::size_t>(l)] = c;
      }
    });

    if (rep == 0)
      std::printf("stretch tree of depth %d\t check: %" PRIu64 "\n", max_depth + 1, stretch_check);
    nodes += stretch_check;
    for (int l = 0; l < levels; ++l) {
      const int depth = min_depth + 2 * l;
      const std::uint64_t trees = std::uint64_t{1} << (max_depth - depth + min_depth);
      if (rep == 0)
        std::printf("%" PRIu64 "\t trees of depth %d\t check: %" PRIu64 "\n", trees, depth,
                    checks[static_cast<std::size_t>(l)]);
      nodes += checks[static_cast<std::size_t>(l)];
    }
    const std::uint64_t long_check = check(long_lived);
    if (rep == 0) std::printf("long lived tree of depth %d\t check: %" PRIu64 "\n", max_depth, long_check);
    nodes += long_check;
    destroy(long_lived);
  }
  const double seconds = clock.seconds();
  wl::report_time(seconds, static_cast<double>(nodes));
  return 0;
}
