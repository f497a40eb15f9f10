import Foundation

/// `24h`, `30m`, `90s`, `500ms` or plain seconds.
public func parseDuration(_ text: String) -> Double? {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        if let v = Double(text.dropLast(suffix.count)), v >= 0 { return v * scale }
    }
    return Double(text).flatMap { $0 >= 0 ? $0 : nil }
}

/// `4MB`, `512KB`, `1GB` or plain bytes.
public func parseByteSize(_ text: String) -> Int? {
    let units: [(String, Int)] = [("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30)]
    for (suffix, scale) in units where text.uppercased().hasSuffix(suffix) {
        if let v = Int(text.dropLast(suffix.count)), v >= 0 { return v * scale }
    }
    return Int(text).flatMap { $0 >= 0 ? $0 : nil }
}
