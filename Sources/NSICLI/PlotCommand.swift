import ArgumentParser
import Foundation
import NSIJSON
import NSIPlot
import NSITensor
import NSITokenizer

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a run's results as SVG figures: a line per indexed series, a heatmap per 2-D value.",
        discussion: """
            Indexed scalars (`save p[l] = ...`) become a line over the index (on a log scale when \
            positive and spanning more than three decades), `name.i.j` scalars and values with two \
            dimensions of more than one entry become heatmaps with their colour scale. With --model \
            (or the model the results' JSON sidecar names), dimensions as long as the prompt are \
            labelled with its tokens.
            """)

    @Argument(help: "A results file written by `nsi run` (its .json sidecar beside it).") var results: String
    @Argument(help: "The figure to draw (a save's name, or the name of an indexed series); all of them when absent.") var name: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the one figure.", valueName: "figure.svg")) var output: String?
    @Option(name: .long, help: ArgumentHelp("Write every figure into this folder, one NAME.svg each.", valueName: "dir")) var dir: String?
    @Option(name: .long, help: ArgumentHelp("A model folder whose tokenizer labels the prompt's tokens (default: the sidecar's model, if it is there).", valueName: "dir"))
    var model: String?

    func run() throws {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: results) } catch { throw CLIError("\(results): \(error)") }
        let saved = try file.names.map { n in
            let t = try file.tensor(n)
            return SavedValue(name: n, shape: t.shape, values: t.cast(to: .f32).toFloats().map(Double.init))
        }
        let tokens = Self.promptTokens(sidecar: (results as NSString).deletingPathExtension + ".json", model: model)
        var figures = Figures.make(saved, tokens: tokens)
        if let name {
            figures = figures.filter { $0.name == name }
            guard !figures.isEmpty else {
                throw CLIError("no figure named \(name) in \(results); figures: " + Figures.make(saved).map(\.name).joined(separator: ", "))
            }
        }
        guard !figures.isEmpty else { throw CLIError("\(results) has no indexed series or 2-D value to draw") }
        if let dir {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in figures { try Self.write(f.svg, to: (dir as NSString).appendingPathComponent(Figures.fileName(f.name) + ".svg")) }
            print("wrote \(figures.count) figure\(figures.count == 1 ? "" : "s") to \(dir)")
            return
        }
        guard figures.count == 1 else {
            throw CLIError("\(results) makes \(figures.count) figures (\(figures.map(\.name).joined(separator: ", "))): name one, or give --dir")
        }
        let out = output ?? Figures.fileName(figures[0].name) + ".svg"
        try Self.write(figures[0].svg, to: out)
        print("wrote \(out)")
    }

    static func write(_ svg: String, to path: String) throws {
        do { try Data(svg.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch { throw CLIError("cannot write \(path): \(error.localizedDescription)") }
    }

    /// The first prompt's tokens, as text, from the sidecar's token ids and a tokenizer;
    /// nil when either is missing.
    static func promptTokens(sidecar: String, model: String?) -> [String]? {
        guard let data = FileManager.default.contents(atPath: sidecar), let json = try? JSONValue.parse(data),
              let ids = json["blocks"]?.arrayValue?.first?["token_ids"]?.arrayValue?.first?.arrayValue?.compactMap(\.intValue),
              let dir = model ?? json["model"]?.stringValue,
              let tokenizer = try? Tokenizer(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent("tokenizer.json")) else { return nil }
        return ids.map { tokenizer.decode([$0]) }
    }
}
