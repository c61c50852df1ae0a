/// The `Encoder` of `FastJSON.encode`: each value is built into a `FastJSON.Node`. Coding paths are not kept:
/// anything it cannot write as Foundation would gives up (`Session`), and Foundation encodes the value again.
extension FastJSON {
    final class NodeEncoder: Encoder {
        let node = Node()
        let session: Session
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        init(session: Session) { self.session = session }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            becomes(.object)
            return KeyedEncodingContainer(KeyedWriter<Key>(node: node, session: session))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            becomes(.array)
            return UnkeyedWriter(node: node, session: session)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            SingleWriter(node: node, session: session)
        }

        /// A second container of the same kind goes on with the same value, as in Foundation; another kind
        /// is Foundation's to judge.
        func becomes(_ kind: Node.Kind) {
            if node.kind == .unset { node.kind = kind } else if node.kind != kind { _ = session.giveUp() }
        }
    }

    static let null = Array("null".utf8)
    static let `true` = Array("true".utf8)
    static let `false` = Array("false".utf8)

    struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let session: Session
        var codingPath: [any CodingKey] { [] }

        func add(_ child: Node.Child, _ key: Key) throws {
            node.keys.append(try FastJSON.snakeCased(key.stringValue, session))
            node.children.append(child)
        }

        func add(_ value: some BinaryInteger, _ key: Key) throws { try add(.text(session.write(value)), key) }

        mutating func encodeNil(forKey key: Key) throws { try add(.text(session.write(FastJSON.null)), key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { try add(.text(session.write(value)), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { try add(.text(session.write(value)), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { throw session.giveUp() }
        mutating func encode(_ value: Float, forKey key: Key) throws { throw session.giveUp() }
        mutating func encode(_ value: Int, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { try add(value, key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { try add(value, key) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try add(FastJSON.node(for: value, session).asChild, key)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type,
            forKey key: Key
        ) -> KeyedEncodingContainer<NestedKey> {
            let child = Node(.object)
            do { try add(.node(child), key) } catch { _ = session.giveUp() }
            return KeyedEncodingContainer(KeyedWriter<NestedKey>(node: child, session: session))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = Node(.array)
            do { try add(.node(child), key) } catch { _ = session.giveUp() }
            return UnkeyedWriter(node: child, session: session)
        }

        mutating func superEncoder() -> any Encoder { FastJSON.superEncoder(session) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { FastJSON.superEncoder(session) }
    }

    /// Inheritance's encoders are not ours to imitate: the value goes to Foundation.
    static func superEncoder(_ session: Session) -> any Encoder {
        _ = session.giveUp()
        return NodeEncoder(session: session)
    }

    struct UnkeyedWriter: UnkeyedEncodingContainer {
        let node: Node
        let session: Session
        var codingPath: [any CodingKey] { [] }
        var count: Int { node.children.count }

        func add(_ child: Node.Child) { node.children.append(child) }
        func add(_ value: some BinaryInteger) { add(.text(session.write(value))) }

        mutating func encodeNil() throws { add(.text(session.write(FastJSON.null))) }
        mutating func encode(_ value: Bool) throws { add(.text(session.write(value))) }
        mutating func encode(_ value: String) throws { add(.text(try session.write(value))) }
        mutating func encode(_ value: Double) throws { throw session.giveUp() }
        mutating func encode(_ value: Float) throws { throw session.giveUp() }
        mutating func encode(_ value: Int) throws { add(value) }
        mutating func encode(_ value: Int8) throws { add(value) }
        mutating func encode(_ value: Int16) throws { add(value) }
        mutating func encode(_ value: Int32) throws { add(value) }
        mutating func encode(_ value: Int64) throws { add(value) }
        mutating func encode(_ value: UInt) throws { add(value) }
        mutating func encode(_ value: UInt8) throws { add(value) }
        mutating func encode(_ value: UInt16) throws { add(value) }
        mutating func encode(_ value: UInt32) throws { add(value) }
        mutating func encode(_ value: UInt64) throws { add(value) }
        mutating func encode<T: Encodable>(_ value: T) throws { add(try FastJSON.node(for: value, session).asChild) }

        mutating func nestedContainer<NestedKey: CodingKey>(
            keyedBy keyType: NestedKey.Type
        ) -> KeyedEncodingContainer<NestedKey> {
            let child = Node(.object)
            add(.node(child))
            return KeyedEncodingContainer(KeyedWriter<NestedKey>(node: child, session: session))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = Node(.array)
            add(.node(child))
            return UnkeyedWriter(node: child, session: session)
        }

        mutating func superEncoder() -> any Encoder { FastJSON.superEncoder(session) }
    }

    /// One value: it takes the place of the node the encoder was given.
    struct SingleWriter: SingleValueEncodingContainer {
        let node: Node
        let session: Session
        var codingPath: [any CodingKey] { [] }

        func set(_ value: Node) {
            guard node.kind == .unset else {
                _ = session.giveUp()
                return
            }
            node.take(value)
        }

        func set(_ text: Range<Int>) { set(Node(text: text)) }
        func set(_ value: some BinaryInteger) { set(session.write(value)) }

        mutating func encodeNil() throws { set(session.write(FastJSON.null)) }
        mutating func encode(_ value: Bool) throws { set(session.write(value)) }
        mutating func encode(_ value: String) throws { set(try session.write(value)) }
        mutating func encode(_ value: Double) throws { throw session.giveUp() }
        mutating func encode(_ value: Float) throws { throw session.giveUp() }
        mutating func encode(_ value: Int) throws { set(value) }
        mutating func encode(_ value: Int8) throws { set(value) }
        mutating func encode(_ value: Int16) throws { set(value) }
        mutating func encode(_ value: Int32) throws { set(value) }
        mutating func encode(_ value: Int64) throws { set(value) }
        mutating func encode(_ value: UInt) throws { set(value) }
        mutating func encode(_ value: UInt8) throws { set(value) }
        mutating func encode(_ value: UInt16) throws { set(value) }
        mutating func encode(_ value: UInt32) throws { set(value) }
        mutating func encode(_ value: UInt64) throws { set(value) }
        mutating func encode<T: Encodable>(_ value: T) throws { set(try FastJSON.node(for: value, session)) }
    }
}

extension FastJSON.Session {
    /// Appends a scalar's text to the encoding's buffer; its range there.
    func write(_ bytes: [UInt8]) -> Range<Int> {
        let start = text.count
        text += bytes
        return start..<text.count
    }

    func write(_ value: Bool) -> Range<Int> { write(value ? FastJSON.true : FastJSON.false) }

    func write(_ value: some BinaryInteger) -> Range<Int> {
        let start = text.count
        text += String(value).utf8
        return start..<text.count
    }

    func write(_ value: String) throws -> Range<Int> {
        let start = text.count
        try FastJSON.appendString(value, to: &text, self)
        return start..<text.count
    }
}
