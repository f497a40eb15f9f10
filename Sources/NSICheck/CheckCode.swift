import NSIIR
import NSISource

/// The checker's codes: names and placement (E02xx), types and shapes (E03xx), the model
/// (E04xx), causality (E05xx), params (E06xx). Messages are in CheckMessage.
public enum CheckCode: String, CaseIterable, Sendable {
    // Names, scopes, placement.
    case undefinedName = "E0201"
    case duplicateDefinition = "E0202"
    case shadowedName = "W0203"
    case misplacedStatement = "E0204"
    case indexedNameMisuse = "E0205"
    case undefinedIndex = "E0206"
    case duplicateSave = "E0207"
    case nonStaticLoop = "E0208"
    case resultBeforeGenerate = "E0209"
    case notAssignable = "E0210"
    case emptyTrace = "E0211"
    case unknownOption = "E0212"
    case multiStepSave = "E0213"
    case loopTooLong = "E0214"
    case tooMuchWork = "E0215"
    case gradientPlacement = "E0216"
    case duplicateBackward = "E0217"
    case editsCopy = "W0218"

    // Types and shapes.
    case assignShape = "E0301"
    case broadcast = "E0302"
    case indexOutOfRange = "E0303"
    case tooManyIndices = "E0304"
    case argumentType = "E0305"
    case unknownMethod = "E0306"
    case argumentCount = "E0307"
    case dimOutOfRange = "E0308"
    case matmulShape = "E0309"
    case writeDType = "E0310"
    case indexType = "E0311"
    case reshapeCount = "E0312"
    case conditionType = "E0313"
    case notOneToken = "E0314"
    case loadFailed = "E0315"
    case catShape = "E0316"
    case paramType = "E0317"
    case raggedLiteral = "E0318"
    case notATensor = "E0319"
    case unknownFunction = "E0320"
    case operandType = "E0321"
    case divisionByZero = "E0322"
    case fileNotAllowed = "E0323"
    case backwardShape = "E0324"

    // The model.
    case unknownPoint = "E0401"
    case layerOutOfRange = "E0402"
    case notCallable = "E0403"
    case unknownModelAttribute = "E0404"
    case notSkippable = "E0405"
    case pointOutsideBlock = "E0406"
    case pointInSkippedModule = "E0407"

    // Causality.
    case usedBeforeComputed = "E0501"
    case laterInvokeValue = "E0502"
    case writeAfterSkip = "E0503"

    // Params.
    case unknownParam = "E0601"
    case paramValue = "E0602"
    case paramMissing = "E0603"

    public var code: DiagnosticCode { DiagnosticCode(rawValue) }

    public var title: String {
        switch self {
        case .undefinedName: return "a name is used that is not defined"
        case .duplicateDefinition: return "a name is defined twice in one scope"
        case .shadowedName: return "a definition hides a name of an outer scope"
        case .misplacedStatement: return "a statement where it cannot appear"
        case .indexedNameMisuse: return "an indexed name used without its index, or a plain name with one"
        case .undefinedIndex: return "an element of an indexed name that was never defined"
        case .duplicateSave: return "a result saved twice under one key"
        case .nonStaticLoop: return "a loop whose bounds are not known when compiling"
        case .resultBeforeGenerate: return "`result` read outside or before a generate block"
        case .notAssignable: return "an assignment to something that is not an access point"
        case .emptyTrace: return "a trace with no prompt and no invoke"
        case .unknownOption: return "an unknown or ill-typed generate option"
        case .multiStepSave: return "a result saved in a body that runs at several steps"
        case .loopTooLong: return "a static loop unrolls to too many iterations"
        case .assignShape: return "a value of one shape assigned to a point of another"
        case .broadcast: return "operands whose shapes do not broadcast"
        case .indexOutOfRange: return "an index outside its dimension"
        case .tooManyIndices: return "more indices than the value has dimensions"
        case .argumentType: return "an argument of the wrong type"
        case .unknownMethod: return "a method that does not exist"
        case .argumentCount: return "too many, too few or unknown arguments"
        case .dimOutOfRange: return "a dimension argument outside the value's rank"
        case .matmulShape: return "matrix product of incompatible shapes"
        case .writeDType: return "a write into an activation that is not floating point"
        case .indexType: return "an index that is not an integer"
        case .reshapeCount: return "a reshape that changes the number of elements"
        case .conditionType: return "a condition that is not a boolean"
        case .notOneToken: return "`tok` of a string that is not exactly one token"
        case .loadFailed: return "`load` of a file or tensor that cannot be read"
        case .catShape: return "`cat`/`stack` of tensors whose shapes do not fit"
        case .paramType: return "a param default of the wrong type"
        case .raggedLiteral: return "a tensor literal whose rows differ in length"
        case .notATensor: return "a tensor operation on a value that is not a tensor"
        case .unknownFunction: return "a function that does not exist"
        case .operandType: return "an operator applied to values of the wrong type"
        case .divisionByZero: return "a constant division by zero"
        case .tooMuchWork: return "a script whose unrolled loops take too long to check"
        case .fileNotAllowed: return "`load` of a file the file policy does not allow"
        case .gradientPlacement: return "`.grad` before `backward`, in an invoke without one, or outside a trace"
        case .duplicateBackward: return "a second `backward` in one invoke"
        case .editsCopy: return "an edit of a `let` that holds a copy of an access point, not the point"
        case .backwardShape: return "`backward` of a value that is not an f32 scalar of the model"
        case .unknownPoint: return "an access point the model does not have"
        case .layerOutOfRange: return "a layer index outside the model's layers"
        case .notCallable: return "a call of a module that is not a pure function of one tensor"
        case .unknownModelAttribute: return "an unknown `model.` name"
        case .notSkippable: return "`skip` of something that is not a skippable module"
        case .pointOutsideBlock: return "an access point used outside a trace or generate"
        case .pointInSkippedModule: return "an access point inside a module that is skipped"
        case .usedBeforeComputed: return "a value used at a point the model computes before the value exists"
        case .laterInvokeValue: return "a value of an invoke used before that invoke's pass reaches it"
        case .writeAfterSkip: return "a write into a module that is skipped"
        case .unknownParam: return "a `--param` that the script does not declare"
        case .paramValue: return "a `--param` value that does not fit the param's type"
        case .paramMissing: return "a param with no default and no value"
        }
    }

    public var entry: CatalogueEntry {
        CatalogueEntry(code: code, severity: rawValue.hasPrefix("W") ? .warning : .error, title: title)
    }
}

/// A checker diagnostic built from a code and its wording. Messages are assembled here,
/// in one place, by the small constructors below.
struct CheckMessage: DiagnosticMessage {
    let checkCode: CheckCode
    let text: String
    var label: String = ""
    var notes: [String] = []
    var help: String? = nil

    var code: DiagnosticCode { checkCode.code }
}
