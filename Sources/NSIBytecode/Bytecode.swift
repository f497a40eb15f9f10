import Foundation
import NSIIR

/// What the verifier needs to know of the model a plan will run on. Callers build it
/// from the model's `ModelSignature` (this module stays free of the model loader, so the
/// VM side can load plans with nothing but the IR).
public struct PlanTarget: Sendable {
    /// The model's signature hash; a plan checked against another signature is refused.
    public var signatureHash: String?
    /// The rank of each access point's tensor, by point id (forward order).
    public var pointRanks: [Int]
    /// Point names for listings, by id (may be empty).
    public var pointNames: [String]
    /// Skippable module names, by module id.
    public var moduleNames: [String]
    /// Modules a script may call as functions, by canonical name.
    public var callables: Set<String>
    /// The weights a plan may read, by canonical name, with their shapes.
    public var weights: [String: [Int]]
    /// Each point's sizes that the model fixes (the hidden size, heads, ...), by point id;
    /// nil for the batch, token and key dimensions. Empty: ranks only.
    public var pointSizes: [[Int?]]

    public init(signatureHash: String?, pointRanks: [Int], pointNames: [String] = [], moduleNames: [String], callables: Set<String>,
                weights: [String: [Int]] = [:], pointSizes: [[Int?]] = []) {
        self.weights = weights
        self.pointSizes = pointSizes
        self.signatureHash = signatureHash
        self.pointRanks = pointRanks
        self.pointNames = pointNames
        self.moduleNames = moduleNames
        self.callables = callables
    }
}

/// Bounds on everything a plan declares, so no input makes the loader allocate or loop
/// beyond them.
public struct BytecodeLimits: Sendable {
    public var maxBodyBytes = 64 << 20
    public var maxInstructions = 1 << 20
    public var maxPoolEntries = 1 << 20
    public var maxStringBytes = 1 << 20
    /// f32 elements over all tensor constants.
    public var maxTensorElements = 16 << 20
    public var maxRank = 16
    /// Depth of nested lists in values and types.
    public var maxNesting = 32
    /// Elements of every constant and type the program holds, with list entries that the
    /// pools share written out each time (a few shared entries nested deep would
    /// otherwise expand to billions).
    public var maxExpandedElements = 1 << 22
    /// f32 elements over every use of a tensor constant (a load is used twice: by its
    /// instruction and as its param's default).
    public var maxTensorElementUses = 64 << 20
    public var maxListItems = 1 << 20
    public var maxBlocks = 1 << 16
    public var maxInvokes = 1 << 16
    public var maxRows = 1 << 16
    /// Largest dimension, step, token count or other number a plan may state.
    public var maxDimension = 1 << 40

    public init() {}
    public static let standard = BytecodeLimits()
}

/// Plans as bytes: encode a checked `Program`, and decode bytes back to one only after
/// the whole plan has been verified against the model it will run on.
public enum Bytecode {
    public static let formatVersion = 2
    public static let fileExtension = "nsb"

    /// The plan's bytes. Deterministic: the same program gives the same bytes (for a
    /// given zstd library). Throws only for programs the format cannot express.
    public static func encode(_ program: Program) throws(BytecodeError) -> Data {
        let plan = try Lowering.lower(program)
        return try Container.seal(body: try Body.write(plan), signatureHash: program.signatureHash)
    }

    /// Checks the container, decodes the body and verifies every table and instruction
    /// against `target`, then builds the program.
    public static func decode(_ data: Data, for target: PlanTarget, limits: BytecodeLimits = .standard) throws(BytecodeError) -> Program {
        Raising.raise(try load(data, for: target, limits: limits).plan)
    }

    /// Reads and verifies a plan's body without its container (no zstd frame, no CRC):
    /// what the fuzz target feeds, so that mutations reach the reader and the verifier
    /// instead of failing the checksum. A loader never takes plans this way.
    public static func decode(body: [UInt8], signatureHash: String, for target: PlanTarget,
                              limits: BytecodeLimits = .standard) throws(BytecodeError) -> Program {
        let plan = try Body.read(body, signatureHash: signatureHash, limits: limits)
        try Verifier(plan: plan, target: target, limits: limits).verify()
        return Raising.raise(plan)
    }

    /// The body of plan bytes (decompressed, its CRC checked), for the fuzz corpus.
    public static func body(of data: Data, limits: BytecodeLimits = .standard) throws(BytecodeError) -> [UInt8] {
        try Container.open(data, limits: limits).1
    }

    /// Verifies an in-memory program exactly as a loaded plan is verified.
    public static func verify(_ program: Program, for target: PlanTarget, limits: BytecodeLimits = .standard) throws(BytecodeError) {
        var plan = try Lowering.lower(program)
        // Offsets and canonical forms come from the bytes: go through them.
        plan = try Body.read(try Body.write(plan), signatureHash: program.signatureHash, limits: limits)
        try Verifier(plan: plan, target: target, limits: limits).verify()
    }

    /// The header fields, for summaries; checks the header only.
    public static func header(_ data: Data, limits: BytecodeLimits = .standard) throws(BytecodeError) -> PlanHeader {
        let h = try Container.header(data, limits: limits)
        return PlanHeader(version: h.version, signatureHash: h.signatureHash, bodySize: h.bodySize, fileSize: data.count)
    }

    /// The listing of a verified plan: offset, source line, opcode, operands with their
    /// constants resolved, type and anchor, one instruction per line.
    public static func disassemble(_ data: Data, for target: PlanTarget, limits: BytecodeLimits = .standard) throws(BytecodeError) -> String {
        let loaded = try load(data, for: target, limits: limits)
        return Disassembler(plan: loaded.plan, target: target).listing()
    }

    /// Whether bytes start like a plan (for commands that take a script or a plan).
    public static func looksLikePlan(_ data: Data) -> Bool { data.prefix(4) == Data(Container.magic) }

    static func load(_ data: Data, for target: PlanTarget, limits: BytecodeLimits) throws(BytecodeError) -> (header: Container.Header, plan: Plan) {
        let (header, body) = try Container.open(data, limits: limits)
        if let model = target.signatureHash, model != header.signatureHash {
            throw .signatureMismatch(plan: header.signatureHash, model: model)
        }
        let plan = try Body.read(body, signatureHash: header.signatureHash, limits: limits)
        try Verifier(plan: plan, target: target, limits: limits).verify()
        return (header, plan)
    }
}

public struct PlanHeader: Sendable, Equatable {
    public let version: Int
    public let signatureHash: String
    public let bodySize: Int
    public let fileSize: Int
}
