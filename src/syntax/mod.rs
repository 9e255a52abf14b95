//! The language: tokens (nom), the spanned AST, and the precedence parser.

pub mod ast;
pub mod lexer;
mod parser;

pub use ast::{Ast, Expr, ExprId, Program, Stmt, StmtKind, Sym};
pub use parser::parse;
pub(crate) use parser::{Build, Parsed, parse_into, trailing_header};
