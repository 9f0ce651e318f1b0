// ---------------------------------------------------------------------------
// tensor.cpp: element-wise arithmetic, transposition and printing.
// ---------------------------------------------------------------------------
#include <spacesc/tensor.hpp>

#include <cstdio>
#include <vector>

namespace spacesc {

void elementwise(ElementOp op, std::span<const double> a, std::span<const double> b, std::span<double> out) noexcept {
  switch (op) {
    case ElementOp::Add:
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = a[i] + b[i];
      break;
    case ElementOp::Sub:
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = a[i] - b[i];
      break;
    case ElementOp::Mul:
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = a[i] * b[i];
      break;
  }
}

void transpose_into(std::span<const std::uint64_t> dims, std::span<const double> in, std::span<double> out) {
  const std::size_t rank = dims.size();
  if (rank < 2) {
    std::copy(in.begin(), in.end(), out.begin());
    return;
  }
  // Strides of the result, whose dims are `dims` reversed: the element at
  // index (i_1..i_n) of `in` goes to (i_n..i_1) of `out`.
  std::vector<std::uint64_t> out_stride(rank);
  std::uint64_t s = 1;
  for (std::size_t k = 0; k < rank; ++k) {  // result dim j = rank-1-k has size dims[k]
    out_stride[k] = s;                      // stride of result dim (rank-1-k), applied to input index k
    s *= dims[k];
  }
  std::vector<std::uint64_t> idx(rank, 0);
  std::uint64_t dst = 0;
  for (std::size_t flat = 0; flat < in.size(); ++flat) {
    out[dst] = in[flat];
    // Advance the input multi-index (last dimension fastest) and dst with it.
    for (std::size_t k = rank; k-- > 0;) {
      ++idx[k];
      dst += out_stride[k];
      if (idx[k] < dims[k]) break;
      dst -= out_stride[k] * dims[k];
      idx[k] = 0;
    }
  }
}

std::string shape_text(std::span<const std::uint64_t> dims) {
  std::string s = "<";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + ">";
}

void format_tensor(std::span<const std::uint64_t> dims, std::span<const double> data, std::string& out) {
  // After element number c (1-based), one newline per outer loop whose
  // iteration ends there: for each j < rank-1, when c is a multiple of the
  // product of the dims after j.
  std::vector<std::uint64_t> block;
  std::uint64_t p = 1;
  for (std::size_t j = dims.size(); j-- > 1;) {
    p *= dims[j];
    block.push_back(p);  // innermost first
  }
  // The longest "%f " of a double: sign, 309 digits, '.', 6 digits, ' '.
  char buf[400];
  for (std::size_t i = 0; i < data.size(); ++i) {
    const int n = std::snprintf(buf, sizeof buf, "%f ", data[i]);
    out.append(buf, static_cast<std::size_t>(n));
    const std::uint64_t c = i + 1;
    for (std::uint64_t b : block) {
      if (c % b != 0) break;
      out.push_back('\n');
    }
  }
}

}  // namespace spacesc
