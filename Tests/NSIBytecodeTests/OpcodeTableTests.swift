import Foundation
import Testing
import NSIIR
import NSITensor
@testable import NSIBytecode

/// The opcode table is the single source of truth: one row per opcode, operands that fit
/// their kinds, complete wire codes, and docs/bytecode.md generated from it.
@Suite struct OpcodeTableTests {
    @Test func oneRowPerOpcode() {
        #expect(OpcodeInfo.table.count == Opcode.allCases.count)
        #expect(Set(OpcodeInfo.table.map(\.opcode)) == Set(Opcode.allCases))
        #expect(Set(OpcodeInfo.table.map(\.name)).count == OpcodeInfo.table.count)
        for op in Opcode.allCases { #expect(op.info.opcode == op) }
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
