/// Field-by-field equality of programs (a decoded plan equals the program encoded).
/// `ParamInfo` holds a tuple, so its equality is written out.
extension ParamInfo: Equatable {
    public static func == (a: ParamInfo, b: ParamInfo) -> Bool {
        a.name == b.name && a.type == b.type && a.binding == b.binding && a.value == b.value && a.range == b.range
            && a.tensorDefault?.shape == b.tensorDefault?.shape && a.tensorDefault?.data == b.tensorDefault?.data
    }
}

extension Program: Equatable {
    public static func == (a: Program, b: Program) -> Bool {
        a.params == b.params && a.blocks == b.blocks && a.instructions == b.instructions && a.saves == b.saves
            && a.signatureHash == b.signatureHash
    }
}
