// ---------------------------------------------------------------------------
// unit_test.cpp: the print format, byte counts in messages, tensor helpers
// and AstContext.
// ---------------------------------------------------------------------------
#include <spacesc/ast_context.hpp>
#include <spacesc/driver.hpp>
#include <spacesc/tensor.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace spacesc {
namespace {

std::string printed(std::vector<std::uint64_t> dims, std::vector<double> data) {
  std::string out;
  format_tensor(dims, data, out);
  return out;
}

// The examples of docs/toy-language.md §6.3, byte for byte.
TEST(FormatTest, SectionSixExamples) {
  EXPECT_EQ(printed({}, {2.5}), "2.500000 ");
  EXPECT_EQ(printed({2}, {1, 2}), "1.000000 2.000000 ");
  EXPECT_EQ(printed({2, 2}, {1, 2, 3, 4}), "1.000000 2.000000 \n3.000000 4.000000 \n");
  EXPECT_EQ(printed({2, 2, 1}, {1, 2, 3, 4}), "1.000000 \n2.000000 \n\n3.000000 \n4.000000 \n\n");
  EXPECT_EQ(printed({1}, {0.1 - 0.1000004}), "-0.000000 ");
  EXPECT_EQ(printed({}, {1e30}), "1000000000000000019884624838656.000000 ");
}

// Byte counts in messages: the largest unit that divides them, and "1 byte"
// in the singular.
TEST(FormatTest, ByteCounts) {
  EXPECT_EQ(format_size(0), "0 bytes");
  EXPECT_EQ(format_size(1), "1 byte");
  EXPECT_EQ(format_size(2), "2 bytes");
  EXPECT_EQ(format_size(1000), "1000 bytes");
  EXPECT_EQ(format_size(327680), "320 KiB");
  EXPECT_EQ(format_size(std::size_t{256} << 20), "256 MiB");
  EXPECT_EQ(format_size(std::size_t{1} << 30), "1 GiB");
}

// Transposition reverses every dimension, for any rank.
TEST(TensorTest, TransposeReversesDimensions) {
  std::vector<double> out(6);
  transpose_into(std::vector<std::uint64_t>{2, 3}, std::vector<double>{1, 2, 3, 4, 5, 6}, out);
  EXPECT_EQ(out, (std::vector<double>{1, 4, 2, 5, 3, 6}));
  std::vector<double> out3(8);
  transpose_into(std::vector<std::uint64_t>{2, 2, 2}, std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}, out3);
  EXPECT_EQ(out3, (std::vector<double>{1, 5, 3, 7, 2, 6, 4, 8}));
}

// Shapes print as the AST dump and diagnostics write them.
TEST(TensorTest, ShapeText) {
  EXPECT_EQ(shape_text(std::vector<std::uint64_t>{}), "<>");
  EXPECT_EQ(shape_text(std::vector<std::uint64_t>{2, 3}), "<2, 3>");
}

class AstContextTest : public testing::TestWithParam<AllocMode> {};

// Both modes count nodes, copy arrays and intern names to one copy.
TEST_P(AstContextTest, MakesNodesArraysAndNames) {
  spaces::Heap unit(spaces::HeapOptions().name("unit"));
  AstContext ctx(GetParam(), &unit);
  auto* n = ctx.make<NumberExpr>(SourceLoc{1, 2}, 4.5);
  EXPECT_EQ(n->value(), 4.5);
  EXPECT_EQ(n->loc(), (SourceLoc{1, 2}));
  const std::vector<std::uint64_t> dims{2, 3};
  auto copy = ctx.copy(std::span<const std::uint64_t>(dims));
  EXPECT_NE(copy.data(), dims.data());
  EXPECT_EQ(copy[1], 3u);
  const std::string_view a = ctx.intern(std::string("name"));
  const std::string_view b = ctx.intern(std::string("name"));
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(ctx.node_count(), 1u);
  ctx.teardown();
}

// LLVM-style RTTI: classof follows the kind ranges.
TEST_P(AstContextTest, ClassofFollowsKindRanges) {
  AstContext ctx(GetParam(), nullptr);
  Node* num = ctx.make<NumberExpr>(SourceLoc{1, 1}, 1.0);
  Node* ret = ctx.make<ReturnStmt>(SourceLoc{1, 1}, nullptr);
  EXPECT_TRUE(isa<Expr>(num));
  EXPECT_TRUE(isa<Stmt>(num));
  EXPECT_FALSE(isa<Expr>(ret));
  EXPECT_TRUE(isa<Stmt>(ret));
  EXPECT_EQ(dyn_cast<VarExpr>(num), nullptr);
  EXPECT_NE(dyn_cast<NumberExpr>(num), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Modes, AstContextTest, testing::Values(AllocMode::Arena, AllocMode::New),
                         [](const testing::TestParamInfo<AllocMode>& i) {
                           return i.param == AllocMode::Arena ? std::string("Arena") : std::string("New");
                         });

}  // namespace
}  // namespace spacesc
