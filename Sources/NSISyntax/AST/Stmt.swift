import NSISource

/// A whole script: params, blocks and (rejected later by the checker) anything else.
public struct Script: Equatable, Sendable {
    public var statements: [Stmt]
    public var range: SourceRange
}

/// A statement and its source range. The parser accepts every statement anywhere;
/// where each may appear (params at the top, invokes in a trace, steps in a generate)
/// is a static rule of the checker (docs/language.md, "Static rules").
public struct Stmt: Equatable, Sendable {
    public var kind: Kind
    public var range: SourceRange

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    public indirect enum Kind: Equatable, Sendable {
        case param(ParamDecl)
        case trace(TraceBlock)
        case generate(GenerateBlock)
        case invoke(InvokeBlock)
        case step(StepBlock)
        case eachStep(EachStepBlock)
        /// `let name = value`, `save name[i] = value`.
        case binding(Binding)
        /// `target = value`, `target += value`, ...
        case assign(Assignment)
        case skip(SkipStmt)
        /// `backward m`: the invoke's reverse pass starts from the scalar `m`.
        case backward(Expr)
        /// `seed 42`: the seed of the script's default random streams. `seed` is a word of
        /// this statement only (a name anywhere else), so the statement is `seed` followed
        /// on its line by an integer or a name.
        case seed(Expr)
        case forLoop(ForLoop)
        case ifElse(IfStmt)
        /// `...` alone: a statement that does nothing, as in Python.
        case placeholder
        /// An expression used as a statement; always reported (E0108), kept for tools.
        case expression(Expr)
    }
}

/// `{ statements }`. `closeBrace` is nil when the `}` is missing.
public struct Block: Equatable, Sendable {
    public var statements: [Stmt]
    public var openBrace: SourceRange
    public var closeBrace: SourceRange?

    public var range: SourceRange { openBrace.union(closeBrace ?? lastRange) }

    private var lastRange: SourceRange { statements.last?.range ?? openBrace }
}

/// `param name: type = default`; the default is optional (the value must then be given
/// when compiling or running).
public struct ParamDecl: Equatable, Sendable {
    public var name: Identifier
    public var type: TypeExpr
    public var defaultValue: Expr?
}

/// `int`, `float`, `bool`, `str`, `tensor[d, ...]`, `f32[d, ...]`, `i32[d, ...]`.
public struct TypeExpr: Equatable, Sendable {
    public var name: Identifier
    /// The known type the name spells; nil for an unknown name (reported, E0118).
    public var typeName: TypeName?
    /// Nil when no `[...]` was written.
    public var dimensions: [Expr]?
    public var range: SourceRange
}

public enum TypeName: String, CaseIterable, Sendable {
    case int, float, bool, str
    /// `tensor` is `f32`; `i32` and `i64` hold token ids and indices.
    case tensor, f32, i32, i64

    public var isScalar: Bool {
        switch self {
        case .int, .float, .bool, .str: true
        case .tensor, .f32, .i32, .i64: false
        }
    }
}

public enum BindingKind: String, Sendable {
    case `let`, save
}

/// `let name = value`, `let c[l] = value`, `save lens[l, h] = value`.
public struct Binding: Equatable, Sendable {
    public var kind: BindingKind
    public var name: Identifier
    /// The indices of an indexed name; empty for a plain name.
    public var indices: [Expr]
    public var value: Expr
}

public struct Assignment: Equatable, Sendable {
    public var target: Expr
    public var op: AssignOperator
    public var operatorRange: SourceRange
    public var value: Expr
}

public struct SkipStmt: Equatable, Sendable {
    public var module: Expr
}

/// `for variable in sequence { body }`; the sequence is a range or a list.
public struct ForLoop: Equatable, Sendable {
    public var variable: Identifier
    public var sequence: Expr
    public var body: Block
}

public struct IfStmt: Equatable, Sendable {
    public var condition: Expr
    public var then: Block
    public var elseClause: ElseClause?
}

public indirect enum ElseClause: Equatable, Sendable {
    case block(Block)
    case elseIf(IfStmt, range: SourceRange)
}
