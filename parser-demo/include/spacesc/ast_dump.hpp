// ---------------------------------------------------------------------------
// ast_dump.hpp: --emit=ast, the layout of docs/toy-language.md §8.
//
// The dump reproduces the tutorial's `toyc -emit=ast` line for line (its
// quirks included: `Function ` with a trailing space, struct literals that
// start on their parent's line). It walks expressions with an explicit
// stack, so left-deep chains like `1 + 1 + ... + 1` of any length print
// without recursion.
// ---------------------------------------------------------------------------
#ifndef SPACESC_AST_DUMP_HPP
#define SPACESC_AST_DUMP_HPP

#include <spacesc/ast.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace spacesc {

/// Largest dump dump_ast() writes. The layout indents two spaces per
/// depth, so a left-deep chain of n operators dumps in O(n^2) bytes: a
/// 1 MB `1+1+...+1` would need hundreds of GB.
inline constexpr std::size_t kMaxDumpBytes = std::size_t{1} << 30;

/// Appends the dump of `module` to `out`; locations name `file`. Returns
/// false, with `out` cut short, if the dump would exceed `limit` bytes.
bool dump_ast(const ModuleDecl& module, std::string_view file, std::string& out,
              std::size_t limit = kMaxDumpBytes);

}  // namespace spacesc

#endif  // SPACESC_AST_DUMP_HPP
