// ---------------------------------------------------------------------------
// Toy.g4: the syntax of the Toy language (docs/toy-language.md §2, §3).
//
// This file is the single source of the syntax: spacesc generates its C++
// lexer and parser from it at build time (parser-demo/CMakeLists.txt). Its
// only target-language code names the rule contexts' base class (below).
// Rules the grammar cannot state are checked as rules complete by the AST
// builder (parser-demo/src/frontend/builder.cpp: print's argument count,
// rectangular tensor literals, shape dimensions) and as tokens arrive by the
// token window (frontend/token_window.cpp: bad bytes, number formats).
//
// To free memory as it goes, the unit parser (frontend/unit_parser.cpp)
// runs the two outer loops itself (module's definitions, funcDef's
// bodyItems) and calls structDef, funcHead and bodyItem one at a time,
// dropping ANTLR's contexts and tokens after each; `module` and `funcDef`
// state what those loops accept. spacesc never calls those two rules, but
// they are real rules, not comments: the benchmark's baseline
// (bench/spacesc/default_antlr.cpp) parses a whole file with `module`, the
// way ANTLR is usually driven.
//
// Memory, not syntax: every rule context class derives from
// spacesc::UnitRuleContext (parser-demo/src/frontend/unit_rule_context.hpp),
// whose operator new places contexts in the unit's heap so --mem-cap counts
// them.
// ---------------------------------------------------------------------------
grammar Toy;

options { contextSuperClass = UnitRuleContext; }

@parser::postinclude { #include "unit_rule_context.hpp" }

// ---- Definitions ----------------------------------------------------------

module     : ( structDef | funcDef )* EOF ;

structDef  : STRUCT IDENT '{' ( member ';' )+ '}' ;
member     : VAR IDENT shape?                        # tensorMember
           | IDENT IDENT                             # structMember
           ;

funcDef    : funcHead bodyItem* '}' ;
funcHead   : DEF IDENT '(' ( param ( ',' param )* )? ')' '{' ;
param      : IDENT                                   # tensorParam
           | IDENT IDENT                             # structParam
           ;

// A body is { ";" } { statement ";" { ";" } }: any sequence of these items.
bodyItem   : statement ';'
           | ';'
           ;

// ---- Statements -----------------------------------------------------------

statement  : VAR IDENT shape? '=' expr               # varDecl
           | IDENT IDENT '=' expr                    # typedDecl
           | RETURN expr?                            # returnStmt
           | IDENT '(' args? ')'                     # callStmt
           | exprHead                                # exprStmt
           ;

// An expression statement must not start with an identifier (§3.3).
exprHead   : exprStart ( '.' primary )* ( '*' access )* ( ( '+' | '-' ) multiplicative )* ;
exprStart  : NUMBER                                  # numberStart
           | '(' expr ')'                            # parenStart
           | tensorLit                               # tensorStart
           | structLit                               # structStart
           ;

shape      : '<' ( NUMBER ( ',' NUMBER )* )? '>' ;

// ---- Expressions ----------------------------------------------------------

expr           : additive ;
additive       : multiplicative ( ( '+' | '-' ) multiplicative )* ;
multiplicative : access ( '*' access )* ;
access         : primary ( '.' primary )* ;
primary        : IDENT '(' args? ')'                 # callExpr
               | IDENT                               # varExpr
               | NUMBER                              # numberExpr
               | '(' expr ')'                        # parenExpr
               | tensorLit                           # tensorExpr
               | structLit                           # structExpr
               ;
args           : expr ( ',' expr )* ;

// A literal's numbers sit directly in its tensorLit, with no rule context
// and no terminal node each (UnitToyParser::consume hands them to the
// builder): a 1,000,000-number literal costs its tokens and its values.
tensorLit  : '[' ( NUMBER | tensorLit ) ( ',' ( NUMBER | tensorLit ) )* ']' ;
structLit  : '{' structItem ( ',' structItem )* '}' ;
structItem : NUMBER
           | tensorLit
           | structLit
           ;

// ---- Tokens (§2.3) -------------------------------------------------------

DEF    : 'def' ;
VAR    : 'var' ;
RETURN : 'return' ;
STRUCT : 'struct' ;
IDENT  : [a-zA-Z] [a-zA-Z0-9_]* ;
NUMBER : [0-9] [0-9.]* ;                 // more than one '.' is rejected by the builder

LPAREN : '(' ;  RPAREN : ')' ;  LBRACE : '{' ;  RBRACE : '}' ;
LBRACK : '[' ;  RBRACK : ']' ;  LT : '<' ;  GT : '>' ;
COMMA  : ',' ;  SEMI : ';' ;  ASSIGN : '=' ;
PLUS   : '+' ;  MINUS : '-' ;  STAR : '*' ;  DOT : '.' ;

WS      : [ \t\n\r\u000B\u000C]+ -> skip ;
COMMENT : '#' ~[\n]* -> skip ;
// Any other byte is a lexical error at that byte (§2.5); the builder reports it.
BAD     : . ;
