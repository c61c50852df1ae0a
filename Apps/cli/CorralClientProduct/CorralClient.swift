// The root package vends Packages/CorralClient as its `CorralClient` library product. A product may only
// hold the package's own targets, and a root target named CorralClient would clash with the package's
// module, so this target re-exports it: `import CorralClient` works for users of either product.
@_exported public import CorralClient
