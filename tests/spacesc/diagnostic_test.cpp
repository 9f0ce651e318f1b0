// ---------------------------------------------------------------------------
// diagnostic_test.cpp: every error kind of docs/toy-language.md §7.4-7.6 at
// its exact position, the reporting order of §7.3, and "no output after an
// error" (§7.2).
//
// Each test compiles a small program named t.toy and checks the first line
// of stderr exactly, the empty stdout and the exit status.
// ---------------------------------------------------------------------------
#include "test_util.hpp"

#include <gtest/gtest.h>

namespace spacesc {
namespace {

using test::compile;
using test::first_line;

/// The first diagnostic of a program that must fail with status 1.
std::string first_error(const std::string& source) {
  const UnitResult r = compile(source);
  EXPECT_EQ(r.status, ExitStatus::Errors) << source;
  EXPECT_EQ(r.out, "") << source;
  return first_line(r.err);
}

// ---- Lexical and syntax errors ----

// An assignment is not a statement: the error is at the '='.
TEST(DiagnosticTest, StatementStartingWithNameFailsAtSecondToken) {
  EXPECT_EQ(first_error("def main() {\n  a = 3;\n}\n"), "t.toy:2:5: error: unexpected '='");
  EXPECT_EQ(first_error("def main() {\n  a + b;\n}\n"), "t.toy:2:5: error: unexpected '+'");
}

// A call statement must end at its ')': `f(x) + 1;` fails at '+'.
TEST(DiagnosticTest, CallStatementFollowedByOperatorFailsAtOperator) {
  EXPECT_EQ(first_error("def f(x) { return x; }\ndef main() {\n  f(1) + 1;\n}\n"),
            "t.toy:3:8: error: expected ';' after a statement, found '+'");
}

// `var x;` lacks its initializer: the error is at the ';'.
TEST(DiagnosticTest, VarWithoutInitializerFailsAtSemicolon) {
  EXPECT_EQ(first_error("def main() {\n  var x;\n}\n"), "t.toy:2:8: error: expected '=', found ';'");
}

// A missing '}' is reported at the end-of-file position after the last newline.
TEST(DiagnosticTest, UnclosedBodyFailsAtEndOfFile) {
  EXPECT_EQ(first_error("def main() {\n  print(1);\n"),
            "t.toy:3:1: error: expected '}' at the end of the function body, found end of file");
  EXPECT_EQ(first_error("def main() {\n  print(1)"),
            "t.toy:2:11: error: expected ';' after a statement, found end of file");
}

// print takes exactly one argument, reported at the print identifier.
TEST(DiagnosticTest, PrintArityIsASyntaxErrorAtPrint) {
  EXPECT_EQ(first_error("def main() {\n  print(1, 2);\n}\n"),
            "t.toy:2:3: error: print takes exactly one argument, found 2");
  EXPECT_EQ(first_error("def main() {\n  var a = 1 + print();\n}\n"),
            "t.toy:2:15: error: print takes exactly one argument, found 0");
}

// A ragged literal fails at the '[' of the list whose items disagree.
TEST(DiagnosticTest, RaggedLiteralFailsAtOuterBracket) {
  EXPECT_EQ(first_error("def main() {\n  var t = [[1, 2], [3]];\n}\n"),
            "t.toy:2:11: error: the items of this tensor literal do not have the same shape");
  EXPECT_EQ(first_error("def main() {\n  var t = [[1], 2];\n}\n"),
            "t.toy:2:11: error: the items of this tensor literal do not have the same shape");
  EXPECT_EQ(first_error("def main() {\n  var t = [[[1], [2]], [[1, 2], [3]]];\n}\n"),
            "t.toy:2:24: error: the items of this tensor literal do not have the same shape");
}

// An empty literal fails at its ']'.
TEST(DiagnosticTest, EmptyLiteralFailsAtClosingBracket) {
  EXPECT_EQ(first_error("def main() {\n  var t = [];\n}\n"),
            "t.toy:2:12: error: expected number or '[' in a tensor literal, found ']'");
}

// Bad bytes are lexical errors at the byte; non-ASCII bytes are named in hex.
TEST(DiagnosticTest, BadCharactersFailAtTheirByte) {
  EXPECT_EQ(first_error("def main() {\n  x @ y;\n}\n"), "t.toy:2:5: error: unexpected character '@'");
  EXPECT_EQ(first_error("def main() {\n  var _a = 1;\n}\n"), "t.toy:2:7: error: unexpected character '_'");
  EXPECT_EQ(first_error("def main() {\n  var \xc3\xa9 = 1;\n}\n"), "t.toy:2:7: error: unexpected byte 0xC3");
}

// Numbers with two dots, or too large for a double, fail at their first byte.
TEST(DiagnosticTest, MalformedNumbersFailAtFirstByte) {
  EXPECT_EQ(first_error("def main() {\n  print(1.2.3);\n}\n"), "t.toy:2:9: error: malformed number '1.2.3'");
  EXPECT_EQ(first_error("def main() {\n  print(1" + std::string(400, '0') + ");\n}\n"),
            "t.toy:2:9: error: number too large");
}

// `1e3` is the number 1 followed by the identifier e3.
TEST(DiagnosticTest, ExponentNotationFailsAtTheIdentifier) {
  EXPECT_EQ(first_error("def main() {\n  print(1e3);\n}\n"),
            "t.toy:2:10: error: expected ')', found identifier 'e3'");
}

// Shape dimensions must be whole numbers of at least 1, and commas are required.
TEST(DiagnosticTest, BadDimensionsFailAtTheDimension) {
  EXPECT_EQ(first_error("def main() {\n  var a<2, 0> = 1;\n}\n"),
            "t.toy:2:12: error: a dimension must be a whole number of at least 1");
  EXPECT_EQ(first_error("def main() {\n  var a<2.5> = 1;\n}\n"),
            "t.toy:2:9: error: a dimension must be a whole number of at least 1");
  EXPECT_EQ(first_error("def main() {\n  var a<2 3> = 1;\n}\n"), "t.toy:2:11: error: expected '>' in a shape, found number '3'");
}

// A dimension is checked as it is read, so it is the statement's first and
// only syntax error even when the shape goes on wrong; the next statement
// gets its own. In a struct the dimension ends the definition.
TEST(DiagnosticTest, BadDimensionIsTheStatementsOnlyError) {
  EXPECT_EQ(compile("def main() {\n  var a<0, 2 = 1;\n}\n").err,
            "t.toy:2:9: error: a dimension must be a whole number of at least 1\n  var a<0, 2 = 1;\n        ^\n");
  EXPECT_EQ(compile("def main() {\n  var a<2., 2 = 1;\n  print(1 2);\n}\n").err,
            "t.toy:2:9: error: a dimension must be a whole number of at least 1\n  var a<2., 2 = 1;\n        ^\n"
            "t.toy:3:11: error: expected ')', found number '2'\n  print(1 2);\n          ^\n");
  EXPECT_EQ(compile("struct S {\n  var a<0>;\n  var b<2 3>;\n}\ndef main() { }\n").err,
            "t.toy:2:9: error: a dimension must be a whole number of at least 1\n  var a<0>;\n        ^\n");
}

// A dimension too large for 64 bits is an error at it, so no dump or
// message shows a number other than the one written; 2^64 - 1 is one.
TEST(DiagnosticTest, DimensionTooLargeFailsAtTheDimension) {
  Options ast;
  ast.emit = Emit::Ast;
  const UnitResult r = compile("def main() {\n  var a<2, 99999999999999999999999> = 1;\n}\n", ast);
  EXPECT_EQ(r.status, ExitStatus::Errors);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "t.toy:2:12: error: a dimension must be at most 18446744073709551615\n"
            "  var a<2, 99999999999999999999999> = 1;\n           ^\n");
  const UnitResult max = compile("def main() {\n  var a<18446744073709551615> = 1;\n}\n", ast);
  EXPECT_EQ(max.status, ExitStatus::Ok);
  EXPECT_EQ(max.out,
            "  Module:\n    Function \n      Proto 'main' @t.toy:1:1\n      Params: []\n      Block {\n"
            "        VarDecl a<18446744073709551615> @t.toy:2:3\n          1.000000e+00 @t.toy:2:33\n"
            "      } // Block\n");
}

// After an error inside a struct literal the parser skips to the `;` at the
// statement's own depth: the literal's `}` is not taken for the end of the
// body, so no bogus error follows at top level, and the statements and the
// function after it get their own first errors.
TEST(DiagnosticTest, RecoveryInsideStructLiteralSkipsTheStatement) {
  const UnitResult r = compile(
      "struct P {\n  var a;\n  var b;\n}\ndef main() {\n  P p = {1, x};\n  print(1 +);\n"
      "  P q = {1, {2 3}};\n  print(p.a);\n}\ndef f() {\n  return 1 2;\n}\n");
  EXPECT_EQ(r.status, ExitStatus::Errors);
  EXPECT_EQ(r.err,
            "t.toy:6:13: error: expected number, '{' or '[' in a struct literal, found identifier 'x'\n"
            "  P p = {1, x};\n            ^\n"
            "t.toy:7:12: error: expected identifier, number, '(', '{' or '[', found ')'\n"
            "  print(1 +);\n           ^\n"
            "t.toy:8:16: error: expected '}' in a struct literal, found number '3'\n"
            "  P q = {1, {2 3}};\n               ^\n"
            "t.toy:12:12: error: expected ';' after a statement, found number '2'\n"
            "  return 1 2;\n           ^\n");
}

// Top level admits only definitions.
TEST(DiagnosticTest, StrayTopLevelTokenFailsAtIt) {
  EXPECT_EQ(first_error("var a = 1;\ndef main() { }\n"),
            "t.toy:1:1: error: expected 'def' or 'struct' at top level, found 'var'");
}

// Lexical and syntax errors are reported in file order, every statement's first one.
TEST(DiagnosticTest, AllSyntaxErrorsAreReportedInFileOrder) {
  const UnitResult r = compile("def main() {\n  a = 3;\n  x @ y;\n  print(1, 2);\n}\n");
  EXPECT_EQ(r.err,
            "t.toy:2:5: error: unexpected '='\n  a = 3;\n    ^\n"
            "t.toy:3:5: error: unexpected character '@'\n  x @ y;\n    ^\n"
            "t.toy:3:8: error: expected '=', found ';'\n  x @ y;\n       ^\n"
            "t.toy:4:3: error: print takes exactly one argument, found 2\n  print(1, 2);\n  ^\n");
}

// The note after the hundredth error means one was dropped: exactly 100
// errors, syntax or static, come without it.
TEST(DiagnosticTest, TooManyErrorsNoteOnlyWhenOneIsDropped) {
  const std::pair<std::string, std::string> kinds[] = {
      {"  a = 1;\n", ":5: error: unexpected '='\n  a = 1;\n    ^\n"},
      {"  print(x);\n", ":9: error: unknown variable 'x'\n  print(x);\n        ^\n"},
  };
  for (const auto& [statement, diagnostic] : kinds) {
    for (const int n : {100, 101}) {
      std::string source = "def main() {\n", expected;
      for (int i = 0; i < n; ++i) source += statement;
      for (int line = 2; line < 102; ++line) expected += "t.toy:" + std::to_string(line) + diagnostic;
      if (n > 100) expected += "t.toy: note: too many errors; stopped\n";
      EXPECT_EQ(compile(source + "}\n").err, expected) << statement << n;
    }
  }
}

// ---- Static errors ----

// Names that are not visible variables fail at the identifier; own initializers cannot see the name.
TEST(DiagnosticTest, UnknownVariableFailsAtIdentifier) {
  EXPECT_EQ(first_error("def main() {\n  print(x);\n}\n"), "t.toy:2:9: error: unknown variable 'x'");
  EXPECT_EQ(first_error("def main() {\n  var a = a + 1;\n}\n"), "t.toy:2:11: error: unknown variable 'a'");
}

// Calls to later functions and recursion are unknown functions at the callee.
TEST(DiagnosticTest, UnknownFunctionFailsAtCallee) {
  EXPECT_EQ(first_error("def main() {\n  f(1);\n}\ndef f(x) { return x; }\n"),
            "t.toy:2:3: error: unknown function 'f'");
  EXPECT_EQ(first_error("def f(x) {\n  return f(x);\n}\ndef main() { }\n"),
            "t.toy:2:10: error: unknown function 'f'");
}

// Wrong argument counts of user functions and transpose fail at the callee.
TEST(DiagnosticTest, ArityFailsAtCallee) {
  EXPECT_EQ(first_error("def f(a, b) { return a; }\ndef main() {\n  print(f(1));\n}\n"),
            "t.toy:3:9: error: function 'f' takes 2 arguments, found 1");
  EXPECT_EQ(first_error("def main() {\n  print(transpose(1, 2));\n}\n"),
            "t.toy:2:9: error: transpose takes 1 argument, found 2");
}

// Redefinitions fail at the start of the second definition.
TEST(DiagnosticTest, RedefinitionsFailAtSecondDefinition) {
  EXPECT_EQ(first_error("struct S { var a; }\nstruct S { var b; }\ndef main() { }\n"),
            "t.toy:2:1: error: struct 'S' is already defined");
  EXPECT_EQ(first_error("def f() { }\ndef f() { }\ndef main() { }\n"),
            "t.toy:2:1: error: function 'f' is already defined");
  EXPECT_EQ(first_error("struct S { var a; }\ndef f(a, S a) { }\ndef main() { }\n"),
            "t.toy:2:10: error: variable 'a' is already declared");
  EXPECT_EQ(first_error("struct S {\n  var a;\n  S2 a;\n}\ndef main() { }\n"),
            "t.toy:3:3: error: unknown struct type 'S2'");
  EXPECT_EQ(first_error("struct S {\n  var a;\n  var a;\n}\ndef main() { }\n"),
            "t.toy:3:3: error: member 'a' is already declared in struct 'S'");
  EXPECT_EQ(first_error("def f(x) {\n  var x = 1;\n}\ndef main() { }\n"),
            "t.toy:2:3: error: variable 'x' is already declared");
  EXPECT_EQ(first_error("def print(x) { }\ndef main() { }\n"),
            "t.toy:1:1: error: 'print' is a builtin and cannot be redefined");
  EXPECT_EQ(first_error("def main() { }\ndef transpose(x) { return x; }\n"),
            "t.toy:2:1: error: 'transpose' is a builtin and cannot be redefined");
}

// Struct types must be defined before use, wherever a type name appears.
TEST(DiagnosticTest, UnknownStructFailsAtTypeName) {
  EXPECT_EQ(first_error("def f(P p) { }\nstruct P { var a; }\ndef main() { }\n"),
            "t.toy:1:7: error: unknown struct type 'P'");
  EXPECT_EQ(first_error("def main() {\n  P p = {1};\n}\n"), "t.toy:2:3: error: unknown struct type 'P'");
  EXPECT_EQ(first_error("struct A {\n  A next;\n}\ndef main() { }\n"), "t.toy:2:3: error: unknown struct type 'A'");
}

// Kind mismatches fail at the operator, the declaration, the callee or the '{'.
TEST(DiagnosticTest, TypeErrorsFailWhereTheTableSays) {
  const std::string s = "struct P { var a; var b; }\nstruct Q { var a; var b; }\n";
  EXPECT_EQ(first_error(s + "def main() {\n  P p = {1, 2};\n  print(p + 1);\n}\n"),
            "t.toy:5:11: error: the operands of '+' must be tensors, found a 'P' and a tensor");
  EXPECT_EQ(first_error(s + "def main() {\n  P p = {1, 2};\n  var x = p;\n}\n"),
            "t.toy:5:3: error: a 'var' declaration needs a tensor; declare 'x' with its struct type");
  EXPECT_EQ(first_error(s + "def main() {\n  P p = {1, 2};\n  Q q = p;\n}\n"),
            "t.toy:5:3: error: cannot initialise a 'Q' with a 'P'");
  EXPECT_EQ(first_error(s + "def main() {\n  P p = {1, 2, 3};\n}\n"),
            "t.toy:4:3: error: the struct literal does not match struct 'P'");
  EXPECT_EQ(first_error(s + "def main() {\n  var x = {1, 2};\n}\n"),
            "t.toy:4:11: error: a struct literal may only initialise a declaration of a struct type");
  EXPECT_EQ(first_error(s + "def f(P p) { }\ndef main() {\n  Q q = {1, 2};\n  f(q);\n}\n"),
            "t.toy:6:3: error: argument 1 of 'f' must be a 'P', found a 'Q'");
  EXPECT_EQ(first_error(s + "def main() {\n  P p = {1, 2};\n  print(transpose(p));\n}\n"),
            "t.toy:5:9: error: transpose needs a tensor, found a 'P'");
  EXPECT_EQ(first_error("struct S {\n  var a<2>;\n}\ndef main() { }\n"),
            "t.toy:2:3: error: a struct member cannot have a shape");
}

// A struct kind's article follows how its name is read: a one-letter name
// as its letter, a longer one by its first letter.
TEST(DiagnosticTest, StructKindsTakeAOrAn) {
  const std::string s =
      "struct S { var a; }\nstruct Item { var a; }\nstruct P { var a; }\nstruct Pair { var a; }\n"
      "def f(Item i) { }\ndef main() {\n  S s = {1};\n  Item i = {1};\n  P p = {1};\n  Pair q = {1};\n";
  EXPECT_EQ(first_error(s + "  print(s);\n}\n"), "t.toy:11:3: error: print needs a tensor, found an 'S'");
  EXPECT_EQ(first_error(s + "  print(i);\n}\n"), "t.toy:11:3: error: print needs a tensor, found an 'Item'");
  EXPECT_EQ(first_error(s + "  print(p);\n}\n"), "t.toy:11:3: error: print needs a tensor, found a 'P'");
  EXPECT_EQ(first_error(s + "  print(q);\n}\n"), "t.toy:11:3: error: print needs a tensor, found a 'Pair'");
  EXPECT_EQ(first_error(s + "  Item j = s;\n}\n"), "t.toy:11:3: error: cannot initialise an 'Item' with an 'S'");
  EXPECT_EQ(first_error(s + "  f(q);\n}\n"), "t.toy:11:3: error: argument 1 of 'f' must be an 'Item', found a 'Pair'");
}

// Static messages cut the names they quote as syntax messages do: 32 bytes,
// then `...`, so a megabyte identifier makes a short message.
TEST(DiagnosticTest, LongNamesAreCutInStaticMessages) {
  const std::string name = "B" + std::string(1 << 20, 'x');
  const std::string cut = "'B" + std::string(31, 'x') + "...'";
  EXPECT_EQ(first_error("def main() {\n  print(" + name + ");\n}\n"), "t.toy:2:9: error: unknown variable " + cut);
  EXPECT_EQ(first_error("struct " + name + " { var a; }\ndef main() {\n  " + name + " s = {1};\n  print(s);\n}\n"),
            "t.toy:4:3: error: print needs a tensor, found a " + cut);
}

// Member access needs a struct on the left and a member name on the right, reported at '.'.
TEST(DiagnosticTest, MemberErrorsFailAtTheDot) {
  const std::string s = "struct P { var a; }\ndef main() {\n  P p = {1};\n";
  EXPECT_EQ(first_error(s + "  print(p.b);\n}\n"), "t.toy:4:10: error: struct 'P' has no member 'b'");
  EXPECT_EQ(first_error(s + "  var t = 1;\n  print(t.a);\n}\n"),
            "t.toy:5:10: error: '.' needs a struct value on its left, found a tensor");
  EXPECT_EQ(first_error(s + "  print(p.(a));\n}\n"), "t.toy:4:10: error: expected a member name after '.'");
}

// Using the result of a no-value function, or of print, fails at the callee.
TEST(DiagnosticTest, NoValueFailsAtCallee) {
  EXPECT_EQ(first_error("def show(x) { print(x); }\ndef main() {\n  var a = show(1);\n}\n"),
            "t.toy:3:11: error: function 'show' returns no value");
  EXPECT_EQ(first_error("def main() {\n  var a = print(1);\n}\n"), "t.toy:2:11: error: print produces no value");
}

// A file without main fails at 1:1, after every other static error.
TEST(DiagnosticTest, MissingMainFailsAtFirstPosition) {
  EXPECT_EQ(first_error("def f() { }\n"), "t.toy:1:1: error: the program has no 'main' function");
  EXPECT_EQ(first_error(""), "t.toy:1:1: error: the program has no 'main' function");
  const UnitResult r = compile("def f() {\n  print(x);\n}\n");
  EXPECT_EQ(first_line(r.err), "t.toy:2:9: error: unknown variable 'x'");
}

// main takes no parameters (at its def) and returns nothing (at the return).
TEST(DiagnosticTest, MainSignatureErrors) {
  EXPECT_EQ(first_error("def main(a) { }\n"), "t.toy:1:1: error: 'main' takes no parameters");
  EXPECT_EQ(first_error("def main() {\n  return 1;\n}\n"), "t.toy:2:3: error: 'main' cannot return a value");
}

// ---- Order and effects ----

// Syntax errors come before static errors, static errors before evaluation errors.
TEST(DiagnosticTest, PhasesReportInOrder) {
  EXPECT_EQ(first_error("def main() {\n  print(x);\n  a = 1;\n}\n"), "t.toy:3:5: error: unexpected '='");
  EXPECT_EQ(first_error("def main() {\n  print([1] + [1, 2]);\n  print(x);\n}\n"),
            "t.toy:3:9: error: unknown variable 'x'");
}

// Within a call, the arguments are checked before the call itself.
TEST(DiagnosticTest, ArgumentsBeforeCallee) {
  EXPECT_EQ(first_error("def main() {\n  g(x);\n}\n"), "t.toy:2:5: error: unknown variable 'x'");
}

// A program with an error prints nothing, not even the prints before it.
TEST(DiagnosticTest, ErrorSuppressesEarlierOutput) {
  const UnitResult r = compile("def main() {\n  print(1);\n  var m<3> = [1, 2];\n}\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(first_line(r.err), "t.toy:3:3: error: cannot reshape <2> (2 elements) to <3>");
}

// Shape errors in functions are reported in the function, for the first call that fails.
TEST(DiagnosticTest, ShapeErrorInCalleeIsReportedInCallee) {
  EXPECT_EQ(first_error("def add(a, b) {\n  return a + b;\n}\ndef main() {\n  print(add(1, 2));\n  print(add([1], 2));\n}\n"),
            "t.toy:2:12: error: shape mismatch for '+': <1> and <>");
}

// Dead statements and uncalled functions are never checked beyond syntax.
TEST(DiagnosticTest, DeadCodeIsNotChecked) {
  const UnitResult r = compile(
      "def never(a) {\n  return [1] + [1, 2];\n}\ndef main() {\n  print(2);\n  return;\n  print(x);\n}\n");
  EXPECT_EQ(r.status, ExitStatus::Ok);
  EXPECT_EQ(r.out, "2.000000 ");
}

}  // namespace
}  // namespace spacesc
