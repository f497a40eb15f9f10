import Foundation
import Testing
import NSIIR
import NSITensor
@testable import NSIBytecode
import NSITestSupport

/// The opcode table is the single source of truth: one row per opcode, operands that fit
/// their kinds, complete wire codes, and docs/bytecode.md generated from it.
@Suite struct OpcodeTableTests {
    @Test func oneRowPerOpcode() {
        #expect(OpcodeInfo.table.count == Opcode.allCases.count)
        #expect(Set(OpcodeInfo.table.map(\.opcode)) == Set(Opcode.allCases))
        #expect(Set(OpcodeInfo.table.map(\.name)).count == OpcodeInfo.table.count)
        for op in Opcode.allCases { #expect(op.info.opcode == op) }
    }

    /// The IR half of the table (NSIIR's `OpTraits`) agrees with the wire half: effects
    /// and only effects have no result; an op that may alias or keeps operands has a
    /// register operand; gradients are said of effects exactly; names are unique.
    @Test func traitsAgreeWithTheWireRows() {
        for k in OpKind.allCases {
            let t = k.traits, row = k.info
            #expect(t.kind == k)
            #expect((t.role == .effect) == (row.result == .effect), "\(t.name): role \(t.role), result \(row.result)")
            #expect((t.gradient == .effect) == (t.role == .effect), "\(t.name)")
            if t.aliases {
                guard case .reg = row.operands.first?.kind else { Issue.record("\(t.name) aliases but has no register first"); continue }
            }
            if t.keepsOperands { #expect(row.operands.contains { if case .reg = $0.kind { return true }; return false }, "\(t.name)") }
        }
        #expect(Set(OpKind.allCases.map(\.traits.name)).count == OpKind.allCases.count)
    }

    /// Every op of the all-ops program has its kind's row, and the derived properties
    /// follow the rows: a view's aliased operand is its first, effects are exactly the
    /// effect role, ops with no gradient are not differentiable.
    @Test func derivedPropertiesFollowTheRows() throws {
        let program = try Fixtures.program(Fixtures.allOps)
        var kinds = Set<OpKind>()
        for ins in program.instructions {
            let op = ins.op
            kinds.insert(op.kind)
            #expect(op.isEffect == (ins.type == nil), "\(op.label())")
            #expect(op.aliasedOperand == (op.traits.aliases ? op.operands.first : nil))
            if op.traits.gradient == .none { #expect(!op.isDifferentiable) }
        }
        // The all-ops fixture covers every kind but the generation results, which it reads in a generate block.
        #expect(kinds.count >= OpKind.allCases.count - 2, "kinds missing from all_ops.nsi: \(Set(OpKind.allCases).subtracting(kinds).map(\.traits.name))")
    }

    @Test func wireCodesCoverEveryCase() {
        #expect(Set(WireCodes.unary) == Set(UnaryFn.allCases) && WireCodes.unary.count == UnaryFn.allCases.count)
        #expect(Set(WireCodes.binary) == Set(BinaryFn.allCases) && WireCodes.binary.count == BinaryFn.allCases.count)
        #expect(Set(WireCodes.reduce) == Set(ReduceFn.allCases) && WireCodes.reduce.count == ReduceFn.allCases.count)
        #expect(Set(WireCodes.dtypes) == Set(DType.allCases) && WireCodes.dtypes.count == DType.allCases.count)
        // AssignFn is not CaseIterable: an exhaustive switch stops compiling on a new case.
        for fn in WireCodes.assign {
            switch fn { case .set, .add, .sub, .mul, .div: break }
        }
        #expect(Set(WireCodes.assign.map(\.rawValue)).count == 5)
    }

    /// What the lowering produces for each opcode has the table's operand layout: every
    /// operand of every instruction of the all-ops plan writes under its kind.
    @Test func loweredOperandsFitTheirKinds() throws {
        let plan = try Lowering.lower(try Fixtures.program(Fixtures.allOps))
        for ins in plan.code {
            let specs = ins.opcode.info.operands
            #expect(specs.count == ins.operands.count, "\(ins.opcode.info.name)")
            var w = ByteWriter()
            for (spec, operand) in zip(specs, ins.operands) {
                #expect(throws: Never.self) { try Body.writeOperand(operand, spec.kind, &w) }
            }
        }
    }

    @Test func docsMatchTheTable() throws {
        let url = Fixtures.repository.appendingPathComponent("docs/bytecode.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let begin = "<!-- opcodes:begin -->\n", end = "<!-- opcodes:end -->"
        let head = try #require(text.range(of: begin)), tail = try #require(text.range(of: end))
        let current = String(text[head.upperBound..<tail.lowerBound])
        let generated = Bytecode.reference()
        if ProcessInfo.processInfo.environment["NSI_RECORD_GOLDEN"] == "1" {
            try (String(text[..<head.upperBound]) + generated + String(text[tail.lowerBound...])).write(to: url, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == generated, "docs/bytecode.md's opcode list differs from the table; run with NSI_RECORD_GOLDEN=1")
        for row in OpcodeInfo.table { #expect(current.contains("`\(row.name)`")) }
    }
}
