import Foundation
import OTLPProto
import SwiftProtobuf

/// A `CPUProfile` as an OTLP profiles export request (the v1development protocol the
/// generated code carries): one resource per process (host.name, process.pid,
/// process.executable.name), its samples' stacks through the request's shared dictionary,
/// whose tables start with the zero entries the protocol requires.
public enum OTLPProfiles {
    public typealias Request = Opentelemetry_Proto_Collector_Profiles_V1development_ExportProfilesServiceRequest
    typealias Dictionary_ = Opentelemetry_Proto_Profiles_V1development_ProfilesDictionary

    public static func request(_ profile: CPUProfile) -> Request {
        var d = Dictionary_()
        d.mappingTable = [.init()]
        d.locationTable = [.init()]
        d.functionTable = [.init()]
        var zeroLink = Opentelemetry_Proto_Profiles_V1development_Link()
        zeroLink.traceID = Data(count: 16)
        zeroLink.spanID = Data(count: 8)
        d.linkTable = [zeroLink]
        d.attributeTable = [.init()]
        d.stackTable = [.init()]
        var strings = StringTable()
        var mappings: [String: Int32] = [:], functions: [String: Int32] = [:], locations: [CPUProfile.Frame: Int32] = [:]
        var stacks: [[Int32]: Int32] = [:]

        func location(_ frame: CPUProfile.Frame) -> Int32 {
            if let i = locations[frame] { return i }
            var l = Opentelemetry_Proto_Profiles_V1development_Location()
            let name = frame.mapping ?? "[unknown]"
            if let m = mappings[name] { l.mappingIndex = m } else {
                var m = Opentelemetry_Proto_Profiles_V1development_Mapping()
                m.memoryStart = frame.mappingStart
                m.memoryLimit = frame.mappingEnd
                m.fileOffset = frame.mappingOffset
                m.filenameStrindex = Int32(strings.index(name))
                d.mappingTable.append(m)
                mappings[name] = Int32(d.mappingTable.count - 1)
                l.mappingIndex = mappings[name]!
            }
            l.address = frame.address
            if let f = frame.function {
                let fi: Int32
                if let known = functions[f] { fi = known } else {
                    var fn = Opentelemetry_Proto_Profiles_V1development_Function()
                    fn.nameStrindex = Int32(strings.index(f))
                    fn.systemNameStrindex = fn.nameStrindex
                    d.functionTable.append(fn)
                    fi = Int32(d.functionTable.count - 1)
                    functions[f] = fi
                }
                var line = Opentelemetry_Proto_Profiles_V1development_Line()
                line.functionIndex = fi
                l.lines = [line]
            }
            d.locationTable.append(l)
            locations[frame] = Int32(d.locationTable.count - 1)
            return locations[frame]!
        }

        var request = Request()
        let byProcess = Swift.Dictionary(grouping: profile.samples, by: \.pid)
        for pid in byProcess.keys.sorted() {
            let samples = byProcess[pid]!
            var p = Opentelemetry_Proto_Profiles_V1development_Profile()
            p.sampleType.typeStrindex = Int32(strings.index("samples"))
            p.sampleType.unitStrindex = Int32(strings.index("count"))
            p.periodType.typeStrindex = Int32(strings.index("cpu"))
            p.periodType.unitStrindex = Int32(strings.index("nanoseconds"))
            p.period = Int64(1_000_000_000 / max(1, profile.frequency))
            p.timeUnixNano = UInt64(max(0, profile.startUnixNanos))
            p.durationNano = UInt64(max(0, profile.endUnixNanos - profile.startUnixNanos))
            for s in samples {
                let ids = s.frames.map(location)
                let stack: Int32
                if let known = stacks[ids] { stack = known } else {
                    var st = Opentelemetry_Proto_Profiles_V1development_Stack()
                    st.locationIndices = ids
                    d.stackTable.append(st)
                    stack = Int32(d.stackTable.count - 1)
                    stacks[ids] = stack
                }
                var sample = Opentelemetry_Proto_Profiles_V1development_Sample()
                sample.stackIndex = stack
                sample.values = [Int64(s.count)]
                p.samples.append(sample)
            }
            var scope = Opentelemetry_Proto_Profiles_V1development_ScopeProfiles()
            scope.scope.name = "vigil.probes.profiler"
            scope.profiles = [p]
            var resource = Opentelemetry_Proto_Profiles_V1development_ResourceProfiles()
            resource.resource.attributes = [("host.name", HostClock.hostName), ("process.pid", String(pid)),
                                            ("process.executable.name", samples.first?.command ?? "")].map { key, value in
                var kv = Opentelemetry_Proto_Common_V1_KeyValue()
                kv.key = key
                kv.value.stringValue = value
                return kv
            }
            resource.scopeProfiles = [scope]
            request.resourceProfiles.append(resource)
        }
        d.stringTable = strings.all
        request.dictionary = d
        return request
    }

    /// The request in protobuf binary, as the Collector's OTLP receivers take it.
    public static func encoded(_ profile: CPUProfile) throws -> [UInt8] { try request(profile).serializedBytes() }
}
