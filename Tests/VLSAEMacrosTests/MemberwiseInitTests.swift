import SwiftSyntaxMacros
import SwiftSyntaxMacrosTestSupport
import VLSAEMacros
import XCTest

final class MemberwiseInitTests: XCTestCase {
    private let macros: [String: Macro.Type] = ["MemberwiseInit": MemberwiseInitMacro.self]

    func testStoredPropertiesInOrderWithDefaultsAtTheStructsAccessLevel() {
        // The members the macro must read: stored (with and without defaults, a closure, an observed
        // property) and skipped (an initialised let, a static, a computed property).
        let members = """
                public var path: String
                public var k: Int? = nil
                public var threads: Int = 1
                public let version = 2
                public static var shared = 0
                public var rows: Int { 3 }
                public var log: (String) -> Void
                public var tag: String = "x" {
                    didSet { print(tag) }
                }
            """
        assertMacroExpansion(
            "@MemberwiseInit\npublic struct Options {\n\(members)\n}",
            expandedSource: """
                public struct Options {
                \(members)

                    public init(path: String, k: Int? = nil, threads: Int = 1, log: @escaping (String) -> Void, tag: String = "x") {
                        self.path = path
                        self.k = k
                        self.threads = threads
                        self.log = log
                        self.tag = tag
                    }
                }
                """,
            macros: macros)
    }

    func testInternalStructGetsAnInternalInit() {
        assertMacroExpansion(
            """
            @MemberwiseInit
            struct Point {
                let x: Double, y: Double
            }
            """,
            expandedSource: """
                struct Point {
                    let x: Double, y: Double

                    init(x: Double, y: Double) {
                        self.x = x
                        self.y = y
                    }
                }
                """,
            macros: macros)
    }

    func testAPropertyWithoutATypeIsAnError() {
        assertMacroExpansion(
            """
            @MemberwiseInit
            struct Counter {
                var count = 0
            }
            """,
            expandedSource: """
                struct Counter {
                    var count = 0
                }
                """,
            diagnostics: [
                DiagnosticSpec(
                    message: "@MemberwiseInit: stored property 'count' needs an explicit type", line: 1, column: 1)
            ],
            macros: macros)
    }
}
