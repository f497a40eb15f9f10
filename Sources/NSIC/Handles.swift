import Foundation
import NSI
import NSIJSON
import NSITensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The objects behind the C handles. A handle is a retained reference made opaque; its
// free function releases it. C strings and shapes handed out live as long as the object.

/// A C string copied into malloc'd memory (NUL-terminated; a NUL inside ends it).
func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
    guard let p = strdup(s) else { fatalError("out of memory copying a string") }
    return p
}

final class ModelHandle {
    let model: Model
    let hash: UnsafeMutablePointer<CChar>

    init(_ model: Model) {
        self.model = model
        hash = cString(model.signatureHash)
    }

    deinit { free(hash) }
}

final class PlanHandle {
    let plan: Plan
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int
    let paramsJSON: UnsafeMutablePointer<CChar>

    init(_ plan: Plan) {
        self.plan = plan
        let count = plan.bytes.count
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        plan.bytes.withUnsafeBytes { if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: count) } }
        (bytes, byteCount) = (copy, count)
        paramsJSON = cString(Self.json(plan.params))
    }

    deinit {
        bytes.deallocate()
        free(paramsJSON)
    }

    static func json(_ params: [Plan.Param]) -> String {
        "[" + params.map { p in
            "{\"name\":\(JSONValue.quote(p.name)),\"type\":\(JSONValue.quote(p.type)),\"binding\":\(JSONValue.quote(p.binding.rawValue)),\"value\":"
                + (p.value.map(JSONValue.quote) ?? "null") + "}"
        }.joined(separator: ",") + "]"
    }
}

final class ResultHandle {
    let results: Results
    let names: [UnsafeMutablePointer<CChar>]
    let shapes: [UnsafeMutablePointer<Int64>]
    let json: UnsafeMutablePointer<CChar>

    init(_ results: Results) {
        self.results = results
        names = results.tensors.map { cString($0.name) }
        shapes = results.tensors.map { _, t in
            let p = UnsafeMutablePointer<Int64>.allocate(capacity: max(t.shape.count, 1))
            for (i, d) in t.shape.enumerated() { p[i] = Int64(d) }
            return p
        }
        json = cString(results.json)
    }

    deinit {
        names.forEach { free($0) }
        shapes.forEach { $0.deallocate() }
        free(json)
    }
}

final class CancelHandle {
    let cancellation = Cancellation()
}

func retain<T: AnyObject>(_ object: T) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(object).toOpaque())
}

func object<T: AnyObject>(_ handle: OpaquePointer?, as: T.Type) -> T? {
    guard let handle else { return nil }
    return Unmanaged<T>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

func release<T: AnyObject>(_ handle: OpaquePointer?, as: T.Type) {
    guard let handle else { return }
    Unmanaged<T>.fromOpaque(UnsafeRawPointer(handle)).release()
}

// MARK: The last error, per thread

/// A thread's last error message, malloc'd; freed when replaced or when the thread ends.
private let lastErrorKey: pthread_key_t = {
    var key = pthread_key_t()
    let rc = pthread_key_create(&key) { free($0) }
    precondition(rc == 0, "pthread_key_create failed")
    return key
}()

func setLastError(_ message: String) {
    free(pthread_getspecific(lastErrorKey))
    pthread_setspecific(lastErrorKey, cString(message))
}

func lastError() -> UnsafePointer<CChar>? {
    pthread_getspecific(lastErrorKey).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
}
