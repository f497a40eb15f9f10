import Foundation

/// The text normalizations applied before pre-tokenization (Qwen2 uses NFC; most
/// byte-level tokenizers have none).
enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd, lowercase
    indirect case sequence([Normalizer])

    static let supportedNames = ["NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Sequence"]

    func apply(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case .sequence(let steps): return steps.reduce(text) { $1.apply($0) }
        }
    }

    func apply(_ scalars: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return Array(apply(String(view)).unicodeScalars)
    }
}
