#!/usr/bin/env python3
"""Reads a gzipped pprof profile with Google's protobuf library: the pprof schema
(github.com/google/pprof, proto/profile.proto: field names and numbers) is declared here as a
descriptor, so no generated code and no protoc are needed. Prints the leaf function with the
most samples of process PID: pprof_top_protobuf.py FILE PID -> "TOP <function> <share> <samples>"."""
import gzip, sys
from google.protobuf import descriptor_pb2, descriptor_pool
try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # protobuf < 4.21
    from google.protobuf.message_factory import MessageFactory
    GetMessageClass = lambda d: MessageFactory().GetPrototype(d)

F = descriptor_pb2.FieldDescriptorProto
SCHEMA = {
    "ValueType": [("type", 1, F.TYPE_INT64, False), ("unit", 2, F.TYPE_INT64, False)],
    "Label": [("key", 1, F.TYPE_INT64, False), ("str", 2, F.TYPE_INT64, False), ("num", 3, F.TYPE_INT64, False),
              ("num_unit", 4, F.TYPE_INT64, False)],
    "Sample": [("location_id", 1, F.TYPE_UINT64, True), ("value", 2, F.TYPE_INT64, True), ("label", 3, "Label", True)],
    "Mapping": [("id", 1, F.TYPE_UINT64, False), ("memory_start", 2, F.TYPE_UINT64, False), ("memory_limit", 3, F.TYPE_UINT64, False),
                ("file_offset", 4, F.TYPE_UINT64, False), ("filename", 5, F.TYPE_INT64, False), ("build_id", 6, F.TYPE_INT64, False),
                ("has_functions", 7, F.TYPE_BOOL, False)],
    "Line": [("function_id", 1, F.TYPE_UINT64, False), ("line", 2, F.TYPE_INT64, False)],
    "Location": [("id", 1, F.TYPE_UINT64, False), ("mapping_id", 2, F.TYPE_UINT64, False), ("address", 3, F.TYPE_UINT64, False),
                 ("line", 4, "Line", True), ("is_folded", 5, F.TYPE_BOOL, False)],
    "Function": [("id", 1, F.TYPE_UINT64, False), ("name", 2, F.TYPE_INT64, False), ("system_name", 3, F.TYPE_INT64, False),
                 ("filename", 4, F.TYPE_INT64, False), ("start_line", 5, F.TYPE_INT64, False)],
    "Profile": [("sample_type", 1, "ValueType", True), ("sample", 2, "Sample", True), ("mapping", 3, "Mapping", True),
                ("location", 4, "Location", True), ("function", 5, "Function", True), ("string_table", 6, F.TYPE_STRING, True),
                ("drop_frames", 7, F.TYPE_INT64, False), ("keep_frames", 8, F.TYPE_INT64, False),
                ("time_nanos", 9, F.TYPE_INT64, False), ("duration_nanos", 10, F.TYPE_INT64, False),
                ("period_type", 11, "ValueType", False), ("period", 12, F.TYPE_INT64, False)],
}

file = descriptor_pb2.FileDescriptorProto(name="profile.proto", package="perftools.profiles", syntax="proto3")
for name, fields in SCHEMA.items():
    m = file.message_type.add(name=name)
    for fname, number, ftype, repeated in fields:
        f = m.field.add(name=fname, number=number, label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
        if isinstance(ftype, str):
            f.type, f.type_name = F.TYPE_MESSAGE, ".perftools.profiles." + ftype
        else:
            f.type = ftype
pool = descriptor_pool.DescriptorPool()
pool.Add(file)
Profile = GetMessageClass(pool.FindMessageTypeByName("perftools.profiles.Profile"))

profile = Profile()
profile.ParseFromString(gzip.open(sys.argv[1]).read())
pid = int(sys.argv[2])
s = profile.string_table
assert s[0] == "", "string_table[0] must be empty"
functions = {f.id: s[f.name] for f in profile.function}
locations = {l.id: l for l in profile.location}
counts, total = {}, 0
for sample in profile.sample:
    labels = {s[l.key]: (l.num if s[l.key] == "pid" else s[l.str]) for l in sample.label}
    if labels.get("pid") != pid or not sample.location_id:
        continue
    leaf = locations[sample.location_id[0]]
    name = functions[leaf.line[0].function_id] if leaf.line else hex(leaf.address)
    counts[name] = counts.get(name, 0) + sample.value[0]
    total += sample.value[0]
top = max(counts, key=counts.get)
print("TOP", top, "%.3f" % (counts[top] / total), total)
