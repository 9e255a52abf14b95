//! The abstract syntax tree: a flat arena in post-order, so that a child always
//! comes before its parent, dropping never recurses, and lowering is one loop.

use crate::error::Span;
use crate::gate::Op;

/// A handle on an expression node of an [`Ast`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExprId(pub u32);

impl ExprId {
    /// The node's position in the arena.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A name, interned: the same text is the same `Sym` throughout a program, so
/// that lowering binds names by index instead of hashing strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

impl Sym {
    /// The name's position in its [`Names`] table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A name of at most 8 bytes as one number: its bytes, little-endian, the
/// rest zero (a name never holds a zero byte, so no two names share a key).
/// Generated programs name their stages `h123` and `w4_567`: hashing and
/// comparing one number instead of a string made interning a quarter as
/// expensive, and interning had been a tenth of a `--summary` run. The
/// parser interns names by it, and the gate table finds functions by it.
pub(crate) fn short_key(src: &[u8], span: Span) -> Option<u64> {
    let (start, end) = (span.start as usize, span.end as usize);
    let len = end - start;
    if len > 8 {
        return None;
    }
    let mut bytes = [0u8; 8];
    match src.get(start..start + 8) {
        // Eight bytes at once, then only the name's kept.
        Some(window) => {
            bytes.copy_from_slice(window);
            let all = u64::from_le_bytes(bytes);
            Some(if len == 8 {
                all
            } else {
                all & ((1u64 << (8 * len)) - 1)
            })
        }
        None => {
            bytes[..len].copy_from_slice(&src[start..end]);
            Some(u64::from_le_bytes(bytes))
        }
    }
}

/// The distinct names of a program, in order of first appearance, stored in
/// one buffer: a million-stage program makes two allocations here, not a
/// million.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Names {
    text: String,
    ends: Vec<u32>,
}

impl Names {
    /// Appends a name that is not in the table yet and returns its symbol.
    pub fn push(&mut self, name: &str) -> Sym {
        let sym = Sym(self.ends.len() as u32);
        self.text.push_str(name);
        self.ends.push(self.text.len() as u32);
        sym
    }

    /// The text of a name.
    pub fn get(&self, sym: Sym) -> &str {
        let k = sym.index();
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        &self.text[start..self.ends[k] as usize]
    }

    /// How many distinct names.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Keeps the first `len` names, forgetting the rest (see
    /// [`crate::syntax::Build::rollback`]).
    pub(crate) fn truncate(&mut self, len: usize) {
        if len < self.ends.len() {
            self.text
                .truncate(len.checked_sub(1).map_or(0, |k| self.ends[k] as usize));
            self.ends.truncate(len);
        }
    }

    /// True when there is no name.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every name with its symbol, in order of first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (Sym, &str)> {
        (0..self.ends.len()).map(|k| (Sym(k as u32), self.get(Sym(k as u32))))
    }
}

/// An expression node.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A numeric literal.
    Num(f64),
    /// A name: a parameter or an earlier stage ([`Ast::name`] gives its text).
    Name(Sym),
    /// An operator or function applied to arguments (`args` indexes [`Ast::args`]);
    /// indexing is [`Op::Index`] with the base first.
    Apply {
        /// The gate it becomes.
        op: Op,
        /// The first argument's position in [`Ast::args`].
        start: u32,
        /// How many arguments.
        len: u32,
    },
}

/// All expression nodes of a program, children before parents.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ast {
    nodes: Vec<Expr>,
    spans: Vec<Span>,
    args: Vec<ExprId>,
    /// The names the nodes (and the statements) refer to.
    pub names: Names,
    /// What the parser noticed about literals: one too large or too small for a
    /// 64-bit float, at most [`Ast::MAX_NOTES`] of them (kept here also when
    /// the parser builds gates rather than nodes).
    pub notes: Vec<String>,
    /// How many more such literals there were.
    pub notes_dropped: usize,
}

impl Ast {
    /// The most literal notes kept; a million overflowing literals make one note
    /// and a count, not a million notes.
    pub const MAX_NOTES: usize = 20;

    /// Notes a literal whose text `text` became `x`: too large (inf) or too small
    /// (0 from a nonzero mantissa) for a 64-bit float. Once per literal text.
    pub fn note_literal(&mut self, text: &str, x: f64) {
        let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
        // A literal is ASCII; a very long one is shown by its ends and length.
        let (shown, close) = if text.len() > 40 {
            let digits = text.bytes().filter(u8::is_ascii_digit).count();
            (
                format!("{}…{}", &text[..16], &text[text.len() - 8..]),
                format!(" ({digits} digits)"),
            )
        } else {
            (text.to_string(), String::new())
        };
        let note = if x.is_infinite() {
            format!("the literal `{shown}`{close} is too large for a 64-bit float and becomes inf")
        } else if x == 0.0 && mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
            format!("the literal `{shown}`{close} is too small for a 64-bit float and becomes 0")
        } else {
            return;
        };
        if self.notes.contains(&note) {
        } else if self.notes.len() < Ast::MAX_NOTES {
            self.notes.push(note);
        } else {
            self.notes_dropped += 1;
        }
    }

    /// Adds a node whose children (if any) are already in the arena.
    pub fn push(&mut self, expr: Expr, span: Span) -> ExprId {
        let id = ExprId(u32::try_from(self.nodes.len()).unwrap_or(u32::MAX));
        self.nodes.push(expr);
        self.spans.push(span);
        id
    }

    /// Adds an application of `op` to `args`, all of which are already in the arena.
    pub fn apply(&mut self, op: Op, args: &[ExprId], span: Span) -> ExprId {
        let start = self.args.len() as u32;
        debug_assert!(
            args.iter().all(|a| a.index() < self.nodes.len()),
            "post-order"
        );
        self.args.extend_from_slice(args);
        self.push(
            Expr::Apply {
                op,
                start,
                len: args.len() as u32,
            },
            span,
        )
    }

    /// Keeps the first `len` nodes, forgetting the rest and their lists of
    /// arguments (see [`crate::syntax::Build::rollback`]).
    pub(crate) fn truncate(&mut self, len: usize) {
        let args = self
            .nodes
            .get(len..)
            .unwrap_or_default()
            .iter()
            .find_map(|e| match e {
                Expr::Apply { start, .. } => Some(*start as usize),
                _ => None,
            });
        if let Some(start) = args {
            self.args.truncate(start);
        }
        self.nodes.truncate(len);
        self.spans.truncate(len);
    }

    /// The node.
    pub fn expr(&self, id: ExprId) -> &Expr {
        &self.nodes[id.index()]
    }

    /// The text of a name.
    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(sym)
    }

    /// The node's place in the source.
    pub fn span(&self, id: ExprId) -> Span {
        self.spans[id.index()]
    }

    /// The arguments of an [`Expr::Apply`] node; empty for leaves.
    pub fn args(&self, id: ExprId) -> &[ExprId] {
        match self.expr(id) {
            Expr::Apply { start, len, .. } => &self.args[*start as usize..(*start + *len) as usize],
            _ => &[],
        }
    }

    /// How many nodes the arena holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the arena holds no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Prints the expression `id` with every operator bracketed — `-x^2` prints as
    /// `(-(x ^ 2))` — which is how the parser tests pin precedence down.
    pub fn bracketed(&self, id: ExprId) -> String {
        crate::print::print(id, |n| self.print_node(n), crate::print::Brackets::All)
    }

    /// Prints the expression `id` with only the brackets it needs.
    pub fn to_source(&self, id: ExprId) -> String {
        crate::print::print(id, |n| self.print_node(n), crate::print::Brackets::Needed)
    }

    fn print_node(&self, id: ExprId) -> crate::print::Node<'_, ExprId> {
        use crate::print::Node;
        match self.expr(id) {
            Expr::Num(x) => Node::Leaf(crate::print::number(*x).into()),
            Expr::Name(n) => Node::Leaf(self.name(*n).into()),
            Expr::Apply { op, .. } => Node::Apply(*op, self.args(id).iter().copied().collect()),
        }
    }
}

/// What kind of statement.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `f(x, y) = …`: names the output and fixes the parameter order.
    Header {
        /// The parameters in order, with their places.
        params: Vec<(Sym, Span)>,
    },
    /// `q = …`: an intermediate that keeps its name.
    Stage,
    /// A bare expression.
    Expr,
}

/// One statement of a program.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// Header, stage or bare expression.
    pub kind: StmtKind,
    /// The name a header or stage gives, with its place.
    pub name: Option<(Sym, Span)>,
    /// The right-hand side.
    pub body: ExprId,
    /// The first arena node of this statement: its nodes are `first..=body`.
    pub first: ExprId,
    /// The whole statement's place.
    pub span: Span,
}

/// A parsed program: statements over one arena.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    /// The expression arena.
    pub ast: Ast,
    /// The statements in order; the last is the output.
    pub stmts: Vec<Stmt>,
}

impl Program {
    /// The header statement, if the program has one.
    pub fn header(&self) -> Option<&Stmt> {
        self.stmts
            .iter()
            .find(|s| matches!(s.kind, StmtKind::Header { .. }))
    }
}
