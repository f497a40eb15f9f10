import Foundation

/// The tiny random models of Tests/Fixtures/tiny: the one list every test that runs "each
/// tiny model" takes its arguments from. Scripts/make-tiny-models makes each folder (config,
/// weights, reference); Tests/Fixtures/README.md says what each one exercises.
extension Fixtures {
    /// Every tiny model, one per folder of Tests/Fixtures/tiny (TinyModelParityTests checks
    /// that the list and the folders agree).
    public static let tinyModels = [
        "tiny-gpt2", "tiny-llama3", "tiny-llama3-bf16", "tiny-llama-linear", "tiny-mistral", "tiny-qwen2",
        "tiny-qwen3", "tiny-gpt-neox", "tiny-gpt-neox-sequential", "tiny-gemma2", "tiny-gemma3", "tiny-olmo2",
        "tiny-phi3",
    ]

    /// The tiny models whose weights are stored in f32 (config.json's `dtype`), for tests
    /// that read the file's bytes as floats; tiny-llama3-bf16 is stored in bf16.
    public static let tinyModelsStoredInF32 = tinyModels.filter { tinyConfig($0)["dtype"] as? String == "float32" }

    /// A tiny model's config.json as a dictionary (empty when it cannot be read).
    public static func tinyConfig(_ name: String) -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: tiny(name) + "/config.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }
}
