import NSICheck
import NSIIR
import NSISource
import NSISyntax
import NSITestSupport
import Testing
@testable import NSIVM

/// Copy elision and buffer reuse: which values are views, which are copied, and when each
/// register is let go.
@Suite struct MemoryPlanTests {
    /// The checker's program of a script for SmolLM2's signature (no weights needed).
    func checked(_ text: String) throws -> Program {
        let parsed = Parser.parse(SourceFile(path: "test.nsi", text: text))
        let result = Checker.check(parsed, signature: try Fixtures.signature("smollm2-135m"), baseDirectory: Fixtures.repository.path)
        return try #require(result.program, "\(result.diagnostics.map(\.message))")
    }

    func storage(_ text: String) throws -> (Program, MemoryPlan) {
        let p = try checked(text)
        return (p, MemoryPlan(p))
    }

    func first(_ p: Program, _ match: (Op) -> Bool) throws -> Int {
        try #require(p.instructions.firstIndex { match($0.op) })
    }

    func isRead(_ op: Op) -> Bool { if case .readPoint = op { return true }; return false }
    func isIndex(_ op: Op) -> Bool { if case .index = op { return true }; return false }

    @Test func aReadUsedUpInItsHookIsAView() throws {
        let (p, m) = try storage(#"trace "The city of" { save n = model.layers[2].output.norm() }"#)
        #expect(m.storage[try first(p, isRead)] == .view)
        #expect(m.views == 1 && m.copies == 0)
        #expect(MemoryPlan(p, elideCopies: false).storage[try first(p, isRead)] == .copy)
    }

    @Test func aSavedSliceCopiesOnlyTheSlice() throws {
        let (p, m) = try storage(#"trace "The city of" { save h = model.layers[2].output[0, -1] }"#)
        #expect(m.storage[try first(p, isRead)] == .view)
        #expect(m.storage[try first(p, isIndex)] == .copy)
        // The copied slice is 576 floats, not the [1, T, 576] read.
        let peak = m.peak(p) { _ in ["T": 4] }
        #expect(peak.peak == 576 * 4)
    }

    @Test func aSavedReadIsCopied() throws {
        let (p, m) = try storage(#"trace "The city of" { save h = model.layers[2].output }"#)
        #expect(m.storage[try first(p, isRead)] == .copy)
    }

    @Test func aValueUsedAtALaterPointIsCopied() throws {
        let (p, m) = try storage(#"""
        trace "The city of" {
            let h = model.layers[2].output.sum(-1)
            let g = model.layers[2].output
            model.layers[5].output += g
        }
        """#)
        let reads = p.instructions.indices.filter { isRead(p.instructions[$0].op) }
        #expect(reads.count == 2)
        #expect(m.storage[reads[0]] == .view)   // summed in its hook (and then unused)
        #expect(m.storage[reads[1]] == .copy)   // needed at layer 5
    }

    @Test func aWriteBeforeTheLastUseForcesACopy() throws {
        let (p, m) = try storage(#"""
        trace "The city of" {
            let h = model.layers[2].output
            model.layers[2].output[:] = 0
            save n = h.norm()
        }
        """#)
        #expect(m.storage[try first(p, isRead)] == .copy)
    }

    @Test func anotherInvokesUseIsOutsideTheHook() throws {
        let (p, m) = try storage(#"""
        trace {
            invoke "The city of" { let h = model.layers[2].output }
            invoke "A town in" { model.layers[2].output[:] = h }
        }
        """#)
        #expect(m.storage[try first(p, isRead)] == .copy)
    }

    @Test func registersAreReleasedAfterTheirLastUseInRunOrder() throws {
        let (p, m) = try storage(#"""
        trace "The city of" {
            for i in 0..<4 { save n[i] = model.layers[i].output.norm() }
        }
        """#)
        // Every tensor register is released somewhere, none is kept.
        for (i, ins) in p.instructions.enumerated() where ins.type.map({ if case .tensor = $0 { return true }; return false }) == true {
            #expect(!m.kept[i])
            #expect(m.releaseAfter.contains { $0.contains(i) })
        }
        let peak = m.peak(p) { _ in ["T": 4] }
        #expect(peak.peak < peak.total)
    }
}
