// ---------------------------------------------------------------------------
// ir_print.cpp: the text form of the IR (--emit=ir; docs/spacesc.md).
//
//   func @blend(%0, %1) {
//     %2 = mul %0, %1 : <*> @7:12
//     return %2
//   }
// One instruction per line; `: <dims>` gives a tensor's static shape (`<*>`
// when unknown), `: struct NAME` a struct value; `@LINE:COL` follows the
// operations that may report an evaluation error there. Numbers use %g.
// ---------------------------------------------------------------------------
#include <spacesc/ir.hpp>

#include <spacesc/tensor.hpp>

#include <cstdio>

namespace spacesc::ir {
namespace {

const char* op_name(Op op) {
  switch (op) {
    case Op::Param:
      return "param";
    case Op::Const:
      return "const";
    case Op::Add:
      return "add";
    case Op::Sub:
      return "sub";
    case Op::Mul:
      return "mul";
    case Op::Transpose:
      return "transpose";
    case Op::Reshape:
      return "reshape";
    case Op::MakeStruct:
      return "struct";
    case Op::Field:
      return "field";
    case Op::Call:
      return "call";
    case Op::Print:
      return "print";
    case Op::Return:
      return "return";
  }
  return "?";
}

void value(const Inst* i, std::string& out) {
  out += '%';
  out += std::to_string(i->number);
}

void number(double v, std::string& out) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  out += buf;
}

void instruction(const Inst& i, std::string& out) {
  out += "  ";
  if (i.type != Type::None) {
    value(&i, out);
    out += " = ";
  }
  out += op_name(i.op);
  switch (i.op) {
    case Op::Const: {
      out += ' ';
      if (i.dims.empty()) {
        number(i.data[0], out);
      } else {
        out += '[';
        for (std::size_t k = 0; k < i.data.size(); ++k) {
          if (k > 0) out += ", ";
          number(i.data[k], out);
        }
        out += ']';
      }
      break;
    }
    case Op::MakeStruct:
      out += ' ';
      out += i.name;
      out += " {";
      for (std::size_t k = 0; k < i.operands.size(); ++k) {
        if (k > 0) out += ", ";
        value(i.operands[k], out);
      }
      out += '}';
      break;
    case Op::Field:
      out += ' ';
      value(i.operands[0], out);
      out += '.';
      out += i.name;
      break;
    case Op::Call:
      out += " @";
      out += i.callee->name;
      out += '(';
      for (std::size_t k = 0; k < i.operands.size(); ++k) {
        if (k > 0) out += ", ";
        value(i.operands[k], out);
      }
      out += ')';
      break;
    default:
      for (std::size_t k = 0; k < i.operands.size(); ++k) {
        out += k == 0 ? " " : ", ";
        value(i.operands[k], out);
      }
      break;
  }
  if (i.type == Type::Tensor) {
    out += " : ";
    out += i.shape_known ? shape_text(i.dims) : "<*>";
  } else if (i.type == Type::Struct) {
    out += " : struct";
  }
  const bool may_report = i.op == Op::Add || i.op == Op::Sub || i.op == Op::Mul || i.op == Op::Reshape;
  if (may_report) {
    out += " @";
    out += std::to_string(i.loc.line);
    out += ':';
    out += std::to_string(i.loc.col);
  }
  out += '\n';
}

}  // namespace

void print_module(const Module& module, std::string& out) {
  for (const Function* f : module.functions) {
    out += "func @";
    out += f->name;
    out += '(';
    std::uint32_t params = 0;
    for (const Inst* i : f->body) {
      if (i->op != Op::Param) continue;
      if (params++ > 0) out += ", ";
      value(i, out);
    }
    out += ") {\n";
    for (const Inst* i : f->body)
      if (i->op != Op::Param) instruction(*i, out);
    out += "}\n";
  }
}

}  // namespace spacesc::ir
