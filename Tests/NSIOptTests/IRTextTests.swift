import Foundation
import NSIIR
import Testing
@testable import NSIOpt

/// The IR's text form: every sample's program prints and parses back to itself, and the
/// passes are tested as input IR -> expected IR, with no front end and no model.
@Suite struct IRTextTests {
    /// Instructions compared without their source spans (text has none).
    static func same(_ a: Program, _ b: Program) -> Bool {
        a.signatureHash == b.signatureHash && a.blocks.map(\.kind) == b.blocks.map(\.kind)
            && a.blocks.map { $0.invokes.map(\.prompts) } == b.blocks.map { $0.invokes.map(\.prompts) }
            && a.params.map(\.name) == b.params.map(\.name) && a.params.map(\.value) == b.params.map(\.value)
            && a.params.map(\.type) == b.params.map(\.type) && a.saves.map(\.key) == b.saves.map(\.key)
            && a.instructions.map(\.op) == b.instructions.map(\.op) && a.instructions.map(\.type) == b.instructions.map(\.type)
            && a.instructions.map(\.anchor) == b.instructions.map(\.anchor)
    }

    @Test(arguments: try FileManager.default.contentsOfDirectory(atPath: Scripts.samples.path).filter { $0.hasSuffix(".nsi") }.sorted())
    func samplesRoundTrip(_ name: String) throws {
        let text = try String(contentsOf: Scripts.samples.appendingPathComponent(name), encoding: .utf8)
        for program in [try Scripts.program(text, name: name), try Optimizer.optimize(try Scripts.program(text, name: name)).0] {
            let printed = IRText.print(program)
            let parsed = try IRText.parse(printed)
            #expect(Self.same(parsed, program), "\(name) does not read back:\n\(printed)")
            #expect(IRText.print(parsed) == printed)
        }
    }

    /// Every op kind, every anchor form, and floats that only read back bit for bit if
    /// written with care (-0.0, 0.1 as f32, infinities).
    @Test func everyFormRoundTrips() throws {
        let text = """
        signature abc123
        param "prompt": str run = "a \\"quoted\\" prompt"
        param "k": int compile = 3
        param "v": f32[2] run tensor [2] [0.1, -0.0]
        save "h.3": f32[1, T, 4]
        save "p": topk[1, 2]
        save "mixed": list(int, float)
        block trace
          invoke rows 1 prompts ["x", "y"]
        block generate max_tokens 4 temperature 0.7 top_k none top_p 0.9 seed 5
          invoke rows 1 param "prompt"
        %0 = const [1, 2.5, true, "s"] : list(int, float, bool, str)
        %1 = tensor [2] [inf, -inf] : f32[2]
        %2 = param "prompt" : str
        %3 = read 12 : f32[1, T, 4] @ block 0 invoke 0 point 12 step 0
        %4 = index %3 [%0, gather %0, %0:%0:%0, :, %0:] : f32[2] @ block 0 invoke 0 point 12 step 0
        %5 = reduce argmax %3 dim none keepdim : i64[1, 1, 1] @ block 0 invoke 0 point 12 step 0
        %6 = softmax %3 dim -1 log : f32[1, T, 4] @ block 0 invoke 0 point 12 step 0 if %5
        %7 = topk %3 k 2 dim 2 : topk[1, T, 2] @ block 0 invoke 0 point 12 step 0
        %8 = topk.values %7 : f32[1, T, 2] @ block 0 invoke 0 point 12 step 0
        %9 = reshape %3 [T, 4] : f32[T, 4] @ block 0 invoke 0 point 12 step 0
        %10 = squeeze %3 none : f32[T, 4] @ block 0 invoke 0 point 12 step 0
        %11 = cast %3 bool : bool[1, T, 4] @ block 0 invoke 0 point 12 step 0
        %12 = cat [%3, %3] dim 0 : f32[2, T, 4] @ block 0 invoke 0 point 12 step 0
        %13 = where %11 %3 %3 : f32[1, T, 4] @ block 0 invoke 0 point 12 step 0
        %14 = fill [2, S] -0.0 : f32[2, S] @ block 1 before steps 1 ...
        %15 = call "norm" %3 : f32[1, T, 4] @ block 0 invoke 0 point 12 step 0
        %16 = write 12 [:, %0] add %8 @ block 0 invoke 0 point 12 step 0
        %17 = result.ids : i64[1, L] @ block 1 invoke 0 after steps 0 ..< 4
        %18 = skip 3 @ block 1 invoke 0 before steps 2 ...
        %19 = save "h.3" %3 @ block 0 invoke 0 point 12 step 0
        %20 = binary matmul %3 %9 : f32[1, T, 4] @ block 0 invoke 0 point 12 step 0
        %21 = unary neg %20 : f32[1, T, 4] @ block 0 invoke 0 point 12 step 0
        """
        let program = try IRText.parse(text)
        #expect(program.instructions.count == 22)
        #expect(IRText.print(program) == text + "\n")
        #expect(program.params[2].tensorDefault?.data.map(\.bitPattern) == [Float(0.1).bitPattern, Float(-0.0).bitPattern])
        guard case .fill(_, let z) = program.instructions[14].op else { Issue.record("not a fill"); return }
        #expect(z == 0 && z.sign == .minus)
        #expect(program.instructions[18].anchor.steps == .range(2, nil))
    }

    @Test func errorsNameTheLineAndWhatWasExpected() {
        func error(_ text: String) -> String {
            do { _ = try IRText.parse(text); return "parsed" } catch { return error.description }
        }
        #expect(error("%0 = const 1 : int\n%2 = const 2 : int").hasPrefix("line 2: expected %1 next, got %2"))
        #expect(error("%0 = frobnicate %1").hasPrefix("line 1: unknown op `frobnicate`"))
        #expect(error("%0 = read 3 : f32[1] @ block 0 point").hasPrefix("line 1: expected an integer"))
        #expect(error("invoke rows 1").hasPrefix("line 1: an invoke outside every block"))
        #expect(error("%0 = const 1 : int trailing").contains("unexpected text"))
        #expect(error("param \"p: int run").contains("unterminated string"))
    }

    // MARK: Passes, as IR in and IR out

    static func run(_ pass: Pass, _ input: String) throws -> (String, Int) {
        let program = try IRText.parse(input)
        try Verifier.verify(program, after: "input")
        let (out, changed) = pass.run(program)
        try Verifier.verify(out, after: pass.name)
        return (IRText.print(out), changed)
    }

    static let header = """
    signature s
    block trace
      invoke rows 1 prompts ["x"]
      invoke rows 1 prompts ["y"]

    """

    @Test func dceKeepsEffectsParamsAndWhatTheyUse() throws {
        let (out, removed) = try Self.run(.dce, Self.header + """
        %0 = param "scale" : float
        %1 = const 2.0 : float
        %2 = read 3 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %3 = binary mul %2 %1 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %4 = read 5 : f32[1, T, 4] @ block 0 invoke 0 point 5 step 0
        %5 = save "h" %3 @ block 0 invoke 0 point 3 step 0
        """)
        #expect(removed == 1)
        #expect(out == Self.header + """
        %0 = param "scale" : float
        %1 = const 2.0 : float
        %2 = read 3 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %3 = binary mul %2 %1 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %4 = save "h" %3 @ block 0 invoke 0 point 3 step 0

        """)
    }

    /// Two alike reads of one invoke merge; a read of the other invoke, or one after a
    /// write to the point, does not; -0.0 and 0.0 stay apart.
    @Test func cseMergesOnlyWhatIsTheSame() throws {
        let (out, merged) = try Self.run(.cse, Self.header + """
        %0 = const 0.0 : float
        %1 = const -0.0 : float
        %2 = const 0.0 : float
        %3 = read 3 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %4 = read 3 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %5 = read 3 : f32[1, T, 4] @ block 0 invoke 1 point 3 step 0
        %6 = write 3 [:, :, :] set %0 @ block 0 invoke 0 point 3 step 0
        %7 = read 3 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %8 = binary add %4 %1 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %9 = binary add %3 %1 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %10 = save "a" %8 @ block 0 invoke 0 point 3 step 0
        %11 = save "b" %9 @ block 0 invoke 0 point 3 step 0
        %12 = save "c" %5 @ block 0 invoke 1 point 3 step 0
        %13 = save "d" %7 @ block 0 invoke 0 point 3 step 0
        %14 = save "e" %2 @ block 0 invoke 0 point 3 step 0
        """)
        // %2 (= %0), %4 (= %3) and %9 (= %8) merge.
        #expect(merged == 3)
        #expect(out == Self.header + """
        %0 = const 0.0 : float
        %1 = const -0.0 : float
        %2 = read 3 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %3 = read 3 : f32[1, T, 4] @ block 0 invoke 1 point 3 step 0
        %4 = write 3 [:, :, :] set %0 @ block 0 invoke 0 point 3 step 0
        %5 = read 3 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %6 = binary add %2 %1 : f32[1, T, 4] @ block 0 invoke 0 point 3 step 0
        %7 = save "a" %6 @ block 0 invoke 0 point 3 step 0
        %8 = save "b" %6 @ block 0 invoke 0 point 3 step 0
        %9 = save "c" %3 @ block 0 invoke 1 point 3 step 0
        %10 = save "d" %5 @ block 0 invoke 0 point 3 step 0
        %11 = save "e" %0 @ block 0 invoke 0 point 3 step 0

        """)
    }

    @Test func foldComputesConstantsAndLeavesTraps() throws {
        let (out, folded) = try Self.run(.fold, Self.header + """
        %0 = const 2 : int
        %1 = const 3 : int
        %2 = binary mul %0 %1 : int
        %3 = const 0 : int
        %4 = binary mod %0 %3 : int
        %5 = save "a" %2 @ block 0 before step 0
        %6 = save "b" %4 @ block 0 before step 0
        """)
        #expect(folded == 1)
        #expect(out.contains("%2 = const 6 : int\n"))
        #expect(out.contains("%4 = binary mod %0 %3 : int\n"))
    }

    /// The verifier refuses IR that breaks causality: a value used before its point.
    @Test func theVerifierRefusesAValueFromALaterPoint() throws {
        let program = try IRText.parse(Self.header + """
        %0 = read 5 : f32[1, T, 4] @ block 0 invoke 0 point 5 step 0
        %1 = write 3 [:, :, :] set %0 @ block 0 invoke 0 point 3 step 0
        """)
        #expect(throws: VerifierError.self) { try Verifier.verify(program, after: "input") }
    }
}
