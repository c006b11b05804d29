#!/usr/bin/env python3
"""Reads a gzipped pprof profile with the pprof schema (profile.proto field numbers) and a
plain protobuf wire-format reader (stdlib only), and prints the leaf function that has the most
samples of process PID: pprof_top.py FILE PID -> "TOP <function> <share> <samples>"."""
import gzip, sys

def fields(buf):
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        yield field, wire, v

def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]; i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i

def packed(v, wire):
    if wire == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = varint(v, i)
        out.append(x)
    return out

profile = gzip.open(sys.argv[1]).read()
pid = int(sys.argv[2])
strings, functions, locations, samples = [], {}, {}, []
for f, w, v in fields(profile):
    if f == 6: strings.append(v.decode())
    elif f == 5:
        d = {ff: vv for ff, ww, vv in fields(v)}
        functions[d[1]] = d.get(2, 0)
    elif f == 4:
        d = {1: 0, "lines": []}
        for ff, ww, vv in fields(v):
            if ff == 4: d["lines"].append({lf: lv for lf, lw, lv in fields(vv)})
            else: d[ff] = vv
        locations[d[1]] = d
    elif f == 2:
        s = {"locs": [], "values": [], "labels": []}
        for ff, ww, vv in fields(v):
            if ff == 1: s["locs"] += packed(vv, ww)
            elif ff == 2: s["values"] += packed(vv, ww)
            elif ff == 3: s["labels"].append({lf: lv for lf, lw, lv in fields(vv)})
        samples.append(s)
assert strings and strings[0] == "", "string_table[0] must be empty"
counts, total = {}, 0
for s in samples:
    labels = {strings[l[1]]: l.get(3, strings[l.get(2, 0)]) for l in s["labels"]}
    if labels.get("pid") != pid or not s["locs"]:
        continue
    leaf = locations[s["locs"][0]]
    name = strings[functions[leaf["lines"][0][1]]] if leaf["lines"] else hex(leaf.get(3, 0))
    counts[name] = counts.get(name, 0) + s["values"][0]
    total += s["values"][0]
top = max(counts, key=counts.get)
print("TOP", top, "%.3f" % (counts[top] / total), total)
