/// Where in the code an instruction failed verification: its register and the byte
/// offset of its opcode in the code section (the disassembler's first column).
public struct CodeLocation: Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public let offset: Int
    public var description: String { "instruction %\(index) at code offset \(hex4(offset))" }
}

func hex4(_ n: Int) -> String {
    let s = String(n, radix: 16)
    return s.count >= 4 ? s : String(repeating: "0", count: 4 - s.count) + s
}

/// Every way a plan can be refused, one case each, in the order the loader meets them:
/// the container, the body's sections and pools, the tables, then each instruction.
public enum BytecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    // Container.
    case truncatedHeader(size: Int, needed: Int)
    case badMagic(found: [UInt8])
    case mangledHeader(found: [UInt8])
    case unsupportedVersion(found: Int, supported: Int)
    case unsupportedFlags(Int)
    case byteOrderMismatch(found: UInt32)
    case malformedSignatureHash(String)
    case signatureMismatch(plan: String, model: String)
    case bodyTooLarge(size: Int, limit: Int)
    case truncatedBody(declared: Int, available: Int)
    case trailingBytes(count: Int)
    case decompressionFailed(String)
    case bodySizeMismatch(declared: Int, actual: Int)
    case checksumMismatch(declared: UInt32, actual: UInt32)
    // Sections and pools.
    case missingSection(expected: String, found: Int, offset: Int)
    case truncatedSection(section: String, offset: Int)
    case sectionLengthMismatch(section: String, declared: Int, used: Int)
    case trailingSections(offset: Int)
    case malformedVarint(offset: Int)
    case limitExceeded(what: String, value: Int, limit: Int, offset: Int)
    case invalidUTF8(offset: Int)
    case unknownTag(what: String, tag: Int, offset: Int)
    case nestingTooDeep(what: String, limit: Int)
    case expansionTooLarge(limit: Int)
    case poolReference(what: String, index: Int, count: Int)
    case badTensor(index: Int, detail: String)
    case badType(index: Int, detail: String)
    // Tables.
    case duplicateName(what: String, name: String)
    case badSpan(what: String)
    case lineTableMismatch(spans: Int, instructions: Int)
    case badBlock(block: Int, detail: String)
    case badParam(name: String, detail: String)
    case saveMismatch(detail: String)
    // Instructions.
    case unknownOpcode(byte: Int, offset: Int)
    case forwardReference(at: CodeLocation, register: Int)
    case effectOperand(at: CodeLocation, register: Int)
    case pointOutOfRange(at: CodeLocation, point: Int, count: Int)
    case moduleOutOfRange(at: CodeLocation, module: Int, count: Int)
    case unknownName(at: CodeLocation, role: String, name: String)
    case blockOutOfRange(at: CodeLocation, block: Int, count: Int)
    case invokeOutOfRange(at: CodeLocation, invoke: Int, count: Int)
    case badSteps(at: CodeLocation, steps: String)
    case guardNotEarlier(at: CodeLocation, guard: Int)
    case guardNotBool(at: CodeLocation, guard: Int, type: String)
    case effectWithType(at: CodeLocation)
    case missingType(at: CodeLocation)
    case operandType(at: CodeLocation, operand: String, expected: String, found: String)
    case resultType(at: CodeLocation, expected: String, found: String)
    case axisOutOfRange(at: CodeLocation, axis: Int, rank: Int)
    case badShape(at: CodeLocation, detail: String)
    case badTopK(at: CodeLocation, k: Int, detail: String)
    case badIndex(at: CodeLocation, detail: String)
    case misplaced(at: CodeLocation, detail: String)
    case causality(at: CodeLocation, register: Int, detail: String)
    // Encoding.
    case notEncodable(String)

    /// A stable name per case, for counting and tests.
    public var code: String {
        switch self {
        case .truncatedHeader: return "truncatedHeader"
        case .badMagic: return "badMagic"
        case .mangledHeader: return "mangledHeader"
        case .unsupportedVersion: return "unsupportedVersion"
        case .unsupportedFlags: return "unsupportedFlags"
        case .byteOrderMismatch: return "byteOrderMismatch"
        case .malformedSignatureHash: return "malformedSignatureHash"
        case .signatureMismatch: return "signatureMismatch"
        case .bodyTooLarge: return "bodyTooLarge"
        case .truncatedBody: return "truncatedBody"
        case .trailingBytes: return "trailingBytes"
        case .decompressionFailed: return "decompressionFailed"
        case .bodySizeMismatch: return "bodySizeMismatch"
        case .checksumMismatch: return "checksumMismatch"
        case .missingSection: return "missingSection"
        case .truncatedSection: return "truncatedSection"
        case .sectionLengthMismatch: return "sectionLengthMismatch"
        case .trailingSections: return "trailingSections"
        case .malformedVarint: return "malformedVarint"
        case .limitExceeded: return "limitExceeded"
        case .invalidUTF8: return "invalidUTF8"
        case .unknownTag: return "unknownTag"
        case .nestingTooDeep: return "nestingTooDeep"
        case .expansionTooLarge: return "expansionTooLarge"
        case .poolReference: return "poolReference"
        case .badTensor: return "badTensor"
        case .badType: return "badType"
        case .duplicateName: return "duplicateName"
        case .badSpan: return "badSpan"
        case .lineTableMismatch: return "lineTableMismatch"
        case .badBlock: return "badBlock"
        case .badParam: return "badParam"
        case .saveMismatch: return "saveMismatch"
        case .unknownOpcode: return "unknownOpcode"
        case .forwardReference: return "forwardReference"
        case .effectOperand: return "effectOperand"
        case .pointOutOfRange: return "pointOutOfRange"
        case .moduleOutOfRange: return "moduleOutOfRange"
        case .unknownName: return "unknownName"
        case .blockOutOfRange: return "blockOutOfRange"
        case .invokeOutOfRange: return "invokeOutOfRange"
        case .badSteps: return "badSteps"
        case .guardNotEarlier: return "guardNotEarlier"
        case .guardNotBool: return "guardNotBool"
        case .effectWithType: return "effectWithType"
        case .missingType: return "missingType"
        case .operandType: return "operandType"
        case .resultType: return "resultType"
        case .axisOutOfRange: return "axisOutOfRange"
        case .badShape: return "badShape"
        case .badTopK: return "badTopK"
        case .badIndex: return "badIndex"
        case .misplaced: return "misplaced"
        case .causality: return "causality"
        case .notEncodable: return "notEncodable"
        }
    }

    public var description: String {
        switch self {
        case .truncatedHeader(let size, let needed):
            return "not a plan: \(size) bytes, shorter than the \(needed)-byte header"
        case .badMagic(let found):
            return "not a plan: the file starts with \(bytesText(found)), not \"NSIP\""
        case .mangledHeader(let found):
            return "the plan was mangled in transfer (line endings or text mode?): detection bytes are \(bytesText(found)), expected 0d 0a 1a 0a"
        case .unsupportedVersion(let found, let supported):
            return "plan format version \(found) is not supported (this nsi reads version \(supported)); recompile the script"
        case .unsupportedFlags(let f):
            return "the plan sets flags 0x\(String(f, radix: 16)) this nsi does not know"
        case .byteOrderMismatch(let found):
            return "the plan's byte-order check reads 0x\(String(found, radix: 16)), expected 0x4030201"
        case .malformedSignatureHash(let s):
            return "the plan's model signature hash is not 64 lowercase hex digits: \(s)"
        case .signatureMismatch(let plan, let model):
            return "this plan was checked against a model with signature \(plan), not this model's \(model); recompile it for this model"
        case .bodyTooLarge(let size, let limit):
            return "the plan's body of \(size) bytes exceeds the limit of \(limit)"
        case .truncatedBody(let declared, let available):
            return "the plan is truncated: its compressed body has \(available) of \(declared) bytes"
        case .trailingBytes(let count):
            return "the plan has \(count) unexpected bytes after its body"
        case .decompressionFailed(let detail):
            return "the plan's body does not decompress: \(detail)"
        case .bodySizeMismatch(let declared, let actual):
            return "the plan's body decompressed to \(actual) bytes, the header says \(declared)"
        case .checksumMismatch(let declared, let actual):
            return "the plan's body is corrupt: checksum 0x\(String(actual, radix: 16)), the header says 0x\(String(declared, radix: 16))"
        case .missingSection(let expected, let found, let offset):
            return "body offset \(offset): expected the \(expected) section, found tag \(found)"
        case .truncatedSection(let section, let offset):
            return "body offset \(offset): the \(section) section ends early"
        case .sectionLengthMismatch(let section, let declared, let used):
            return "the \(section) section declares \(declared) bytes but its content is \(used)"
        case .trailingSections(let offset):
            return "body offset \(offset): unexpected bytes after the last section"
        case .malformedVarint(let offset):
            return "body offset \(offset): malformed or overlong varint"
        case .limitExceeded(let what, let value, let limit, let offset):
            return "body offset \(offset): \(what) of \(value) is out of bounds (limit \(limit))"
        case .invalidUTF8(let offset):
            return "body offset \(offset): a string is not valid UTF-8"
        case .unknownTag(let what, let tag, let offset):
            return "body offset \(offset): unknown \(what) \(tag)"
        case .nestingTooDeep(let what, let limit):
            return "\(what) nest deeper than \(limit) levels"
        case .expansionTooLarge(let limit):
            return "the plan's constants and types, with shared entries written out at each use, exceed \(limit) elements"
        case .poolReference(let what, let index, let count):
            return "\(what) refers to entry \(index) of \(count)"
        case .badTensor(let index, let detail):
            return "tensor constant \(index): \(detail)"
        case .badType(let index, let detail):
            return "type \(index): \(detail)"
        case .duplicateName(let what, let name):
            return "the \(what) table names \"\(name)\" twice"
        case .badSpan(let what):
            return "\(what) has an impossible source span"
        case .lineTableMismatch(let spans, let instructions):
            return "the line table has \(spans) entries for \(instructions) instructions"
        case .badBlock(let block, let detail):
            return "block \(block): \(detail)"
        case .badParam(let name, let detail):
            return "param \(name): \(detail)"
        case .saveMismatch(let detail):
            return "the save table does not match the code: \(detail)"
        case .unknownOpcode(let byte, let offset):
            return "code offset \(hex4(offset)): unknown opcode 0x\(String(byte, radix: 16))"
        case .forwardReference(let at, let r):
            return "\(at): operand %\(r) is not an earlier instruction"
        case .effectOperand(let at, let r):
            return "\(at): operand %\(r) is a write, save or skip, which has no value"
        case .pointOutOfRange(let at, let p, let count):
            return "\(at): point \(p) does not exist (the model has \(count))"
        case .moduleOutOfRange(let at, let m, let count):
            return "\(at): module \(m) does not exist (the model has \(count) skippable modules)"
        case .unknownName(let at, let role, let name):
            return "\(at): no \(role) named \"\(name)\""
        case .blockOutOfRange(let at, let b, let count):
            return "\(at): block \(b) does not exist (the plan has \(count))"
        case .invokeOutOfRange(let at, let i, let count):
            return "\(at): invoke \(i) does not exist (its block has \(count))"
        case .badSteps(let at, let steps):
            return "\(at): impossible steps \(steps)"
        case .guardNotEarlier(let at, let g):
            return "\(at): its condition %\(g) is not an earlier instruction"
        case .guardNotBool(let at, let g, let type):
            return "\(at): its condition %\(g) is \(type), not a bool"
        case .effectWithType(let at):
            return "\(at): a write, save or skip has a result type"
        case .missingType(let at):
            return "\(at): a value has no result type"
        case .operandType(let at, let operand, let expected, let found):
            return "\(at): operand \(operand) must be \(expected), not \(found)"
        case .resultType(let at, let expected, let found):
            return "\(at): its result type \(found) does not fit its operands (expected \(expected))"
        case .axisOutOfRange(let at, let axis, let rank):
            return "\(at): dimension \(axis) is out of range for rank \(rank)"
        case .badShape(let at, let detail):
            return "\(at): \(detail)"
        case .badTopK(let at, let k, let detail):
            return "\(at): topk with k = \(k): \(detail)"
        case .badIndex(let at, let detail):
            return "\(at): \(detail)"
        case .misplaced(let at, let detail):
            return "\(at): \(detail)"
        case .causality(let at, let r, let detail):
            return "\(at): operand %\(r) \(detail)"
        case .notEncodable(let detail):
            return "cannot encode the program: \(detail)"
        }
    }
}

private func bytesText(_ bytes: [UInt8]) -> String {
    bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined(separator: " ")
}
