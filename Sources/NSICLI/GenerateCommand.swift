import ArgumentParser
import Foundation
import NSIJSON
import NSIModel
import NSIRuntime
import NSITensor

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with the model (greedy unless a temperature is given).")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Largest number of new tokens.")
    var maxTokens = 32

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature = 0.0

    @Option(name: .long, help: "Sample among the k most likely tokens.")
    var topK: Int?

    @Option(name: .long, help: "Sample from the smallest set of tokens whose probability reaches p.")
    var topP: Double?

    @Option(name: .long, help: "Seed for sampling.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print the ids as JSON instead of streaming text.")
    var ids = false

    @Argument(help: "The prompt text.")
    var prompt: String

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard temperature >= 0 else { throw ValidationError("--temperature must not be negative") }
        if let p = topP, !(p > 0 && p <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if let k = topK, k < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
        try runReportingErrors {
            let model = try modelOptions.load()
            let promptIds = try model.encode(prompt)
            let options = SamplingOptions(maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP, seed: seed)
            var generated: [Int] = []
            var printed = ""
            let result = try model.transformer.generate(prompts: [promptIds], options: options) { _, tokens in
                guard !ids else { return }
                // Decode everything so far and print the new suffix: a character split
                // across tokens appears once it is whole.
                generated.append(tokens[0])
                if let text = try? model.decode(generated), text.hasPrefix(printed), !text.hasSuffix("\u{FFFD}") {
                    FileHandle.standardOutput.write(Data(text.dropFirst(printed.count).utf8))
                    printed = text
                }
            }
            if ids {
                print("[" + result.ids[0].map(String.init).joined(separator: ", ") + "]")
            } else {
                let text = try model.decode(result.generated[0])
                let rest = text.count > printed.count && text.hasPrefix(printed) ? String(text.dropFirst(printed.count)) : ""
                FileHandle.standardOutput.write(Data((rest + "\n").utf8))
            }
        }
    }
}

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Show the most likely next tokens after a prompt, with logits and probabilities.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .shortAndLong, help: "How many tokens to list.")
    var k = 10

    @Argument(help: "The prompt text.")
    var prompt: String

    func validate() throws {
        guard k >= 1 else { throw ValidationError("-k must be at least 1") }
    }

    func run() throws {
        try runReportingErrors {
            let model = try modelOptions.load()
            let ids = try model.encode(prompt)
            guard let logits = try model.transformer.trace(prompts: [ids]).logits else { throw CLIError("no logits") }
            let last = logits.select(dim: 0, index: 0).select(dim: 0, index: -1)     // [vocab]
            let probs = last.softmax(dim: 0)
            let (values, indices) = last.topk(min(k, last.count))
            let p = probs.toFloats()
            print("prompt: \(ids.count) tokens \(ids)")
            print(" rank      id     logit    prob  token")
            for (rank, (id, v)) in zip(indices.toInts(), values.toFloats()).enumerated() {
                let text = (try? model.decode([id])) ?? "?"
                print(String(format: "%5d %7d %9.4f %7.4f  ", rank + 1, id, v, p[id]) + JSONValue.quote(text))
            }
        }
    }
}
