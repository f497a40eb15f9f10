import NSIJSON
/// Reading `pre_tokenizer`: ByteLevel alone (GPT-2, SmolLM) or a Sequence of Split /
/// Digits steps ending in ByteLevel (Llama 3, Qwen2).
extension TokenizerFileReader {
    static let supportedPreTokenizers = ["ByteLevel", "Sequence", "Split", "Digits"]

    func readPreTokenizer(_ json: JSONValue?) throws(TokenizerError) -> PreTokenizer {
        let path = "pre_tokenizer"
        guard let json, !json.isNull else {
            throw unsupported(path, "missing; byte-level BPE needs a ByteLevel pre-tokenizer")
        }
        var steps: [PreTokenizer.Step] = []
        try appendSteps(json, path, into: &steps)
        guard let last = steps.last, case .byteLevel = last else {
            throw unsupported(path, "a ByteLevel pre-tokenizer must come last; only byte-level BPE is supported")
        }
        let byteLevelCount = steps.filter { if case .byteLevel = $0 { return true } else { return false } }.count
        guard byteLevelCount == 1 else { throw unsupported(path, "more than one ByteLevel pre-tokenizer") }
        return PreTokenizer(steps: steps)
    }

    private func appendSteps(_ json: JSONValue, _ path: String, into steps: inout [PreTokenizer.Step]) throws(TokenizerError) {
        let type = try typeName(json, path)
        switch type {
        case "Sequence":
            guard let list = json["pretokenizers"] else { throw invalid(path, "Sequence without \"pretokenizers\"") }
            for (i, element) in try array(list, "\(path).pretokenizers").enumerated() {
                try appendSteps(element, "\(path).pretokenizers[\(i)]", into: &steps)
            }
        case "ByteLevel":
            steps.append(.byteLevel(
                addPrefixSpace: try bool(json, "add_prefix_space", default: true, path),
                useRegex: try bool(json, "use_regex", default: true, path)))
        case "Digits":
            steps.append(.digits(individual: try bool(json, "individual_digits", default: false, path)))
        case "Split":
            steps.append(try readSplit(json, path))
        default:
            throw unsupported(path, "pre-tokenizer type \"\(type)\" is not supported (\(supportedList(TokenizerFileReader.supportedPreTokenizers)))")
        }
    }

    private func readSplit(_ json: JSONValue, _ path: String) throws(TokenizerError) -> PreTokenizer.Step {
        let behaviorName = try optionalString(json, "behavior", path) ?? "Isolated"
        guard let behavior = SplitBehavior(rawValue: behaviorName) else {
            throw unsupported("\(path).behavior", "\"\(behaviorName)\" is not a known split behavior (\(supportedList(SplitBehavior.allCases.map(\.rawValue))))")
        }
        let invert = try bool(json, "invert", default: false, path)
        guard let pattern = json["pattern"] else { throw invalid(path, "Split without \"pattern\"") }
        if let regex = pattern["Regex"] {
            let text = try string(regex, "\(path).pattern.Regex")
            guard let scanner = PatternScanner.forPattern(text) else {
                throw unsupported("\(path).pattern.Regex", "split pattern \"\(text)\" is not supported (supported: \(PatternScanner.supportedDescription))")
            }
            return .split(scanner, behavior, invert: invert)
        }
        if let literal = pattern["String"] {
            let text = try string(literal, "\(path).pattern.String")
            guard !text.isEmpty else { throw invalid("\(path).pattern.String", "empty split string") }
            return .splitLiteral(Array(text.unicodeScalars), behavior, invert: invert)
        }
        throw invalid("\(path).pattern", "expected {\"Regex\": ...} or {\"String\": ...}")
    }
}
