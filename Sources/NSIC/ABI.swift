import Foundation
import NSI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The functions of include/nsi.h, one by one. Status codes are NSIError.Kind's raw
// values, plus the ones below; no Swift error or type crosses the boundary.

private let statusOK: Int32 = 0
private let statusArgument: Int32 = 1
private let statusCompile: Int32 = 3
private let statusInternal: Int32 = 9

private let versionString = StaticCString("\(NSI.version)")
private let emptyString = StaticCString("")
private let unknownDType = StaticCString("?")
private let dtypeNames = DType.allCases.map { StaticCString($0.rawValue) }

/// A C string that lives as long as the library.
private final class StaticCString: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<CChar>
    init(_ s: String) { pointer = cString(s) }
}

private func fail(_ status: Int32, _ message: String) -> Int32 {
    setLastError(message)
    return status
}

private func fail(_ error: any Error) -> Int32 {
    switch error {
    case let e as NSIError: return fail(e.kind.rawValue, e.message)
    case let e as CompileError: return fail(statusCompile, e.report)
    default: return fail(statusInternal, "internal: \(error)")
    }
}

private func dtypeCode(_ d: DType) -> Int32 { Int32(DType.allCases.firstIndex(of: d)!) }

@_cdecl("nsi_version")
public func nsi_version() -> UnsafePointer<CChar> { UnsafePointer(versionString.pointer) }

private let systemInfoString = StaticCString(NSI.systemInfo)

@_cdecl("nsi_system_info")
public func nsi_system_info() -> UnsafePointer<CChar> { UnsafePointer(systemInfoString.pointer) }

@_cdecl("nsi_last_error")
public func nsi_last_error() -> UnsafePointer<CChar> { lastError() ?? UnsafePointer(emptyString.pointer) }

@_cdecl("nsi_dtype_name")
public func nsi_dtype_name(_ dtype: Int32) -> UnsafePointer<CChar> {
    guard dtype >= 0 && Int(dtype) < dtypeNames.count else { return UnsafePointer(unknownDType.pointer) }
    return UnsafePointer(dtypeNames[Int(dtype)].pointer)
}

@_cdecl("nsi_dtype_size")
public func nsi_dtype_size(_ dtype: Int32) -> Int {
    guard dtype >= 0 && Int(dtype) < DType.allCases.count else { return 0 }
    return DType.allCases[Int(dtype)].size
}

// MARK: Models

@_cdecl("nsi_model_load")
public func nsi_model_load(_ directory: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(statusArgument, "nsi_model_load: out_model is NULL") }
    out.pointee = nil
    guard let directory else { return fail(statusArgument, "nsi_model_load: directory is NULL") }
    do {
        out.pointee = retain(ModelHandle(try Model(directory: String(cString: directory))))
        return statusOK
    } catch {
        return fail(error)
    }
}

@_cdecl("nsi_model_free")
public func nsi_model_free(_ model: OpaquePointer?) { release(model, as: ModelHandle.self) }

@_cdecl("nsi_model_signature_hash")
public func nsi_model_signature_hash(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
    object(model, as: ModelHandle.self).map { UnsafePointer($0.hash) }
}

@_cdecl("nsi_model_decode")
public func nsi_model_decode(_ model: OpaquePointer?, _ ids: UnsafePointer<Int64>?, _ count: Int,
                             _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let out else { return fail(statusArgument, "nsi_model_decode: out_text is NULL") }
    out.pointee = nil
    guard let handle = object(model, as: ModelHandle.self) else { return fail(statusArgument, "nsi_model_decode: model is NULL") }
    guard count >= 0, count == 0 || ids != nil else { return fail(statusArgument, "nsi_model_decode: ids is NULL") }
    let list = (0..<count).map { Int(ids![$0]) }
    guard let text = handle.model.decode(list) else {
        return fail(statusArgument, "nsi_model_decode: the model has no tokenizer, or an id is outside its vocabulary")
    }
    out.pointee = cString(text)
    return statusOK
}

// MARK: Plans

@_cdecl("nsi_compile")
public func nsi_compile(_ model: OpaquePointer?, _ source: UnsafePointer<CChar>?, _ length: Int, _ path: UnsafePointer<CChar>?,
                        _ paramsJSON: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                        _ diagnosticsJSON: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    diagnosticsJSON?.pointee = nil
    guard let out else { return fail(statusArgument, "nsi_compile: out_plan is NULL") }
    out.pointee = nil
    guard let handle = object(model, as: ModelHandle.self) else { return fail(statusArgument, "nsi_compile: model is NULL") }
    guard let source, length >= 0 else { return fail(statusArgument, "nsi_compile: source is NULL") }
    let text = String(decoding: UnsafeRawBufferPointer(start: source, count: length), as: UTF8.self)
    do {
        var params: [String: String] = [:]
        for (name, value) in try JSONParam.object(paramsJSON) { params[name] = try value.text(name) }
        let plan = try Plan(compiling: text, for: handle.model, path: path.map { String(cString: $0) } ?? "script.nsi", params: params)
        diagnosticsJSON?.pointee = cString(plan.warnings.json)
        out.pointee = retain(PlanHandle(plan))
        return statusOK
    } catch let e as CompileError {
        diagnosticsJSON?.pointee = cString(e.diagnostics.json)
        return fail(e)
    } catch {
        diagnosticsJSON?.pointee = cString("[]")
        return fail(error)
    }
}

@_cdecl("nsi_plan_from_bytes")
public func nsi_plan_from_bytes(_ model: OpaquePointer?, _ bytes: UnsafeRawPointer?, _ length: Int,
                                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(statusArgument, "nsi_plan_from_bytes: out_plan is NULL") }
    out.pointee = nil
    guard let handle = object(model, as: ModelHandle.self) else { return fail(statusArgument, "nsi_plan_from_bytes: model is NULL") }
    guard let bytes, length >= 0 else { return fail(statusArgument, "nsi_plan_from_bytes: bytes is NULL") }
    do {
        out.pointee = retain(PlanHandle(try Plan(bytes: Data(bytes: bytes, count: length), for: handle.model)))
        return statusOK
    } catch {
        return fail(error)
    }
}

@_cdecl("nsi_plan_bytes")
public func nsi_plan_bytes(_ plan: OpaquePointer?, _ length: UnsafeMutablePointer<Int>?) -> UnsafeRawPointer? {
    guard let handle = object(plan, as: PlanHandle.self) else {
        length?.pointee = 0
        return nil
    }
    length?.pointee = handle.byteCount
    return UnsafeRawPointer(handle.bytes)
}

@_cdecl("nsi_plan_params_json")
public func nsi_plan_params_json(_ plan: OpaquePointer?) -> UnsafePointer<CChar>? {
    object(plan, as: PlanHandle.self).map { UnsafePointer($0.paramsJSON) }
}

@_cdecl("nsi_plan_dump")
public func nsi_plan_dump(_ model: OpaquePointer?, _ plan: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    guard let out else { return fail(statusArgument, "nsi_plan_dump: out_text is NULL") }
    out.pointee = nil
    guard let m = object(model, as: ModelHandle.self) else { return fail(statusArgument, "nsi_plan_dump: model is NULL") }
    guard let p = object(plan, as: PlanHandle.self) else { return fail(statusArgument, "nsi_plan_dump: plan is NULL") }
    do {
        out.pointee = cString(try p.plan.dump(for: m.model))
        return statusOK
    } catch {
        return fail(error)
    }
}

@_cdecl("nsi_plan_free")
public func nsi_plan_free(_ plan: OpaquePointer?) { release(plan, as: PlanHandle.self) }

// MARK: Cancellation

@_cdecl("nsi_cancel_new")
public func nsi_cancel_new() -> OpaquePointer { retain(CancelHandle()) }

@_cdecl("nsi_cancel_trigger")
public func nsi_cancel_trigger(_ cancel: OpaquePointer?) { object(cancel, as: CancelHandle.self)?.cancellation.cancel() }

@_cdecl("nsi_cancel_free")
public func nsi_cancel_free(_ cancel: OpaquePointer?) { release(cancel, as: CancelHandle.self) }

// MARK: Runs

@_cdecl("nsi_run")
public func nsi_run(_ model: OpaquePointer?, _ plan: OpaquePointer?, _ paramsJSON: UnsafePointer<CChar>?, _ cancel: OpaquePointer?,
                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let out else { return fail(statusArgument, "nsi_run: out_result is NULL") }
    out.pointee = nil
    guard let m = object(model, as: ModelHandle.self) else { return fail(statusArgument, "nsi_run: model is NULL") }
    guard let p = object(plan, as: PlanHandle.self) else { return fail(statusArgument, "nsi_run: plan is NULL") }
    do {
        var params: [String: Value] = [:]
        for (name, value) in try JSONParam.object(paramsJSON) { params[name] = try value.value(name) }
        let results = try m.model.run(p.plan, params: params, cancellation: object(cancel, as: CancelHandle.self)?.cancellation)
        out.pointee = retain(ResultHandle(results))
        return statusOK
    } catch {
        return fail(error)
    }
}

private func tensor(_ result: OpaquePointer?, _ i: Int) -> (ResultHandle, Int)? {
    guard let handle = object(result, as: ResultHandle.self), i >= 0, i < handle.results.tensors.count else { return nil }
    return (handle, i)
}

@_cdecl("nsi_result_count")
public func nsi_result_count(_ result: OpaquePointer?) -> Int { object(result, as: ResultHandle.self)?.results.tensors.count ?? 0 }

@_cdecl("nsi_result_name")
public func nsi_result_name(_ result: OpaquePointer?, _ i: Int) -> UnsafePointer<CChar>? {
    tensor(result, i).map { h, i in UnsafePointer(h.names[i]) }
}

@_cdecl("nsi_result_dtype")
public func nsi_result_dtype(_ result: OpaquePointer?, _ i: Int) -> Int32 {
    tensor(result, i).map { h, i in dtypeCode(h.results.tensors[i].tensor.dtype) } ?? -1
}

@_cdecl("nsi_result_rank")
public func nsi_result_rank(_ result: OpaquePointer?, _ i: Int) -> Int {
    tensor(result, i).map { h, i in h.results.tensors[i].tensor.shape.count } ?? 0
}

@_cdecl("nsi_result_shape")
public func nsi_result_shape(_ result: OpaquePointer?, _ i: Int) -> UnsafePointer<Int64>? {
    tensor(result, i).map { h, i in UnsafePointer(h.shapes[i]) }
}

@_cdecl("nsi_result_data")
public func nsi_result_data(_ result: OpaquePointer?, _ i: Int) -> UnsafeRawPointer? {
    tensor(result, i).map { h, i in h.results.tensors[i].tensor.baseAddress }
}

@_cdecl("nsi_result_byte_size")
public func nsi_result_byte_size(_ result: OpaquePointer?, _ i: Int) -> Int {
    tensor(result, i).map { h, i in h.results.tensors[i].tensor.byteCount } ?? 0
}

@_cdecl("nsi_result_find")
public func nsi_result_find(_ result: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> Int64 {
    guard let handle = object(result, as: ResultHandle.self), let name else { return -1 }
    let key = String(cString: name)
    return handle.results.tensors.firstIndex { $0.name == key }.map(Int64.init) ?? -1
}

@_cdecl("nsi_result_json")
public func nsi_result_json(_ result: OpaquePointer?) -> UnsafePointer<CChar>? {
    object(result, as: ResultHandle.self).map { UnsafePointer($0.json) }
}

@_cdecl("nsi_result_free")
public func nsi_result_free(_ result: OpaquePointer?) { release(result, as: ResultHandle.self) }

@_cdecl("nsi_string_free")
public func nsi_string_free(_ string: UnsafeMutablePointer<CChar>?) { free(string) }
