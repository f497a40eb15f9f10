import Testing
@testable import NSICLI

@Test func versionIsSemantic() {
    let parts = NSICommand.version.split(separator: ".")
    #expect(parts.count == 3)
    #expect(parts.allSatisfy { Int($0) != nil })
}
