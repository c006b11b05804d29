#!/usr/bin/env python3
"""The OpenTelemetry Python SDK as an independent OTLP producer for Vigil's ingest test.

`produce OUT_DIR`: records spans, logs and metrics with the official SDK, encodes them with
the official OTLP exporter's encoders (otlp_proto; otlp_json derived from the same messages
with hex ids, as the Collector writes it), writes one file per Kafka message, and writes
what Vigil must decode from them (expected-*.json), taken from the SDK's own objects.
Also writes malformed messages (random bytes, truncated protobuf, JSON on a protobuf topic).

`compare EXPECTED ACTUAL_JSONL KIND`: checks that every expected record arrived exactly
once with identical ids, timestamps, attributes and values.
"""
import base64
import json
import logging
import os
import random
import sys

from google.protobuf import json_format
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode


def tagged(v):
    """An attribute value in the tagged form of `vigil otlp-dump`."""
    if v is None:
        return None
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": v}
    if isinstance(v, float):
        return {"double": v}
    if isinstance(v, str):
        return {"string": v}
    if isinstance(v, bytes):
        return {"bytes": base64.b64encode(v).decode()}
    if isinstance(v, dict):
        return {"kvlist": {k: tagged(x) for k, x in v.items()}}
    return {"array": [tagged(x) for x in v]}


def attrs(a):
    return {k: tagged(v) for k, v in (a or {}).items()}


def hex_id(i, width):
    return "" if not i else format(i, "0%dx" % width)


def record_spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({
        "service.name": "checkout", "service.version": "1.4.2", "host.name": "node-7",
        "k8s.pod.name": "checkout-5d9f", "deployment.environment": "prod"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("vigil.peer.test", "0.1.0")
    for i in range(40):
        with tracer.start_as_current_span("GET /cart/{id}", kind=SpanKind.SERVER, attributes={
                "http.request.method": "GET", "http.route": "/cart/{id}", "http.response.status_code": 200 + (i % 3) * 100,
                "url.path": "/cart/%d" % i, "server.port": 8080, "user_agent.original": "curl/8.1 \"quoted\" \u00e9",
                "retry": i % 2 == 0, "ratio": i / 7.0, "tags": ["a", "b", str(i)], "sizes": [1, 2, i]}) as root:
            root.add_event("cache.miss", {"cache.key": "cart:%d" % i, "attempt": 1})
            with tracer.start_as_current_span("SELECT carts", kind=SpanKind.CLIENT, attributes={
                    "db.system.name": "postgresql", "db.query.text": "SELECT * FROM carts WHERE id = $1",
                    "server.address": "db-1", "network.peer.port": 5432}) as child:
                if i % 5 == 0:
                    child.set_status(Status(StatusCode.ERROR, "deadlock detected"))
            with tracer.start_as_current_span("publish cart.updated", kind=SpanKind.PRODUCER,
                                              links=[Link(root.get_span_context(), {"link.kind": "origin"})]):
                pass
            if i % 7 == 0:
                root.set_status(Status(StatusCode.OK))
    provider.shutdown()
    return exporter.get_finished_spans()


def expected_span(s):
    parent = s.parent.span_id if s.parent else 0
    return {
        "trace_id": hex_id(s.context.trace_id, 32), "span_id": hex_id(s.context.span_id, 16),
        "parent_span_id": hex_id(parent, 16), "name": s.name, "kind": s.kind.value + 1,
        "start_time_unix_nano": s.start_time, "end_time_unix_nano": s.end_time,
        "attributes": attrs(s.attributes),
        "events": [{"time_unix_nano": e.timestamp, "name": e.name, "attributes": attrs(e.attributes)} for e in s.events],
        "links": [{"trace_id": hex_id(l.context.trace_id, 32), "span_id": hex_id(l.context.span_id, 16),
                   "attributes": attrs(l.attributes)} for l in s.links],
        "status_code": s.status.status_code.value, "status_message": s.status.description or "",
        "resource": attrs(s.resource.attributes),
        "scope_name": s.instrumentation_scope.name, "scope_version": s.instrumentation_scope.version or "",
    }


def record_logs(spans_provider_trace):
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "payments", "host.name": "node-3"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    handler = LoggingHandler(level=logging.DEBUG, logger_provider=provider)
    log = logging.getLogger("payments.worker")
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    tracer = spans_provider_trace.get_tracer("payments")
    for i in range(30):
        if i % 3 == 0:
            with tracer.start_as_current_span("charge"):
                log.error("Connection to 10.2.3.%d:5432 timed out after %d ms", i, 3000 + i, extra={"attempt": i, "db": "orders"})
        else:
            log.info("charged order %d", i, extra={"amount": i * 1.25, "currency": "EUR"})
    provider.shutdown()
    return [r for r in exporter.get_finished_logs()]


def expected_log(r):
    lr = r.log_record
    return {
        "time_unix_nano": lr.timestamp, "observed_time_unix_nano": lr.observed_timestamp,
        "severity_number": lr.severity_number.value, "severity_text": lr.severity_text or "",
        "body": tagged(lr.body), "attributes": attrs(lr.attributes),
        "trace_id": hex_id(lr.trace_id, 32), "span_id": hex_id(lr.span_id, 16),
        "resource": attrs(r.resource.attributes),
        "scope_name": r.instrumentation_scope.name,
    }


def record_metrics():
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=Resource.create({"service.name": "frontend"}), metric_readers=[reader],
                             views=[View(instrument_name="rpc.server.duration", aggregation=ExponentialBucketHistogramAggregation())])
    meter = provider.get_meter("vigil.peer.test", "0.1.0")
    requests = meter.create_counter("http.server.requests", unit="1", description="requests served")
    latency = meter.create_histogram("http.server.request.duration", unit="s")
    inflight = meter.create_up_down_counter("http.server.active_requests")
    rpc = meter.create_histogram("rpc.server.duration", unit="ms")
    meter.create_observable_gauge("process.cpu.utilization", callbacks=[
        lambda options: [__import__("opentelemetry.metrics", fromlist=["Observation"]).Observation(0.42, {"cpu": "0"})]])
    for i in range(50):
        route = "/cart" if i % 2 else "/checkout"
        requests.add(1, {"http.route": route, "http.response.status_code": 200})
        latency.record(0.01 * (i % 10) + 0.001, {"http.route": route})
        inflight.add(1 if i % 3 else -1, {"http.route": route})
        rpc.record(0.5 + i * 3.7, {"rpc.method": "Get" if i % 2 else "Put"})
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def expected_points(data):
    out = []
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                kind = type(m.data).__name__
                for p in m.data.data_points:
                    e = {"name": m.name, "description": m.description or "", "unit": m.unit or "",
                         "time_unix_nano": p.time_unix_nano, "attributes": attrs(p.attributes),
                         "resource": attrs(rm.resource.attributes), "scope_name": sm.scope.name}
                    if kind == "Histogram":
                        e["value"] = {"type": "histogram", "count": p.count, "sum": float(p.sum),
                                      "bucket_counts": list(p.bucket_counts), "explicit_bounds": [float(b) for b in p.explicit_bounds]}
                    elif kind == "ExponentialHistogram":
                        e["value"] = {"type": "exponential_histogram", "count": p.count, "sum": float(p.sum), "scale": p.scale,
                                      "zero_count": p.zero_count, "positive_offset": p.positive.offset,
                                      "positive_bucket_counts": list(p.positive.bucket_counts),
                                      "negative_offset": p.negative.offset,
                                      "negative_bucket_counts": list(p.negative.bucket_counts)}
                    elif kind == "Sum":
                        e["value"] = {"type": "sum", "monotonic": m.data.is_monotonic,
                                      "temporality": m.data.aggregation_temporality.value}
                        e["value"]["as_int" if isinstance(p.value, int) else "as_double"] = p.value
                    else:
                        e["value"] = {"type": "gauge"}
                        e["value"]["as_int" if isinstance(p.value, int) else "as_double"] = p.value
                    out.append(e)
    return out


def to_otlp_json(message):
    """OTLP/JSON as the Collector writes it: the protobuf JSON mapping, ids in hex."""
    d = json_format.MessageToDict(message, use_integers_for_enums=True)

    def walk(node):
        if isinstance(node, dict):
            for k, v in list(node.items()):
                if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                    node[k] = base64.b64decode(v).hex()
                else:
                    walk(v)
        elif isinstance(node, list):
            for x in node:
                walk(x)
    walk(d)
    return json.dumps(d).encode()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def produce(out):
    os.makedirs(out, exist_ok=True)
    tp = TracerProvider()
    spans = record_spans()
    logs = record_logs(tp)
    metrics = record_metrics()
    for kind, items, encode, batch in (("spans", spans, encode_spans, 25), ("logs", logs, encode_logs, 8)):
        for n, start in enumerate(range(0, len(items), batch)):
            msg = encode(items[start:start + batch])
            write("%s/%s-proto-%03d.bin" % (out, kind, n), msg.SerializeToString())
            write("%s/%s-json-%03d.json" % (out, kind, n), to_otlp_json(msg))
    msg = encode_metrics(metrics)
    write("%s/metrics-proto-000.bin" % out, msg.SerializeToString())
    write("%s/metrics-json-000.json" % out, to_otlp_json(msg))
    with open(out + "/expected-spans.json", "w") as f:
        json.dump([expected_span(s) for s in spans], f)
    with open(out + "/expected-logs.json", "w") as f:
        json.dump([expected_log(r) for r in logs], f)
    with open(out + "/expected-metrics.json", "w") as f:
        json.dump(expected_points(metrics), f)

    # Malformed: each must fail to parse as an OTLP trace request (checked here with the
    # official protobuf runtime, so the test is about Vigil routing them, not luck).
    rng = random.Random(7)
    good = encode_spans(spans[:10]).SerializeToString()
    bad = {"random": bytes(rng.getrandbits(8) for _ in range(300)),
           "truncated": good[:len(good) // 2 + 3],
           "json": to_otlp_json(encode_spans(spans[:2]))}
    for name, data in bad.items():
        try:
            ExportTraceServiceRequest().ParseFromString(data)
            raise SystemExit("the %s malformed message parses as protobuf: pick another" % name)
        except SystemExit:
            raise
        except Exception:
            pass
        write("%s/malformed-%s.bin" % (out, name), data)
    print("spans %d, logs %d, metric points %d" % (len(spans), len(logs), len(expected_points(metrics))))


def key_of(kind, r):
    if kind == "spans":
        return r["span_id"]
    if kind == "logs":
        return (r["time_unix_nano"], json.dumps(r["body"]))
    return (r["name"], json.dumps(r["attributes"], sort_keys=True))


def compare(expected_path, actual_path, label):
    kind = label.split()[0]
    expected = json.load(open(expected_path))
    actual = [json.loads(l) for l in open(actual_path) if l.strip()]
    if len(actual) != len(expected):
        raise SystemExit("%s: expected %d records, Vigil decoded %d" % (label, len(expected), len(actual)))
    by_key = {}
    for a in actual:
        k = key_of(kind, a)
        if k in by_key:
            raise SystemExit("%s: record %s arrived twice" % (label, k))
        by_key[k] = a
    problems = []
    for e in expected:
        a = by_key.get(key_of(kind, e))
        if a is None:
            problems.append("missing %s" % (key_of(kind, e),))
            continue
        for field, want in e.items():
            got = a.get(field) if field != "value" else {k: a["value"].get(k) for k in want}
            if got != want:
                problems.append("%s %s: field %s: expected %r, got %r" % (label, key_of(kind, e), field, want, got))
    if problems:
        raise SystemExit("\n".join(problems[:20]) + "\n%d problems" % len(problems))
    print("%s: %d records identical" % (label, len(expected)))


if __name__ == "__main__":
    if sys.argv[1] == "produce":
        produce(sys.argv[2])
    elif sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit("usage: otlp_peer.py produce DIR | compare EXPECTED ACTUAL KIND")
