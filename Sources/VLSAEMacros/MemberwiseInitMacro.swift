import SwiftCompilerPlugin
import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacros

/// `@MemberwiseInit` (declared in VLSAECore): the initialiser Swift synthesises for a struct, but with the
/// struct's own access level, so a public record needs no hand-written `init` that restates its fields.
///
/// Parameters are the stored properties in declaration order; a property's initial value becomes
/// its parameter's default. Skipped: static properties, computed properties and `let`s that already
/// have a value. A property of function type is taken `@escaping`.
public struct MemberwiseInitMacro: MemberMacro {
    /// The `init` of the struct `declaration` is attached to.
    public static func expansion(
        of node: AttributeSyntax, providingMembersOf declaration: some DeclGroupSyntax,
        conformingTo protocols: [TypeSyntax], in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        var parameters: [String] = []
        var assignments: [String] = []
        for member in declaration.memberBlock.members {
            guard let variable = member.decl.as(VariableDeclSyntax.self) else { continue }
            let isStatic = variable.modifiers.contains {
                $0.name.tokenKind == .keyword(.static) || $0.name.tokenKind == .keyword(.class)
            }
            if isStatic { continue }
            let isLet = variable.bindingSpecifier.tokenKind == .keyword(.let)
            for binding in variable.bindings {
                guard let name = binding.pattern.as(IdentifierPatternSyntax.self)?.identifier.trimmedDescription
                else { continue }
                if let accessors = binding.accessorBlock, isComputed(accessors) { continue }
                if isLet && binding.initializer != nil { continue }
                guard let type = binding.typeAnnotation?.type else {
                    throw MacroError("@MemberwiseInit: stored property '\(name)' needs an explicit type")
                }
                let isFunction = type.is(FunctionTypeSyntax.self) || type.is(AttributedTypeSyntax.self)
                let escaping = isFunction ? "@escaping " : ""
                let value = binding.initializer.map { " = \($0.value.trimmedDescription)" } ?? ""
                parameters.append("\(name): \(escaping)\(type.trimmedDescription)\(value)")
                assignments.append("self.\(name) = \(name)")
            }
        }
        let access = declaration.modifiers.first {
            [.keyword(.public), .keyword(.package), .keyword(.fileprivate), .keyword(.private)]
                .contains($0.name.tokenKind)
        }
        let prefix = access.map { $0.name.text == "private" ? "fileprivate " : "\($0.name.text) " } ?? ""
        let initialiser: DeclSyntax = """
            \(raw: prefix)init(\(raw: parameters.joined(separator: ", "))) {
            \(raw: assignments.joined(separator: "\n"))
            }
            """
        return [initialiser]
    }

    /// A `get` (explicit or implicit) makes a property computed; `willSet`/`didSet` keep it stored.
    private static func isComputed(_ block: AccessorBlockSyntax) -> Bool {
        switch block.accessors {
        case .getter: return true
        case .accessors(let list):
            let getters: [TokenKind] = [.keyword(.get), .keyword(._read), .keyword(._modify)]
            return list.contains { getters.contains($0.accessorSpecifier.tokenKind) }
        }
    }
}

/// A macro's error, shown by the compiler at the attribute.
struct MacroError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@main
struct VLSAEMacrosPlugin: CompilerPlugin {
    let providingMacros: [Macro.Type] = [MemberwiseInitMacro.self]
}
