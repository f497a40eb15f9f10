import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import NSICheck
import NSIPlot
import NSIRuntime
import NSISource
import NSISyntax
import NSITensor
import NSIVM
@testable import NSICLI
import NSITestSupport

/// Counts the elements of an SVG by name; nil when it is not well-formed XML.
func svgElements(_ svg: String) -> [String: Int]? {
    final class Counter: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        var texts: [String] = []
        var inText = false
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            counts[name, default: 0] += 1
            inText = name == "text"
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { texts.append(string) } }
    }
    let parser = XMLParser(data: Data(svg.utf8))
    let counter = Counter()
    parser.delegate = counter
    return parser.parse() ? counter.counts : nil
}

/// `rsvg-convert`, a real SVG renderer, or nil (a failure when `NSI_TEST_REQUIRE` names rsvg).
func rsvgConvert() -> String? {
    for dir in ["/usr/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/rsvg-convert") { return dir + "/rsvg-convert" }
    if (ProcessInfo.processInfo.environment["NSI_TEST_REQUIRE"] ?? "").split(separator: ",").contains("rsvg") {
        Issue.record("NSI_TEST_REQUIRE names rsvg, but rsvg-convert is not installed (Scripts/setup installs librsvg2-bin)")
    }
    return nil
}

/// Renders an SVG to PNG; the PNG's width and height.
func render(_ svgPath: String, _ rsvg: String) throws -> (Int, Int) {
    let png = svgPath + ".png"
    let p = Process()
    p.executableURL = URL(fileURLWithPath: rsvg)
    p.arguments = ["-o", png, svgPath]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0, "rsvg-convert failed on \(svgPath)")
    let data = try Data(contentsOf: URL(fileURLWithPath: png))
    #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]), "not a PNG")
    func be32(_ o: Int) -> Int { data[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}

@Suite struct SVGFigureTests {
    @Test func aLineChartOfProbabilitiesUsesALogScale() throws {
        let values = (0..<30).map { pow(10, Double($0) / 2 - 15) }
        let svg = SVGFigure.line(title: "p_paris <&> \"x\"", series: [("p", values)], xLabels: (0..<30).map(String.init), xTitle: "layer", yTitle: "p")
        let counts = try #require(svgElements(svg), "not well-formed")
        #expect(counts["polyline"] == 1 && counts["circle"] == 30)
        #expect(svg.contains("(log scale)") && svg.contains("1e-15") && svg.contains("p_paris &lt;&amp;&gt; &quot;x&quot;"))
        let linear = SVGFigure.line(title: "d", series: [("a", [-1, 0.5, 2]), ("b", [0, 1, 1])], xLabels: ["x", "y", "z"], xTitle: "", yTitle: "d")
        #expect(svgElements(linear)?["polyline"] == 2 && !linear.contains("log scale"))
    }

    @Test func aHeatmapHasACellPerValueAndItsColourScale() throws {
        let values = (0..<4).map { r in (0..<5).map { c in Double(r * 5 + c) - 7 } }
        let svg = SVGFigure.heatmap(title: "h", values: values, rowLabels: ["a", "b", "c", "d"], columnLabels: ["\u{1}", " the", "<x>", "é", "5"],
                                    rowTitle: "rows", columnTitle: "columns")
        let counts = try #require(svgElements(svg), "not well-formed")
        // 20 cells, 48 steps of the colour bar, the background, the frame of each.
        #expect(counts["rect"] == 20 + 48 + 3)
        #expect(counts["title"] == 20)
        // Both signs: the diverging scale, white at 0.
        #expect(svg.contains("#f7f7f7"))
        #expect(svg.contains("&lt;x&gt;") && svg.contains("\\x01"))
    }

    @Test func sparklines() {
        #expect(sparkline([0, 1, 2, 3]) == "▁▃▆█ min 0 max 3")
        #expect(sparkline([1e-15, 1e-10, 0.5]).hasSuffix("(log scale)"))
        #expect(sparkline([]) == "")
    }

    /// A file that is no results file, and results with nothing to draw: clear errors.
    @Test func plotRefusesWhatItCannotDraw() throws {
        let dir = try Fixtures.temporaryDirectory("plot-errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("not safetensors".utf8).write(to: URL(fileURLWithPath: dir + "/bad.safetensors"))
        #expect { try PlotCommand.parse([dir + "/bad.safetensors"]).run() } throws: { "\($0)".contains("bad.safetensors") }
        try SafetensorsWriter.write([("h", Tensor(shape: [576], floats: Array(repeating: 1, count: 576)))], metadata: [:], to: dir + "/vector.safetensors")
        #expect { try PlotCommand.parse([dir + "/vector.safetensors"]).run() } throws: { "\($0)".contains("no indexed series or 2-D value") }
    }

    @Test func figuresFromSavedValues() {
        var saved = (0..<5).map { SavedValue(name: "lens.\($0)", shape: [], values: [Double($0)]) }
        saved += [SavedValue(name: "grid.0.0", shape: [], values: [1]), SavedValue(name: "grid.0.1", shape: [], values: [2]),
                  SavedValue(name: "pattern", shape: [1, 3, 3], values: Array(repeating: 0.3, count: 9)),
                  SavedValue(name: "h", shape: [576], values: Array(repeating: 0, count: 576)),
                  SavedValue(name: "logits", shape: [1, 14, 49152], values: Array(repeating: 0, count: 14 * 49152))]
        let figures = Figures.make(saved, tokens: ["The", " city", " of"])
        #expect(figures.map(\.name).sorted() == ["grid", "lens", "pattern"])
        #expect(figures.first { $0.name == "pattern" }?.svg.contains(" city") == true)
    }
}

/// `nsi run --plot` and `nsi plot` on SmolLM2's samples: figures that parse and render.
@Suite(.enabled(if: fetchedModelDirectory != nil, "models/smollm2-135m not fetched"))
struct PlotCommandTests {
    @Test func runPlotsAndPlotDraws() throws {
        let dir = try Fixtures.temporaryDirectory("plot")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let samples = Golden.testsRoot.deletingLastPathComponent().appendingPathComponent("Samples").path
        let model = fetchedModelDirectory!
        try RunCommand.parse([samples + "/logit_lens.nsi", "--model", model, "--out", dir + "/lens.safetensors", "--quiet", "--plot", dir + "/figures"]).run()
        let lens = try String(contentsOfFile: dir + "/figures/p_paris.svg", encoding: .utf8)
        #expect(svgElements(lens)?["circle"] == 30)
        #expect(lens.contains("(log scale)"))

        try RunCommand.parse([samples + "/attention_pattern.nsi", "--model", model, "--out", dir + "/attn.safetensors", "--quiet"]).run()
        try PlotCommand.parse([dir + "/attn.safetensors", "pattern", "-o", dir + "/pattern.svg"]).run()
        let pattern = try String(contentsOfFile: dir + "/pattern.svg", encoding: .utf8)
        let counts = try #require(svgElements(pattern))
        #expect((counts["rect"] ?? 0) >= 14 * 14)
        #expect(pattern.contains(" Mary") && pattern.contains(" John"), "the prompt's tokens label the axes")
        #expect(throws: CLIError.self) { try PlotCommand.parse([dir + "/attn.safetensors", "nothing"]).run() }
        #expect(throws: CLIError.self) { try PlotCommand.parse([dir + "/attn.safetensors"]).run() }   // several figures, no name
        try PlotCommand.parse([dir + "/attn.safetensors", "--dir", dir + "/all"]).run()
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir + "/all")) == ["q.svg", "k.svg", "v.svg", "scores.svg", "pattern.svg", "z.svg"])

        if let rsvg = rsvgConvert() {
            for svg in [dir + "/figures/p_paris.svg", dir + "/pattern.svg"] {
                let (w, h) = try render(svg, rsvg)
                #expect(w >= 400 && h >= 250, "\(svg) rendered at \(w)x\(h)")
            }
        }
    }

    @Test func theRunSummaryShowsAnIndexedSeriesAsASparkline() throws {
        let dir = try Fixtures.temporaryDirectory("spark")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let samples = Golden.testsRoot.deletingLastPathComponent().appendingPathComponent("Samples").path
        let out = dir + "/r.safetensors"
        let model = try LanguageModel(directory: fetchedModelDirectory!)
        let parsed = Parser.parse(SourceFile(path: "logit_lens.nsi", text: try String(contentsOfFile: samples + "/logit_lens.nsi", encoding: .utf8)))
        let program = try #require(Checker.check(parsed, signature: model.signature).program)
        let summary = RunCommand.summary(try VM(model: model).run(program), model: model, out: out)
        let line = try #require(summary.split(separator: "\n").first { $0.hasPrefix("p_paris[0...29]: ") }, "\(summary)")
        #expect(line.contains("min ") && line.contains("max ") && line.contains("(log scale)"))
        #expect(!summary.contains("p_paris.3:"))
    }
}
