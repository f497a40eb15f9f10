import NSIJSON
/// Reading the `model` section: the vocabulary and merges of a BPE model.
extension TokenizerFileReader {
    struct ModelParts {
        let model: BPEModel
        /// Token strings by id; nil where the vocabulary has a gap.
        let tokens: [String?]
    }

    func readModel(_ json: JSONValue?) throws(TokenizerError) -> ModelParts {
        let path = "model"
        guard let json, !json.isNull else { throw invalid(path, "missing; a BPE model is required") }
        _ = try object(json, path)
        // Old files omit the type; BPE is the only model with merges.
        let type = json["type"] == nil && json["merges"] != nil ? "BPE" : try typeName(json, path)
        guard type == "BPE" else {
            throw unsupported(path, "model type \"\(type)\" is not supported (\(supportedList(["BPE"])))")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try optionalString(json, key, path), !affix.isEmpty {
                throw unsupported("\(path).\(key)", "\"\(affix)\" is not supported; byte-level BPE uses none")
            }
        }

        // `dropout` is ignored: it randomises merges for training, and encoding here stays
        // deterministic.
        let (vocab, tokens) = try readVocab(json["vocab"], "\(path).vocab")
        let merges = try readMerges(json["merges"], vocab: vocab, "\(path).merges")

        var unknownId: Int? = nil
        if let unk = try optionalString(json, "unk_token", path) {
            guard let id = vocab[unk] else { throw invalid("\(path).unk_token", "\"\(unk)\" is not in the vocabulary") }
            unknownId = id
        }
        let byteFallback = try bool(json, "byte_fallback", default: false, path)
        let byteIds = (0..<256).map { byte -> Int32 in
            let scalar = ByteLevelAlphabet.scalarForByte[byte]
            if let id = vocab[String(scalar)] { return Int32(id) }
            if byteFallback, let id = vocab[byteFallbackToken(UInt8(byte))] { return Int32(id) }
            return -1
        }
        let model = BPEModel(
            vocab: vocab,
            merges: merges,
            byteIds: byteIds,
            unknownId: unknownId,
            fuseUnknown: try bool(json, "fuse_unk", default: false, path),
            ignoreMerges: try bool(json, "ignore_merges", default: false, path))
        return ModelParts(model: model, tokens: tokens)
    }

    private func byteFallbackToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    private func readVocab(_ json: JSONValue?, _ path: String) throws(TokenizerError) -> ([String: Int], [String?]) {
        guard let json else { throw invalid(path, "missing") }
        let members = try object(json, path)
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(members.count)
        var maxId = -1
        for (token, value) in members {
            guard let id = value.intValue else {
                throw invalid(path, "token \"\(token)\" has \(value.kindName) as its id, expected an integer")
            }
            guard id >= 0 && id < TokenizerFileReader.maxTokenId else {
                throw invalid(path, "token \"\(token)\" has id \(id), out of range 0..<\(TokenizerFileReader.maxTokenId)")
            }
            vocab[token] = id
            maxId = max(maxId, id)
        }
        var tokens = [String?](repeating: nil, count: maxId + 1)
        for (token, id) in vocab where tokens[id] == nil {
            tokens[id] = token
        }
        return (vocab, tokens)
    }

    /// Merges come as "left right" strings (older files) or as [left, right] pairs.
    private func readMerges(_ json: JSONValue?, vocab: [String: Int], _ path: String) throws(TokenizerError) -> MergeTable {
        guard let json else { throw invalid(path, "missing") }
        let list = try array(json, path)
        var table = MergeTable(capacity: list.count)
        for (rank, entry) in list.enumerated() {
            let left: String
            let right: String
            switch entry {
            case .string(let line):
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw invalid("\(path)[\(rank)]", "\"\(line)\" is not two tokens separated by one space")
                }
                left = String(parts[0])
                right = String(parts[1])
            case .array(let pair):
                guard pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue else {
                    throw invalid("\(path)[\(rank)]", "expected a pair of token strings")
                }
                left = a
                right = b
            default:
                throw invalid("\(path)[\(rank)]", "unknown merge format (\(entry.kindName)); expected \"a b\" or [\"a\", \"b\"]")
            }
            guard let leftId = vocab[left] else {
                throw invalid("\(path)[\(rank)]", "merge names token \"\(left)\", which is not in the vocabulary")
            }
            guard let rightId = vocab[right] else {
                throw invalid("\(path)[\(rank)]", "merge names token \"\(right)\", which is not in the vocabulary")
            }
            guard let resultId = vocab[left + right] else {
                throw invalid("\(path)[\(rank)]", "merge result \"\(left + right)\" is not in the vocabulary")
            }
            table.insert(left: Int32(leftId), right: Int32(rightId),
                         merge: MergeTable.Merge(rank: Int32(rank), result: Int32(resultId)))
        }
        return table
    }
}
