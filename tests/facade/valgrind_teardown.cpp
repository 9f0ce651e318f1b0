// Run under valgrind --tool=memcheck by tests/facade/CMakeLists.txt, linked
// with the spaces_valgrind library (heaps as memcheck mempools).
//   clean               build trees in heaps and arenas, tear them down: no
//                       error and no leak
//   read-after-destroy  read a node after its arena is destroyed: memcheck
//                       reports an invalid read
//   read-after-reset    the same after a reset
//   read-after-free     read a freed block of a general heap
#include <spaces/spaces.hpp>

#include <cstdio>
#include <cstring>

namespace {

struct Node {
  int value;
  Node* left;
  Node* right;
};

Node* build(spaces::TrivialArena& a, int depth) {
  if (depth == 0) return nullptr;
  return a.make<Node>(Node{depth, build(a, depth - 1), build(a, depth - 1)});
}

int sum(const Node* n) { return n == nullptr ? 0 : n->value + sum(n->left) + sum(n->right); }

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "clean";
  if (std::strcmp(mode, "clean") == 0) {
    spaces::Heap unit(spaces::HeapOptions().name("unit"));
    spaces::TrivialArena ast(spaces::HeapOptions().name("ast").parent(unit));
    Node* root = build(ast, 12);
    spaces::Heap ir(spaces::HeapOptions().name("ir").parent(unit));
    void* blocks[100];
    for (auto*& b : blocks) b = ir.allocate(100);
    for (void* b : blocks) spaces::Heap::deallocate(b);
    std::printf("sum %d\n", sum(root));
    return 0;
  }
  Node* dangling = nullptr;
  if (std::strcmp(mode, "read-after-destroy") == 0) {
    spaces::TrivialArena ast;
    dangling = build(ast, 3);
  } else if (std::strcmp(mode, "read-after-reset") == 0) {
    spaces::TrivialArena ast;
    dangling = build(ast, 3);
    ast.reset();
    std::printf("value %d\n", dangling->value);
    return 0;
  } else if (std::strcmp(mode, "read-after-free") == 0) {
    spaces::Heap h(spaces::HeapOptions().name("general"));
    auto* n = static_cast<Node*>(h.allocate(sizeof(Node)));
    n->value = 1;
    spaces::Heap::deallocate(n);
    std::printf("value %d\n", n->value);
    return 0;
  } else {
    std::fprintf(stderr, "usage: %s [clean|read-after-destroy|read-after-reset|read-after-free]\n", argv[0]);
    return 2;
  }
  std::printf("value %d\n", dangling->value);
  return 0;
}
