import Foundation
import Testing
import NSIIR
@testable import NSIBytecode
import NSITestSupport

/// One plan per refusal: each `BytecodeError` is triggered by the smallest change to a
/// valid plan (the all-ops script's, against SmolLM2) that reaches it.
@Suite struct VerifierErrorTests {
    static let program = try! Fixtures.program(Fixtures.allOps)
    static let target = try! Fixtures.target("smollm2-135m")
    static let file = [UInt8](try! Bytecode.encode(program))

    struct Case: Sendable, CustomStringConvertible {
        let code: String
        let limits: BytecodeLimits
        let make: @Sendable () throws -> Data
        var description: String { code }
        init(_ code: String, limits: BytecodeLimits = .standard, _ make: @escaping @Sendable () throws -> Data) {
            self.code = code
            self.limits = limits
            self.make = make
        }
    }

    // MARK: Ways to make a bad plan

    /// The valid file with bytes changed.
    static func file(_ edit: (inout [UInt8]) -> Void) -> Data {
        var b = file
        edit(&b)
        return Data(b)
    }

    /// The valid plan, edited, then written and sealed (a valid container and checksum).
    static func plan(_ edit: (inout Plan) throws -> Void) throws -> Data {
        var p = try Lowering.lower(program)
        try edit(&p)
        return try Container.seal(body: try Body.write(p), signatureHash: p.signatureHash, level: 1)
    }

    /// The valid body split into sections, edited, reassembled and sealed.
    static func sections(_ edit: (inout [(tag: UInt8, content: [UInt8])]) -> Void, tail: [UInt8] = []) throws -> Data {
        let body = try Body.write(try Lowering.lower(program))
        var r = ByteReader(body, section: "test")
        var list: [(tag: UInt8, content: [UInt8])] = []
        while !r.atEnd {
            let tag = try r.u8()
            let n = try r.uint()
            list.append((tag, Array(body[r.position..<(r.position + n)])))
            r.position += n
        }
        edit(&list)
        var w = ByteWriter()
        for s in list { w.u8(s.tag); w.uint(s.content.count); w.bytes += s.content }
        return try Container.seal(body: w.bytes + tail, signatureHash: program.signatureHash, level: 1)
    }

    static func index(of tag: SectionTag, _ list: [(tag: UInt8, content: [UInt8])]) -> Int { list.firstIndex { $0.tag == tag.rawValue }! }

    static func first(_ p: Plan, _ op: Opcode, after: Int = -1) -> Int { p.code.indices.first { $0 > after && p.code[$0].opcode == op }! }

    static func typeIndex(_ p: inout Plan, _ t: PlanType) -> Int {
        if let i = p.types.firstIndex(of: t) { return i }
        p.types.append(t)
        return p.types.count - 1
    }

    static func withLimits(_ edit: (inout BytecodeLimits) -> Void) -> BytecodeLimits {
        var l = BytecodeLimits()
        edit(&l)
        return l
    }

    // MARK: The cases

    static let cases: [Case] = [
        // Container.
        Case("truncatedHeader") { file { $0.removeSubrange(50...) } },
        Case("badMagic") { file { $0[0] = UInt8(ascii: "X") } },
        Case("mangledHeader") { file { $0.remove(at: 4) } },                       // CRLF -> LF
        Case("unsupportedVersion") { file { $0[8] = 3 } },
        Case("unsupportedFlags") { file { $0[10] = 1 } },
        Case("byteOrderMismatch") { file { $0[12...15].reverse() } },
        Case("malformedSignatureHash") { file { $0[16] = UInt8(ascii: "G") } },
        Case("signatureMismatch") { Data(file) },                                  // decoded for tiny-llama3 below
        Case("bodyTooLarge", limits: withLimits { $0.maxBodyBytes = 100 }) { Data(file) },
        Case("truncatedBody") { file { $0.removeLast() } },
        Case("trailingBytes") { file { $0.append(0) } },
        Case("decompressionFailed") { file { $0[92] ^= 0xFF } },
        Case("bodySizeMismatch") { file { $0[80] &+= 1 } },
        Case("checksumMismatch") { file { $0[84] ^= 1 } },
        // Sections and pools.
        Case("missingSection") { try sections { $0.swapAt(0, 1) } },
        Case("truncatedSection") { try sections { $0[index(of: .strings, $0)].content.removeSubrange(3...) } },
        Case("sectionLengthMismatch") { try sections { $0[index(of: .strings, $0)].content.append(0) } },
        Case("trailingSections") { try sections({ _ in }, tail: [0]) },
        Case("malformedVarint") {
            try sections { s in
                let i = index(of: .strings, s)
                let count = s[i].content[0]                      // fewer than 128 strings: one byte
                s[i].content.replaceSubrange(0..<1, with: [count | 0x80, 0x00])
            }
        },
        Case("limitExceeded", limits: withLimits { $0.maxInstructions = 10 }) { Data(file) },
        Case("invalidUTF8") { try sections { $0[index(of: .strings, $0)].content[2] = 0xFF } },
        Case("unknownTag") { try sections { $0[index(of: .values, $0)].content[1] = 9 } },
        Case("nestingTooDeep", limits: withLimits { $0.maxNesting = 2 }) {
            try plan { p in
                let n = p.values.count
                p.values += [.bool(true), .list([n]), .list([n + 1])]
            }
        },
        Case("expansionTooLarge") {
            // Each list holds the previous one twice: 24 entries that write out to 2^24.
            try plan { p in
                var last = p.values.count
                p.values.append(.bool(true))
                for _ in 0..<24 { p.values.append(.list([last, last])); last = p.values.count - 1 }
                p.code[first(p, .constant)].operands[0] = .int(last)
            }
        },
        Case("poolReference") { try plan { p in p.code[first(p, .constant)].operands[0] = .int(999) } },
        Case("badTensor") { try plan { p in p.tensors[0].shape = [3] } },
        Case("badType") { try plan { p in p.types.append(.tensor(.f32, [.known(-1)])) } },
        // Tables.
        Case("duplicateName") { try plan { p in p.params.append(p.params[0]) } },
        Case("badSpan") { try plan { p in p.spans[3] = SourceSpan(start: 5, end: 2, line: 1, column: 1) } },
        Case("lineTableMismatch") { try plan { p in p.spans.removeLast() } },
        Case("badBlock") {
            try plan { p in p.blocks[2].kind = .generate(maxTokens: 0, temperature: 0, topK: nil, topP: nil, seed: 0) }
        },
        Case("badParam") { try plan { p in p.params[p.params.firstIndex { $0.binding == .compileTime }!].value = nil } },
        Case("saveMismatch") { try plan { p in p.saves.swapAt(0, 1) } },
        // Instructions.
        Case("unknownOpcode") {
            try sections { s in
                let i = index(of: .code, s)
                var r = ByteReader(s[i].content, section: "code")
                _ = try? r.uint()
                s[i].content[r.position] = 0xEE
            }
        },
        Case("forwardReference") { try plan { p in let i = first(p, .binary); p.code[i].operands[1] = .int(i + 1) } },
        Case("effectOperand") {
            try plan { p in
                let s = first(p, .save)
                p.code[first(p, .binary, after: s)].operands[1] = .int(s)
            }
        },
        Case("pointOutOfRange") { try plan { p in p.code[first(p, .readPoint)].operands[0] = .int(100_000) } },
        Case("moduleOutOfRange") { try plan { p in p.code[first(p, .skip)].operands[0] = .int(999) } },
        Case("unknownName") {
            try plan { p in
                p.strings.append("layers.99.mlp")
                p.code[first(p, .callModule)].operands[0] = .int(p.strings.count - 1)
            }
        },
        Case("blockOutOfRange") { try plan { p in p.code[first(p, .readPoint)].anchor.block = 99 } },
        Case("invokeOutOfRange") { try plan { p in p.code[first(p, .readPoint)].anchor.invoke = 99 } },
        Case("badSteps") { try plan { p in p.code[first(p, .readPoint)].anchor.steps = .only(1) } },
        Case("guardNotEarlier") { try plan { p in let i = first(p, .readPoint); p.code[i].anchor.guardValue = i } },
        Case("guardNotBool") {
            try plan { p in
                let r = first(p, .readPoint)
                p.code[first(p, .index, after: r)].anchor.guardValue = r
            }
        },
        Case("effectWithType") { try plan { p in p.code[first(p, .save)].type = 0 } },
        Case("missingType") { try plan { p in p.code[first(p, .constant)].type = nil } },
        Case("operandType") { try plan { p in p.code[first(p, .tokens)].operands[0] = .int(first(p, .readPoint)) } },
        Case("resultType") { try plan { p in let i = first(p, .readPoint); p.code[i].type = typeIndex(&p, .int) } },
        Case("axisOutOfRange") { try plan { p in p.code[first(p, .softmax)].operands[1] = .int(7) } },
        Case("badShape") { try plan { p in p.code[first(p, .fill)].operands[0] = .shape([.known(-1)]) } },
        Case("badTopK") { try plan { p in p.code[first(p, .topk)].operands[1] = .int(0) } },
        Case("badIndex") {
            try plan { p in
                let i = first(p, .index)
                guard case .index(let items) = p.code[i].operands[1] else { return }
                p.code[i].operands[1] = .index(Array(items.dropLast()))
            }
        },
        Case("misplaced") { try plan { p in let i = first(p, .readPoint); p.code[i].anchor.phase = .point(3) } },
        Case("causality") { try plan { p in p.code[first(p, .index)].anchor.phase = .point(3) } },
    ]

    @Test(arguments: cases)
    func refused(_ c: Case) throws {
        let data = try c.make()
        let target = c.code == "signatureMismatch" ? try Fixtures.target("tiny-llama3") : Self.target
        do {
            _ = try Bytecode.decode(data, for: target, limits: c.limits)
            Issue.record("\(c.code): the plan was accepted")
        } catch {
            #expect(error.code == c.code, "expected \(c.code), got \(error.code): \(error)")
        }
    }

    /// Every case of `BytecodeError` has a plan above that triggers it (`notEncodable`,
    /// which only the encoder throws, has its own test). The switch stops compiling when
    /// a case is added, so a new error cannot go untested.
    @Test func everyErrorIsTriggered() {
        func name(_ e: BytecodeError) -> String {
            switch e {
            case .truncatedHeader, .badMagic, .mangledHeader, .unsupportedVersion, .unsupportedFlags, .byteOrderMismatch,
                 .malformedSignatureHash, .signatureMismatch, .bodyTooLarge, .truncatedBody, .trailingBytes,
                 .decompressionFailed, .bodySizeMismatch, .checksumMismatch, .missingSection, .truncatedSection,
                 .sectionLengthMismatch, .trailingSections, .malformedVarint, .limitExceeded, .invalidUTF8, .unknownTag,
                 .nestingTooDeep, .expansionTooLarge, .poolReference, .badTensor, .badType, .duplicateName, .badSpan, .lineTableMismatch,
                 .badBlock, .badParam, .saveMismatch, .unknownOpcode, .forwardReference, .effectOperand, .pointOutOfRange,
                 .moduleOutOfRange, .unknownName, .blockOutOfRange, .invokeOutOfRange, .badSteps, .guardNotEarlier,
                 .guardNotBool, .effectWithType, .missingType, .operandType, .resultType, .axisOutOfRange, .badShape,
                 .badTopK, .badIndex, .misplaced, .causality, .notEncodable:
                return e.code
            }
        }
        _ = name
        let expected = 54
        #expect(Set(Self.cases.map(\.code)).count == expected)
        #expect(Self.cases.count == expected)
    }

    @Test func encoderRefusesWhatTheFormatCannotSay() throws {
        var p = Self.program
        p.instructions = Array(p.instructions.dropFirst())
        #expect(throws: BytecodeError.self) { try Bytecode.encode(p) }
        do {
            _ = try Bytecode.encode(p)
        } catch {
            #expect(error.code == "notEncodable")
        }
        var q = Self.program
        q.signatureHash = "not a hash"
        do {
            _ = try Bytecode.encode(q)
            Issue.record("encoded a plan without a signature hash")
        } catch {
            #expect(error.code == "notEncodable")
        }
    }

    /// In-memory programs get the same checks as loaded plans.
    @Test func verifyChecksProgramsInMemory() throws {
        var p = Self.program
        let i = p.instructions.firstIndex { if case .softmax = $0.op { return true }; return false }!
        let ins = p.instructions[i]
        guard case .softmax(let a, _, let log) = ins.op else { return }
        p.instructions[i] = Instruction(id: ins.id, op: .softmax(a, dim: 9, log: log), type: ins.type, anchor: ins.anchor, range: ins.range)
        do {
            try Bytecode.verify(p, for: Self.target)
            Issue.record("verified a softmax over dimension 9 of a matrix")
        } catch {
            #expect(error.code == "axisOutOfRange")
            #expect("\(error)".hasPrefix("instruction %\(i) at code offset "))
        }
        try Bytecode.verify(Self.program, for: Self.target)
    }

    @Test func messagesNameBothHashes() throws {
        let tiny = try Fixtures.target("tiny-llama3")
        do {
            _ = try Bytecode.decode(Data(Self.file), for: tiny)
            Issue.record("a plan for another model decoded")
        } catch {
            let text = "\(error)"
            #expect(text.contains(Self.program.signatureHash) && text.contains(tiny.signatureHash!))
        }
    }
}
