/// What may stand on the left of `=` and after `skip`: paths, checked by shape here
/// (E0109, E0110); whether a path names a real point or module is the checker's rule.
extension Expr {
    /// A name, or a name or `model` followed by attributes and subscripts.
    var isAssignable: Bool {
        switch kind {
        case .name, .missing: true
        case .attribute(let attribute): attribute.base.isPathRoot
        case .subscript(let sub): sub.base.isPathRoot
        default: false
        }
    }

    private var isPathRoot: Bool {
        switch kind {
        case .name, .model, .missing: true
        case .attribute(let attribute): attribute.base.isPathRoot
        case .subscript(let sub): sub.base.isPathRoot
        default: false
        }
    }

    /// `model.` followed by attributes and subscripts (no calls).
    var isModulePath: Bool {
        switch kind {
        case .missing: true
        case .attribute(let attribute): attribute.base.isModulePathPrefix
        case .subscript(let sub): sub.base.isModulePathPrefix && !sub.base.isModelKeyword
        default: false
        }
    }

    private var isModulePathPrefix: Bool {
        switch kind {
        case .model: true
        case .attribute(let attribute): attribute.base.isModulePathPrefix
        case .subscript(let sub): sub.base.isModulePathPrefix
        default: false
        }
    }

    private var isModelKeyword: Bool {
        if case .model = kind { true } else { false }
    }
}
