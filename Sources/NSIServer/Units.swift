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

/// A count with a decimal prefix: `100T`, `500G`, `2.5M`, `1k`, or a plain number (`2e12`).
public func parseCount(_ text: String) -> Double? {
    let units: [(String, Double)] = [("k", 1e3), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        if let v = Double(text.dropLast(suffix.count)), v >= 0, v.isFinite { return v * scale }
    }
    return Double(text).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil }
}
