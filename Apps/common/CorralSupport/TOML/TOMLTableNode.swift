/// Tables under construction are reference types so headers and dotted keys can reach into them; they
/// become `TOMLTable` values at the end.
final class TableNode {
    enum Kind {
        /// Created as the parent of a header (`[a.b]` creates `a`): a later `[a]` may still define it.
        case implicit
        /// Defined by a `[header]` or `[[header]]` (or the root).
        case header
        /// Created by a dotted key (`a.b = 1` creates `a`): only more dotted keys in the same table may add to it.
        case dotted
    }

    enum Entry {
        /// A value written after `=`, including inline tables and arrays: sealed.
        case value(TOMLValue)
        case table(TableNode)
        case arrayOfTables(ArrayOfTables)
    }

    var kind: Kind
    var keys: [String] = []
    var entries: [String: Entry] = [:]

    init(kind: Kind) { self.kind = kind }

    func add(_ key: String, _ entry: Entry) {
        if entries.updateValue(entry, forKey: key) == nil { keys.append(key) }
    }

    func toTable() -> TOMLTable {
        var table = TOMLTable()
        for key in keys {
            switch entries[key] {
            case .value(let value):
                table.set(key, value)
            case .table(let node):
                table.set(key, .table(node.toTable()))
            case .arrayOfTables(let array):
                table.set(key, .array(array.elements.map { .table($0.toTable()) }))
            case nil:
                break
            }
        }
        return table
    }
}

final class ArrayOfTables {
    var elements: [TableNode] = []
}
