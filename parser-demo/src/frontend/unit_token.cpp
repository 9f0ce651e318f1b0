// ---------------------------------------------------------------------------
// unit_token.cpp: a UnitToken's description for ANTLR's debugging output.
// ---------------------------------------------------------------------------
#include "unit_token.hpp"

namespace spacesc::frontend {

std::string UnitToken::toString() const {
  const std::string type = getType() == EOF ? "EOF" : std::to_string(getType());
  return "[@" + std::to_string(index_) + "," + std::to_string(start_) + ":" + std::to_string(stop_) + ",<" + type +
         ">," + std::to_string(line_) + ":" + std::to_string(column_) + "]";
}

}  // namespace spacesc::frontend
