/// The few ANSI styles the renderer uses. Plain output uses none of them, so tests and
/// files never see escape codes.
enum Style: Sendable {
    case errorHeader
    case warningHeader
    case message
    case gutter
    case primaryError
    case primaryWarning
    case secondary
    case noteHeader

    var escape: String {
        switch self {
        case .errorHeader, .primaryError: "\u{1B}[1;31m"
        case .warningHeader, .primaryWarning: "\u{1B}[1;33m"
        case .message, .noteHeader: "\u{1B}[1m"
        case .gutter, .secondary: "\u{1B}[1;34m"
        }
    }

    static let reset = "\u{1B}[0m"
}

/// Applies styles only when color is on.
struct Painter: Sendable {
    var useColor: Bool

    func paint(_ text: String, _ style: Style?) -> String {
        guard useColor, let style, !text.isEmpty else { return text }
        return style.escape + text + Style.reset
    }
}
