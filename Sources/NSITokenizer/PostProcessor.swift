/// What `addSpecialTokens` adds around an encoded text: the single-sequence template of
/// a TemplateProcessing (or Roberta/Bert) post-processor, as special ids before and
/// after the text. ByteLevel and null post-processors add nothing.
struct PostProcessor: Sendable {
    let prefix: [Int]
    let suffix: [Int]

    static let none = PostProcessor(prefix: [], suffix: [])

    static let supportedNames = ["TemplateProcessing", "ByteLevel", "RobertaProcessing", "BertProcessing", "Sequence"]

    func apply(to ids: [Int]) -> [Int] {
        if prefix.isEmpty && suffix.isEmpty { return ids }
        return prefix + ids + suffix
    }

    /// `outer` applied to the result of `self`, as a Sequence post-processor chains them.
    func wrapped(in outer: PostProcessor) -> PostProcessor {
        PostProcessor(prefix: outer.prefix + prefix, suffix: suffix + outer.suffix)
    }
}
