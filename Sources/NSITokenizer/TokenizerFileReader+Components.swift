import NSIJSON
/// Reading the smaller sections: `normalizer`, `post_processor` and `decoder`.
extension TokenizerFileReader {
    func readNormalizer(_ json: JSONValue?) throws(TokenizerError) -> Normalizer? {
        guard let json, !json.isNull else { return nil }
        return try readNormalizer(json, "normalizer")
    }

    private func readNormalizer(_ json: JSONValue, _ path: String) throws(TokenizerError) -> Normalizer {
        let type = try typeName(json, path)
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Sequence":
            guard let list = json["normalizers"] else { throw invalid(path, "Sequence without \"normalizers\"") }
            var steps: [Normalizer] = []
            for (i, element) in try array(list, "\(path).normalizers").enumerated() {
                steps.append(try readNormalizer(element, "\(path).normalizers[\(i)]"))
            }
            return .sequence(steps)
        default:
            throw unsupported(path, "normalizer type \"\(type)\" is not supported (\(supportedList(Normalizer.supportedNames)))")
        }
    }

    func readPostProcessor(_ json: JSONValue?) throws(TokenizerError) -> PostProcessor {
        guard let json, !json.isNull else { return .none }
        return try readPostProcessor(json, "post_processor")
    }

    private func readPostProcessor(_ json: JSONValue, _ path: String) throws(TokenizerError) -> PostProcessor {
        let type = try typeName(json, path)
        switch type {
        case "ByteLevel":
            return .none
        case "TemplateProcessing":
            return try readTemplate(json, path)
        case "RobertaProcessing", "BertProcessing":
            return PostProcessor(prefix: [try tokenPair(json["cls"], "\(path).cls")],
                                 suffix: [try tokenPair(json["sep"], "\(path).sep")])
        case "Sequence":
            guard let list = json["processors"] else { throw invalid(path, "Sequence without \"processors\"") }
            var result = PostProcessor.none
            for (i, element) in try array(list, "\(path).processors").enumerated() {
                result = result.wrapped(in: try readPostProcessor(element, "\(path).processors[\(i)]"))
            }
            return result
        default:
            throw unsupported(path, "post-processor type \"\(type)\" is not supported (\(supportedList(PostProcessor.supportedNames)))")
        }
    }

    /// Roberta/Bert name their tokens as ["<s>", 0].
    private func tokenPair(_ json: JSONValue?, _ path: String) throws(TokenizerError) -> Int {
        guard let pair = json?.arrayValue, pair.count == 2, pair[0].stringValue != nil else {
            throw invalid(path, "expected [token, id]")
        }
        return try tokenId(pair[1], "\(path)[1]")
    }

    /// Only the single-sequence template matters: this tokenizer encodes one text at a time.
    private func readTemplate(_ json: JSONValue, _ path: String) throws(TokenizerError) -> PostProcessor {
        var specialIds: [String: [Int]] = [:]
        if let specials = json["special_tokens"], !specials.isNull {
            for (name, entry) in try object(specials, "\(path).special_tokens") {
                let entryPath = "\(path).special_tokens.\(name)"
                guard let ids = entry["ids"] else { throw invalid(entryPath, "missing \"ids\"") }
                var list: [Int] = []
                for (i, id) in try array(ids, "\(entryPath).ids").enumerated() {
                    list.append(try tokenId(id, "\(entryPath).ids[\(i)]"))
                }
                specialIds[name] = list
            }
        }
        guard let single = json["single"] else { throw invalid(path, "missing \"single\" template") }
        var prefix: [Int] = []
        var suffix: [Int] = []
        var sawSequence = false
        for (i, item) in try array(single, "\(path).single").enumerated() {
            let itemPath = "\(path).single[\(i)]"
            if let special = item["SpecialToken"] {
                guard let name = special["id"]?.stringValue else { throw invalid(itemPath, "SpecialToken without an id") }
                guard let ids = specialIds[name] else {
                    throw invalid(itemPath, "special token \"\(name)\" is not listed in special_tokens")
                }
                if sawSequence { suffix += ids } else { prefix += ids }
            } else if item["Sequence"] != nil {
                guard !sawSequence else { throw unsupported(itemPath, "a single template with more than one sequence") }
                sawSequence = true
            } else {
                throw invalid(itemPath, "expected {\"SpecialToken\": ...} or {\"Sequence\": ...}")
            }
        }
        guard sawSequence else { throw invalid("\(path).single", "template has no sequence") }
        return PostProcessor(prefix: prefix, suffix: suffix)
    }

    /// Only the ByteLevel decoder is meaningful for byte-level BPE; a missing decoder is
    /// read as ByteLevel too, since byte-level tokens are unreadable otherwise.
    func checkDecoder(_ json: JSONValue?) throws(TokenizerError) {
        guard let json, !json.isNull else { return }
        let type = try typeName(json, "decoder")
        guard type == "ByteLevel" else {
            throw unsupported("decoder", "decoder type \"\(type)\" is not supported (\(supportedList(["ByteLevel"])))")
        }
    }

    func readAddedTokens(_ json: JSONValue?) throws(TokenizerError) -> [AddedToken] {
        guard let json, !json.isNull else { return [] }
        var out: [AddedToken] = []
        for (i, entry) in try array(json, "added_tokens").enumerated() {
            let path = "added_tokens[\(i)]"
            guard let idValue = entry["id"] else { throw invalid(path, "missing \"id\"") }
            let id = try tokenId(idValue, "\(path).id")
            guard let contentValue = entry["content"] else { throw invalid(path, "missing \"content\"") }
            let content = try string(contentValue, "\(path).content")
            guard !content.isEmpty else { throw invalid("\(path).content", "empty added token") }
            out.append(AddedToken(
                id: id,
                content: content,
                singleWord: try bool(entry, "single_word", default: false, path),
                lstrip: try bool(entry, "lstrip", default: false, path),
                rstrip: try bool(entry, "rstrip", default: false, path),
                normalized: try bool(entry, "normalized", default: true, path),
                special: try bool(entry, "special", default: false, path)))
        }
        return out
    }
}
