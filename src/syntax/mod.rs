//! The language: tokens (nom), the spanned AST, and the precedence parser.

pub mod ast;
pub mod lexer;
mod parser;
pub(crate) mod record;

pub use ast::{Ast, Expr, ExprId, Program, Stmt, StmtKind, Sym};
#[cfg(test)]
pub(crate) use parser::Tree;
pub use parser::parse;
pub(crate) use parser::{Build, Parsed, parse_into, trailing_header};
