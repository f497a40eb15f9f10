import Foundation

/// What `load(...)` may read while a script is checked: a policy of the checker, so a
/// host decides it once and every way of writing a call (`load (`, a name split over
/// lines) meets it.
public enum FilePolicy: Sendable, Equatable {
    /// Any file: a relative path is relative to this directory (the script's, for the CLI).
    case relativeTo(String)
    /// Only regular files under this directory, after `..` and symbolic links are
    /// resolved; a relative path is relative to it. Errors never name what lies outside.
    case under(String)
    /// No file: `load` is an error that gives this reason (a server compiling for clients).
    case refused(String)

    public struct Refusal: Error, Equatable {
        public let reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// The path `load` reads for the script's `file`, or why it may not.
    public func resolve(_ file: String) -> Result<String, Refusal> {
        switch self {
        case .refused(let reason):
            return .failure(Refusal(reason: reason))
        case .relativeTo(let base):
            return .success(file.hasPrefix("/") ? file : (base as NSString).appendingPathComponent(file))
        case .under(let directory):
            let root = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
            let candidate = file.hasPrefix("/") ? URL(fileURLWithPath: file) : URL(fileURLWithPath: root).appendingPathComponent(file)
            let resolved = candidate.standardizedFileURL.resolvingSymlinksInPath().path
            guard resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
                return .failure(Refusal(reason: "`\(file)` is outside the directory scripts may read from"))
            }
            var st = stat()
            if stat(resolved, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                return .failure(Refusal(reason: "`\(file)` is not a regular file"))
            }
            return .success(resolved)
        }
    }
}
