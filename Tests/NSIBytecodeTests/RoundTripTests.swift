import Foundation
import Testing
import NSIIR
@testable import NSIBytecode
import NSITestSupport

/// compile -> bytes -> decode -> verify gives the same program, field by field, and the
/// same program always gives the same bytes.
@Suite struct RoundTripTests {
    @Test(arguments: Fixtures.scripts)
    func roundTrip(script: URL) throws {
        let program = try Fixtures.program(script)
        let target = try Fixtures.target(Fixtures.model(of: script))
        let bytes = try Bytecode.encode(program)
        let decoded = try Bytecode.decode(bytes, for: target)
        #expect(decoded.params == program.params)
        #expect(decoded.blocks == program.blocks)
        #expect(decoded.saves == program.saves)
        #expect(decoded.signatureHash == program.signatureHash)
        #expect(decoded.instructions.count == program.instructions.count)
        for (a, b) in zip(decoded.instructions, program.instructions) where a != b {
            Issue.record("\(script.lastPathComponent): instruction \(b.id) differs:\n  decoded \(a)\n  original \(b)")
            break
        }
        #expect(decoded == program)
        // Deterministic, and decoding loses nothing the bytes could tell.
        #expect(try Bytecode.encode(program) == bytes)
        #expect(try Bytecode.encode(decoded) == bytes)
        try Bytecode.verify(program, for: target)
        print("plan \(script.lastPathComponent): \(bytes.count) bytes, \(program.instructions.count) instructions")
    }

    @Test func patchingPlanIsSmall() throws {
        let url = Fixtures.repository.appendingPathComponent("Samples/patching.nsi")
        let bytes = try Bytecode.encode(try Fixtures.program(url))
        print("patching.nsi plan: \(bytes.count) bytes")
        #expect(bytes.count < 16 * 1024)
    }

    /// The all-ops script reaches every opcode, so every row of the table is exercised
    /// by the round trip and accepted by the verifier as the checker writes it.
    @Test func allOpsCoversEveryOpcode() throws {
        let plan = try Lowering.lower(try Fixtures.program(Fixtures.allOps))
        let used = Set(plan.code.map(\.opcode))
        #expect(used == Set(Opcode.allCases), "missing: \(Set(Opcode.allCases).subtracting(used).map(\.info.name))")
    }

    /// Bits that Swift equality cannot see survive: -0.0, NaN payloads, and strings that
    /// are canonically equivalent but different bytes are not merged in the pools.
    @Test func bitExactConstants() throws {
        let base = try Fixtures.program(Fixtures.allOps)
        var p = base
        let span = SourceSpan(start: 0, end: 1, line: 1, column: 1)
        let anchor = Anchor(block: -1, invoke: nil, phase: .before, steps: .prompt, guardValue: nil)
        let extra: [(Op, ValueType)] = [
            (.constant(.float(-0.0)), .float), (.constant(.float(0.0)), .float),
            (.constant(.float(Double(bitPattern: 0x7FF8_0000_0000_0123))), .float),
            (.constant(.str("\u{E9}")), .str), (.constant(.str("e\u{301}")), .str),
            (.tensorConstant(shape: [2], data: [-0.0, Float(bitPattern: 0x7FC0_0042)]), .tensor(.f32, [.known(2)])),
        ]
        var instructions: [Instruction] = []
        for (op, type) in extra {
            instructions.append(Instruction(id: ValueID(instructions.count), op: op, type: type, anchor: anchor, range: span))
        }
        // Put them first and renumber the rest.
        let shift = instructions.count
        p.instructions = instructions + base.instructions.map { shifted($0, by: shift) }
        p.blocks = base.blocks
        let target = try Fixtures.target("smollm2-135m")
        let bytes = try Bytecode.encode(p)
        let decoded = try Bytecode.decode(bytes, for: target)
        #expect(try Bytecode.encode(decoded) == bytes)
        guard case .constant(.float(let z)) = decoded.instructions[0].op else { Issue.record("not a float"); return }
        #expect(z.sign == .minus && z == 0)
        guard case .constant(.float(let nan)) = decoded.instructions[2].op else { Issue.record("not a float"); return }
        #expect(nan.bitPattern == 0x7FF8_0000_0000_0123)
        guard case .constant(.str(let a)) = decoded.instructions[3].op, case .constant(.str(let b)) = decoded.instructions[4].op else {
            Issue.record("not strings"); return
        }
        #expect(Array(a.utf8) == [0xC3, 0xA9])
        #expect(Array(b.utf8) == [0x65, 0xCC, 0x81])
        guard case .tensorConstant(_, let data) = decoded.instructions[5].op else { Issue.record("not a tensor"); return }
        #expect(data.map(\.bitPattern) == [0x8000_0000, 0x7FC0_0042])
    }
}

/// The instruction with every register moved up by `n` (for programs built in tests).
func shifted(_ ins: Instruction, by n: Int) -> Instruction {
    func v(_ x: ValueID) -> ValueID { ValueID(x.index + n) }
    let op = ins.op.mapOperands(v)
    var anchor = ins.anchor
    anchor.guardValue = anchor.guardValue.map(v)
    return Instruction(id: v(ins.id), op: op, type: ins.type, anchor: anchor, range: ins.range)
}
