import CBPF
import Foundation
import Synchronization

/// A compiled BPF object (`*.bpf.o`, built by scripts/build-bpf) loaded into the kernel, every
/// program in it attached where its section name says (tracepoints, kprobes, perf events are
/// attached by their owners). Unloaded when released.
final class BPFObject: @unchecked Sendable {
    // @unchecked: used by the source task's thread only, after construction.
    private let object: OpaquePointer
    private var links: [OpaquePointer] = []

    init(file name: String, autoAttach: Bool = true) throws {
        try BPFPermissions.check()
        let path = try BPFObjectFiles.locate(name)
        LibbpfLog.install()
        LibbpfLog.clear()
        guard let object = bpf_object__open_file(path, nil) else {
            throw ProbeError("cannot open \(path): \(String(cString: strerror(errno)))\(LibbpfLog.tail())")
        }
        self.object = object
        let loaded = bpf_object__load(object)
        // From here on, a throw runs deinit (every stored property is set): it closes the object.
        guard loaded == 0 else {
            throw ProbeError("the kernel refused the programs of \(name): \(String(cString: strerror(-loaded)))\(LibbpfLog.tail())")
        }
        guard autoAttach else { return }
        var program = bpf_object__next_program(object, nil)
        while let p = program {
            guard let link = bpf_program__attach(p) else {
                let why = String(cString: strerror(errno))
                let program = String(cString: bpf_program__name(p))
                throw ProbeError("cannot attach \(program) of \(name): \(why)\(LibbpfLog.tail())")
            }
            links.append(link)
            program = bpf_object__next_program(object, p)
        }
    }

    deinit {
        links.forEach { bpf_link__destroy($0) }
        bpf_object__close(object)
    }

    /// Attaches program `name` (a `perf_event` program) to an open perf event.
    func attach(program name: String, perfEvent fd: Int32) throws {
        guard let program = bpf_object__find_program_by_name(object, name) else { throw ProbeError("the BPF object has no program '\(name)'") }
        guard let link = bpf_program__attach_perf_event(program, fd) else {
            throw ProbeError("cannot attach \(name) to a perf event: \(String(cString: strerror(errno)))\(LibbpfLog.tail())")
        }
        links.append(link)
    }

    /// Every key of a hash map (raw bytes of `keySize`), as they are now.
    func keys(of map: String, keySize: Int) throws -> [[UInt8]] {
        let fd = try mapFD(map)
        var keys: [[UInt8]] = []
        var previous: [UInt8]? = nil
        var next = [UInt8](repeating: 0, count: keySize)
        while true {
            let r: Int32 = previous.map { p in p.withUnsafeBytes { bpf_map_get_next_key(fd, $0.baseAddress, &next) } } ?? bpf_map_get_next_key(fd, nil, &next)
            guard r == 0 else { break }
            keys.append(next)
            previous = next
        }
        return keys
    }

    func mapFD(_ name: String) throws -> Int32 {
        let fd = bpf_object__find_map_fd_by_name(object, name)
        guard fd >= 0 else { throw ProbeError("the BPF object has no map '\(name)'") }
        return fd
    }

    /// A counter kept in element 0 of an array map of UInt64 (events lost to a full buffer).
    func counter(_ map: String) throws -> UInt64 {
        var key: UInt32 = 0, value: UInt64 = 0
        guard bpf_map_lookup_elem(try mapFD(map), &key, &value) == 0 else { throw ProbeError("cannot read map '\(map)': \(String(cString: strerror(errno)))") }
        return value
    }
}

/// What a probe could not do, with what is missing.
public struct ProbeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// libbpf's messages, kept rather than printed: the last warnings explain a refusal (the
/// verifier's log among them) and go into the error.
enum LibbpfLog {
    private static let lines = Mutex<[String]>([])
    private static let installed = Mutex(false)

    static func install() {
        installed.withLock { done in
            guard !done else { return }
            done = true
            libbpf_set_print { level, format, args in
                guard level != LIBBPF_DEBUG, let format, let args else { return 0 }
                var buffer = [CChar](repeating: 0, count: 1024)
                _ = vsnprintf(&buffer, buffer.count, format, args)
                let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                LibbpfLog.lines.withLock { l in
                    l.append(line)
                    if l.count > 40 { l.removeFirst(l.count - 40) }
                }
                return 0
            }
        }
    }

    static func clear() { lines.withLock { $0.removeAll() } }

    static func tail() -> String {
        let l = lines.withLock { $0.suffix(12) }
        return l.isEmpty ? "" : "\n  libbpf: " + l.joined(separator: "\n  libbpf: ")
    }
}
