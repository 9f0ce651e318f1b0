// ---------------------------------------------------------------------------
// tensor.hpp: tensor arithmetic shared by constant folding and the
// interpreter, and the print format of docs/toy-language.md §6.
//
// Both users must compute bit-identical results (one rounding per
// operation, no fused multiply-add: the library is compiled with
// -ffp-contract=off), so the arithmetic lives here once.
// ---------------------------------------------------------------------------
#ifndef SPACESC_TENSOR_HPP
#define SPACESC_TENSOR_HPP

#include <cstdint>
#include <span>
#include <string>

namespace spacesc {

/// An element-wise binary operation.
enum class ElementOp : std::uint8_t { Add, Sub, Mul };

/// out[i] = a[i] OP b[i] for i < out.size().
void elementwise(ElementOp op, std::span<const double> a, std::span<const double> b, std::span<double> out) noexcept;

/// Writes the transpose of a tensor of shape `dims` (any rank) into `out`:
/// out at (i_n, ..., i_1) is in at (i_1, ..., i_n). O(elements x rank).
void transpose_into(std::span<const std::uint64_t> dims, std::span<const double> in, std::span<double> out);

/// `<d1, d2>` (and `<>` for a scalar).
std::string shape_text(std::span<const std::uint64_t> dims);

/// Appends what `print` writes for a tensor (docs/toy-language.md §6) to
/// `out`.
void format_tensor(std::span<const std::uint64_t> dims, std::span<const double> data, std::string& out);

}  // namespace spacesc

#endif  // SPACESC_TENSOR_HPP
