internal import CLinuxShims
internal import Glibc

/// Starts a dedicated, detached pthread (never a cooperative-pool thread) that runs `body` once.
enum ReactorThread {
    private final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(POSIXCallError) {
        let box = Unmanaged.passRetained(Box(name: name, body: body))
        // Heap-allocated and initialised by pthread_attr_init: the importer ties pthread_attr_t's zero
        // initializer to whichever C module first pulled in <pthread.h> (MemberImportVisibility then balks).
        let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
        pthread_attr_init(attributes)
        defer {
            pthread_attr_destroy(attributes)
            attributes.deallocate()
        }
        pthread_attr_setdetachstate(attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread: pthread_t = 0
        let status = pthread_create(
            &thread,
            attributes,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                _ = clinux_pthread_setname_self(box.name)
                box.body()
                return nil
            },
            box.toOpaque()
        )
        if status != 0 {
            box.release()
            throw POSIXCallError(function: "pthread_create", errno: status)
        }
    }
}
