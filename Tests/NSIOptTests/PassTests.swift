import Foundation
import NSICheck
import NSIIR
import NSIModel
import NSISource
import NSISyntax
import Testing
@testable import NSIOpt
import NSITestSupport

enum Scripts {
    static let samples = Fixtures.repository.appendingPathComponent("Samples")

    /// The checked (unoptimized) program of a script for SmolLM2.
    static func program(_ text: String, name: String = "test.nsi") throws -> Program {
        let parsed = Parser.parse(SourceFile(path: name, text: text))
        let result = Checker.check(parsed, signature: try Fixtures.signature("smollm2-135m"), baseDirectory: samples.path)
        guard let program = result.program else {
            Issue.record("\(name) does not check: \(result.diagnostics.map(\.message))")
            throw CancellationError()
        }
        return program
    }

    static func optimized(_ text: String) throws -> (Program, [PassReport]) {
        try Optimizer.optimize(try program(text))
    }
}

extension Program {
    func count(_ match: (Op) -> Bool) -> Int { instructions.filter { match($0.op) }.count }
    var reads: [Int] { instructions.compactMap { if case .readPoint(let p) = $0.op { return p }; return nil } }
    var floatConstants: [Double] { instructions.compactMap { if case .constant(.float(let f)) = $0.op { return f }; return nil } }
}

@Suite struct PassTests {
    @Test func foldComputesScalarArithmetic() throws {
        let (p, reports) = try Scripts.optimized("""
            trace "The city of" {
                let a = 2.0 * 3.0 + 1.0
                model.layers[3].output[:, -1] *= a
            }
            """)
        #expect(reports.map(\.pass) == ["fold", "cse", "dce"])
        #expect(reports[0].changed >= 2, "\(reports)")
        #expect(p.floatConstants.contains(7.0))
        // The operands 2.0, 3.0 and 6.0 fed nothing else: dce removed them.
        #expect(!p.floatConstants.contains(2.0) && !p.floatConstants.contains(6.0))
        #expect(p.count { if case .binary = $0 { return true }; return false } == 0)
    }

    @Test func foldLeavesNegativeZeroNaNInfinityAndTraps() throws {
        let (p, reports) = try Scripts.optimized("""
            trace "The city of" {
                model.layers[3].output[:, -1] *= 0.0 * -1.0
                model.layers[4].output[:, -1] *= 1.0 / 0.0
                model.layers[5].output[:, -1] *= 0.0 / 0.0
                model.layers[6].output[:, -1] *= 2.0 * 0.5
            }
            """)
        // Only 2.0 * 0.5 folds; -0.0, inf and NaN are left for the run to compute.
        #expect(!p.floatConstants.contains { $0 == 0 && $0.sign == .minus })
        #expect(!p.floatConstants.contains { !$0.isFinite })
        #expect(p.count { if case .binary(.mul, _, _) = $0 { return true }; return false } == 1)
        #expect(p.count { if case .binary(.div, _, _) = $0 { return true }; return false } == 2)
        #expect(reports[0].changed == 1, "\(reports)")
    }

    @Test func foldUnitRules() {
        #expect(Pass.foldBinary(.mul, .float(0), .float(-1), .float) == nil)
        #expect(Pass.foldBinary(.div, .float(1), .float(0), .float) == nil)
        #expect(Pass.foldBinary(.mod, .int(7), .int(0), .int) == nil)
        #expect(Pass.foldBinary(.mod, .int(-7), .int(3), .int) == .int(2))
        #expect(Pass.foldBinary(.add, .int(Int.max), .int(1), .int) == nil)
        #expect(Pass.foldBinary(.pow, .float(10), .float(400), .float) == nil)
        #expect(Pass.foldBinary(.lt, .int(1), .float(2), .bool) == .bool(true))
        #expect(Pass.foldBinary(.div, .int(1), .int(4), .float) == .float(0.25))
        #expect(Pass.foldUnary(.neg, .float(0), .float) == nil)
        #expect(Pass.foldUnary(.log, .float(0), .float) == nil)
        #expect(Pass.foldUnary(.neg, .int(Int.min), .int) == nil)
        #expect(Pass.foldUnary(.tanh, .float(0), .float) == .float(0))
    }

    @Test func cseMergesIdenticalReadsOfOneInvoke() throws {
        let text = """
            trace "The city of" {
                let x = model.layers[3].output[0, -1]
                let y = model.layers[3].output[0, -1]
                save s = x + y
            }
            """
        let before = try Scripts.program(text)
        let (p, reports) = try Optimizer.optimize(before)
        #expect(before.reads.count == 2)
        #expect(p.reads.count == 1)
        #expect(p.count { if case .index = $0 { return true }; return false } == 1)
        #expect(reports[1].changed >= 2, "\(reports)")
        guard case .binary(.add, let a, let b)? = p.instructions.first(where: { if case .binary = $0.op { return true }; return false })?.op else {
            Issue.record("no add"); return
        }
        #expect(a == b)
    }

    @Test func cseKeepsReadsAcrossAWrite() throws {
        let (p, _) = try Scripts.optimized("""
            trace "The city of" {
                let x = model.layers[3].output[0, -1]
                model.layers[3].output[:, -1] = 0
                let y = model.layers[3].output[0, -1]
                save s = x - y
            }
            """)
        #expect(p.reads.count == 2)
    }

    @Test func cseKeepsReadsOfDifferentInvokes() throws {
        let (p, _) = try Scripts.optimized("""
            trace {
                invoke "The city of" { save a = model.layers[3].output[0, -1] }
                invoke "The town of" { save b = model.layers[3].output[0, -1] }
            }
            """)
        #expect(p.reads.count == 2)
    }

    @Test func dceRemovesUnusedReads() throws {
        let text = """
            trace "The city of" {
                let unused = model.layers[5].output
                save h = model.layers[2].output[0, -1]
            }
            """
        let before = try Scripts.program(text)
        let (p, reports) = try Optimizer.optimize(before)
        #expect(before.reads.count == 2)
        #expect(p.reads.count == 1)
        #expect(p.reads.max()! < before.reads.max()!)
        #expect(reports[2].changed == 1, "\(reports)")
        // Ids stay dense: the VM and the bytecode index registers by id.
        #expect(p.instructions.enumerated().allSatisfy { $0.offset == $0.element.id.index })
    }

    @Test func verifierRejectsABrokenProgram() throws {
        var p = try Scripts.program("""
            trace "The city of" { save h = model.layers[2].output[0, -1] }
            """)
        let last = p.instructions.count - 1
        let save = p.instructions[last]
        // A use of the instruction itself: not defined before it.
        p.instructions[last] = Instruction(id: save.id, op: .save(key: "h", save.id), type: nil, anchor: save.anchor, range: save.range)
        #expect(throws: VerifierError.self) { try Verifier.verify(p, after: "hand") }
        let broken = Pass(name: "break", verb: "broken") { program in
            var q = program
            let ins = q.instructions[0]
            q.instructions[0] = Instruction(id: ValueID(5), op: ins.op, type: ins.type, anchor: ins.anchor, range: ins.range)
            return (q, 1)
        }
        do {
            _ = try Optimizer.optimize(try Scripts.program("trace \"The city of\" { save h = model.layers[2].output[0, -1] }"), passes: [.fold, broken])
            Issue.record("the verifier let a broken pass through")
        } catch let error as VerifierError {
            #expect(error.pass == "break")
            #expect(error.description.contains("after pass break"))
        }
    }

    @Test(arguments: ((try? FileManager.default.contentsOfDirectory(atPath: Scripts.samples.path)) ?? []).filter { $0.hasSuffix(".nsi") }.sorted())
    func everySampleOptimizes(sample: String) throws {
        let text = try String(contentsOf: Scripts.samples.appendingPathComponent(sample), encoding: .utf8)
        let before = try Scripts.program(text, name: sample)
        let (p, reports) = try Optimizer.optimize(before)
        print("\(sample): \(Optimizer.summary(reports))")
        #expect(p.instructions.count <= before.instructions.count)
        #expect(p.saves == before.saves)
        #expect(p.count { $0.isEffect } == before.count { $0.isEffect })
    }
}
