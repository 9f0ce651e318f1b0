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
#include <span>
#include <string>

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

/// `%a, %b, %c`
void value_list(std::span<Inst* const> values, std::string& out) {
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k > 0) out += ", ";
    value(values[k], out);
  }
}

// ` 1.5` for a scalar, ` [1, 2, 3, 4]` for a tensor.
void constant_operands(const Inst& i, std::string& out) {
  out += ' ';
  if (i.dims.empty()) {
    number(i.data[0], out);
    return;
  }
  out += '[';
  for (std::size_t k = 0; k < i.data.size(); ++k) {
    if (k > 0) out += ", ";
    number(i.data[k], out);
  }
  out += ']';
}

// ` Pair {%1, %2}`
void struct_operands(const Inst& i, std::string& out) {
  out += ' ';
  out += i.name;
  out += " {";
  value_list(i.operands, out);
  out += '}';
}

// ` %1.name`
void field_operands(const Inst& i, std::string& out) {
  out += ' ';
  value(i.operands[0], out);
  out += '.';
  out += i.name;
}

// ` @callee(%1, %2)`
void call_operands(const Inst& i, std::string& out) {
  out += " @";
  out += i.callee->name;
  out += '(';
  value_list(i.operands, out);
  out += ')';
}

/// What follows the opcode: its operands, in the form the opcode takes.
void operands(const Inst& i, std::string& out) {
  switch (i.op) {
    case Op::Const:
      return constant_operands(i, out);
    case Op::MakeStruct:
      return struct_operands(i, out);
    case Op::Field:
      return field_operands(i, out);
    case Op::Call:
      return call_operands(i, out);
    default:
      if (!i.operands.empty()) out += ' ';
      return value_list(i.operands, out);
  }
}

// ` : <2, 2>`, ` : <*>` when the shape is unknown, ` : struct`.
void type_suffix(const Inst& i, std::string& out) {
  if (i.type == Type::Tensor) {
    out += " : ";
    out += i.shape_known ? shape_text(i.dims) : "<*>";
  } else if (i.type == Type::Struct) {
    out += " : struct";
  }
}

// ` @LINE:COL` after the operations that may report an evaluation error.
void location_suffix(const Inst& i, std::string& out) {
  const bool may_report = i.op == Op::Add || i.op == Op::Sub || i.op == Op::Mul || i.op == Op::Reshape;
  if (!may_report) return;
  out += " @";
  out += std::to_string(i.loc.line);
  out += ':';
  out += std::to_string(i.loc.col);
}

/// One line: `  %N = OPCODE OPERANDS : TYPE @LOC`.
void instruction(const Inst& i, std::string& out) {
  out += "  ";
  if (i.type != Type::None) {
    value(&i, out);
    out += " = ";
  }
  out += op_name(i.op);
  operands(i, out);
  type_suffix(i, out);
  location_suffix(i, out);
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
