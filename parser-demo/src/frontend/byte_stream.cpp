// ---------------------------------------------------------------------------
// byte_stream.cpp: ByteStream's moves and reads over the unit's bytes.
// ---------------------------------------------------------------------------
#include "byte_stream.hpp"

#include <algorithm>

namespace spacesc::frontend {

void ByteStream::consume() {
  if (p_ >= text_.size()) throw antlr4::IllegalStateException("cannot consume EOF");
  ++p_;
}

std::size_t ByteStream::LA(ssize_t i) {
  if (i == 0) return 0;
  const ssize_t pos = i > 0 ? static_cast<ssize_t>(p_) + i - 1 : static_cast<ssize_t>(p_) + i;
  if (pos < 0 || static_cast<std::size_t>(pos) >= text_.size()) return antlr4::IntStream::EOF;
  return static_cast<unsigned char>(text_[static_cast<std::size_t>(pos)]);
}

void ByteStream::seek(std::size_t index) { p_ = std::min(index, text_.size()); }

std::string ByteStream::getText(const antlr4::misc::Interval& interval) {
  if (interval.a < 0 || interval.b < interval.a) return {};
  const auto a = static_cast<std::size_t>(interval.a);
  if (a >= text_.size()) return {};
  return std::string(text_.substr(a, static_cast<std::size_t>(interval.b - interval.a) + 1));
}

}  // namespace spacesc::frontend
