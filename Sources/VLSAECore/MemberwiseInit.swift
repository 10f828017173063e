/// Gives a struct the initialiser Swift would synthesise, at the struct's own access level: one
/// parameter per stored property, in declaration order, a property's initial value as its default.
///
/// Swift synthesises memberwise initialisers as `internal` only, so every public record shared
/// between stages (options, results, configurations) would otherwise carry a hand-written `init`
/// that restates its fields once more. Write the fields, their documentation and their defaults
/// once; `@MemberwiseInit` writes the rest. Types whose initialiser checks or derives anything keep
/// a hand-written one.
@attached(member, names: named(init))
public macro MemberwiseInit() = #externalMacro(module: "VLSAEMacros", type: "MemberwiseInitMacro")
