// ---------------------------------------------------------------------------
// byte_stream.hpp: the unit's bytes as the lexer's character stream.
//
// ANTLRInputStream decodes UTF-8 into a u32string (4x the input) and throws
// on invalid UTF-8. ByteStream reads the bytes where the driver put them,
// one symbol (0..255) per byte: columns are byte columns, as
// docs/toy-language.md §2.1 wants, and invalid UTF-8 is just bytes that the
// lexer turns into BAD tokens.
// ---------------------------------------------------------------------------
#ifndef SPACESC_FRONTEND_BYTE_STREAM_HPP
#define SPACESC_FRONTEND_BYTE_STREAM_HPP

#include <spacesc/source.hpp>

#include <antlr4-runtime.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace spacesc::frontend {

/// A CharStream over `file.text`, which must outlive it. No marks: the
/// lexer never seeks back.
class ByteStream final : public antlr4::CharStream {
 public:
  explicit ByteStream(const SourceFile& file) : text_(file.text), name_(file.name) {}

  void consume() override;
  std::size_t LA(ssize_t i) override;
  ssize_t mark() override { return -1; }
  void release(ssize_t) override {}
  std::size_t index() override { return p_; }
  void seek(std::size_t index) override;
  std::size_t size() override { return text_.size(); }
  std::string getSourceName() const override { return std::string(name_); }
  std::string getText(const antlr4::misc::Interval& interval) override;
  std::string toString() const override { return std::string(text_); }

 private:
  std::string_view text_;
  std::string_view name_;
  std::size_t p_ = 0;
};

}  // namespace spacesc::frontend

#endif  // SPACESC_FRONTEND_BYTE_STREAM_HPP
