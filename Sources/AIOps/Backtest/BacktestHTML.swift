import Detectors
import Foundation
import Remediate
import Stream

/// The backtest as one self-contained HTML page (inline CSS and SVG, no script, nothing
/// fetched): the scores, a timeline of incidents over the labelled windows, and one plot per
/// detector series — its values, the range the detector expected, what it flagged, its scores,
/// and the windows — for the series the labels name first, then those that flagged most.
public enum BacktestHTML {
    public static let maxPlots = 24

    public static func render(_ report: BacktestReport, reports: [RemediationIncident], series: [String: [ScoredPoint]]) -> String {
        let incidents = BacktestIncidents.latest(reports)
        let times = series.values.flatMap { [$0.first?.time, $0.last?.time].compactMap { $0 } } + incidents.map(\.openedMs)
            + report.labels.flatMap { [$0.start, $0.end] }
        let axis = TimeAxis(from: times.min() ?? 0, to: max((times.max() ?? 0), (times.min() ?? 0) + 1))
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Vigil backtest \(escape(report.range.from)) – \(escape(report.range.to))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430;background:#fff}
            h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px} .muted{color:#667}
            table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #d5d9e0;padding:3px 8px;text-align:left} th{background:#f1f3f6}
            .plot{margin:10px 0 18px} .plot h3{font:600 13px ui-monospace,monospace;margin:0 0 2px}
            svg text{font:11px system-ui,sans-serif;fill:#445}
            </style></head><body>
            <h1>Vigil backtest</h1>
            <div class="muted">\(escape(report.range.from)) – \(escape(report.range.to)) · topics \(escape(report.range.topics.joined(separator: ", "))) · \(report.range.messages) messages in \(format(report.range.seconds)) s (\(Int(report.range.messagesPerSecond)) messages/s) · detector \(escape(report.detector))</div>

            """
        html += scoreTables(report)
        html += "<h2>Incidents and labelled windows</h2>\n" + timeline(incidents, labels: report.labels, axis: axis)
        html += incidentTable(report)
        let chosen = plotted(series, labels: report.labels)
        html += "<h2>Detector series (\(chosen.count) of \(series.count))</h2>\n"
        html += "<div class=\"muted\">blue: value · grey band: expected range · red: flagged · orange: labelled window · lower strip: anomaly score 0–1</div>\n"
        for key in chosen {
            let windows = report.labels.filter { w in w.series.isEmpty || w.series.contains { Glob.matches($0, key) } }
            html += "<div class=\"plot\"><h3>\(escape(key))</h3>\n" + plot(series[key]!, windows: windows, axis: axis) + "</div>\n"
        }
        return html + "</body></html>\n"
    }

    /// Series named by a label first, then by how much they flagged, then by name.
    static func plotted(_ series: [String: [ScoredPoint]], labels: [LabelledWindow]) -> [String] {
        func named(_ key: String) -> Bool { labels.contains { $0.series.contains { Glob.matches($0, key) } } }
        return series.keys.sorted { a, b in
            let (na, nb) = (named(a), named(b))
            if na != nb { return na }
            let (fa, fb) = (series[a]!.filter(\.isAnomaly).count, series[b]!.filter(\.isAnomaly).count)
            return fa != fb ? fa > fb : a < b
        }.prefix(maxPlots).filter { named($0) || series[$0]!.contains(where: \.isAnomaly) }
    }

    private static func scoreTables(_ r: BacktestReport) -> String {
        let i = r.incidents, d = r.detectors
        var s = "<h2>Scores</h2>\n<table><tr><th></th><th>precision</th><th>recall</th><th>F1</th><th>median delay</th><th>detected</th><th>other</th></tr>\n"
        s += "<tr><th>incidents</th><td>\(ratio(i.precision))</td><td>\(ratio(i.recall))</td><td>\(ratio(i.f1))</td><td>\(seconds(i.medianDelaySeconds))</td>"
        s += "<td>\(i.detectedWindows) of \(i.windows) windows</td><td>\(i.incidents) incidents; root cause first in \(i.rootCauseFirst) of \(i.rootCauseWindows), top 3 in \(i.rootCauseTop3)</td></tr>\n"
        let nab = d.nab.map { n in n.keys.sorted().map { "\($0) \(format(n[$0]!))" }.joined(separator: ", ") } ?? "–"
        s += "<tr><th>detector series</th><td>\(ratio(d.precision))</td><td>\(ratio(d.recall))</td><td>\(ratio(d.f1))</td><td>\(seconds(d.medianDelaySeconds))</td>"
        s += "<td>\(d.detectedPairs) of \(d.labelledPairs) window×series</td><td>\(d.series) series, \(d.points) points, \(d.flagged) flagged; NAB: \(escape(nab))</td></tr>\n</table>\n"
        if r.labels.isEmpty { s += "<div class=\"muted\">No labels given (--labels): scores need labelled windows.</div>\n" }
        return s
    }

    private static func incidentTable(_ r: BacktestReport) -> String {
        guard !r.incidentList.isEmpty else { return "<div class=\"muted\">No incidents.</div>\n" }
        var s = "<table><tr><th>#</th><th>opened</th><th>closed</th><th>severity</th><th>root cause</th><th>summary</th></tr>\n"
        for i in r.incidentList {
            s += "<tr><td>\(i.id)</td><td>\(escape(i.opened))</td><td>\(escape(i.closed ?? "open"))</td><td>\(escape(i.severity))</td>"
            s += "<td>\(escape(i.rootCause ?? "–"))</td><td>\(escape(i.summary))</td></tr>\n"
        }
        return s + "</table>\n"
    }

    static let width = 960.0, left = 8.0, right = 8.0

    private static func timeline(_ incidents: [RemediationIncident], labels: [LabelledWindow], axis: TimeAxis) -> String {
        let rowHeight = 18.0
        let height = 24 + Double(max(1, incidents.count)) * rowHeight
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"incident timeline\">\n"
        s += windowRects(labels, axis: axis, top: 0, height: height)
        for (n, i) in incidents.enumerated() {
            let y = 4 + Double(n) * rowHeight
            let x0 = axis.x(i.openedMs), x1 = max(x0 + 3, axis.x(i.closedMs ?? axis.to))
            let color = i.severity == .critical ? "#c62828" : i.severity == .warning ? "#ef8f00" : "#5c7cfa"
            s += "<rect class=\"incident\" x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(x1 - x0))\" height=\"\(f(rowHeight - 5))\" fill=\"\(color)\" rx=\"2\"/>"
            s += "<text x=\"\(f(min(x0 + 4, width - 220)))\" y=\"\(f(y + rowHeight - 9))\" style=\"fill:#fff;font-weight:600\">#\(i.id) \(escape(i.rootCause?.entity ?? ""))</text>\n"
        }
        s += axisLabels(axis, y: height - 4)
        return s + "</svg>\n"
    }

    private static func plot(_ points: [ScoredPoint], windows: [LabelledWindow], axis: TimeAxis) -> String {
        let valueTop = 4.0, valueHeight = 110.0, scoreTop = 122.0, scoreHeight = 30.0, height = 170.0
        let values = points.map(\.value).filter(\.isFinite)
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi - lo < 1e-12 { lo -= 1; hi += 1 }
        let pad = (hi - lo) * 0.08
        lo -= pad; hi += pad
        func y(_ v: Double) -> Double { valueTop + valueHeight * (1 - (min(max(v, lo), hi) - lo) / (hi - lo)) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\">\n"
        s += windowRects(windows, axis: axis, top: 0, height: scoreTop + scoreHeight)
        s += "<rect x=\"\(f(left))\" y=\"\(f(valueTop))\" width=\"\(f(width - left - right))\" height=\"\(f(valueHeight))\" fill=\"none\" stroke=\"#d5d9e0\"/>\n"
        // The expected range, where the detector had one.
        let banded = points.filter { $0.expectedLow.isFinite && $0.expectedHigh.isFinite }
        if banded.count > 1 {
            let upper = banded.map { "\(f(axis.x($0.time))),\(f(y($0.expectedHigh)))" }
            let lower = banded.reversed().map { "\(f(axis.x($0.time))),\(f(y($0.expectedLow)))" }
            s += "<polygon class=\"expected\" points=\"\((upper + lower).joined(separator: " "))\" fill=\"#9aa5b1\" fill-opacity=\"0.3\"/>\n"
        }
        let line = points.filter(\.value.isFinite).map { "\(f(axis.x($0.time))),\(f(y($0.value)))" }
        s += "<polyline class=\"value\" points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"#1c64d1\" stroke-width=\"1.4\"/>\n"
        for p in points where p.isAnomaly && p.value.isFinite {
            s += "<circle class=\"flag\" cx=\"\(f(axis.x(p.time)))\" cy=\"\(f(y(p.value)))\" r=\"3.5\" fill=\"#e02020\"/>"
        }
        s += "\n<rect x=\"\(f(left))\" y=\"\(f(scoreTop))\" width=\"\(f(width - left - right))\" height=\"\(f(scoreHeight))\" fill=\"#f7f8fa\" stroke=\"#d5d9e0\"/>\n"
        let scores = points.map { "\(f(axis.x($0.time))),\(f(scoreTop + scoreHeight * (1 - min(max($0.score, 0), 1))))" }
        s += "<polyline class=\"score\" points=\"\(scores.joined(separator: " "))\" fill=\"none\" stroke=\"#555\" stroke-width=\"1\"/>\n"
        s += "<text x=\"\(f(width - right - 4))\" y=\"\(f(valueTop + 12))\" text-anchor=\"end\">\(format(hi - pad))</text>"
        s += "<text x=\"\(f(width - right - 4))\" y=\"\(f(valueTop + valueHeight - 4))\" text-anchor=\"end\">\(format(lo + pad))</text>\n"
        s += axisLabels(axis, y: height - 4)
        return s + "</svg>\n"
    }

    private static func windowRects(_ windows: [LabelledWindow], axis: TimeAxis, top: Double, height: Double) -> String {
        windows.map { w in
            let x0 = axis.x(w.start), x1 = max(axis.x(w.end), x0 + 2)
            return "<rect class=\"window\" x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(x1 - x0))\" height=\"\(f(height))\" fill=\"#ffb347\" fill-opacity=\"0.35\"><title>\(escape(w.name))</title></rect>\n"
        }.joined()
    }

    private static func axisLabels(_ axis: TimeAxis, y: Double) -> String {
        (0...4).map { k -> String in
            let t = axis.from + (axis.to - axis.from) * Int64(k) / 4
            let anchor = k == 0 ? "start" : k == 4 ? "end" : "middle"
            let text = TimeText.rfc3339(t).dropFirst(11).prefix(8)  // hh:mm:ss
            return "<text x=\"\(f(axis.x(t)))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\">\(text)</text>"
        }.joined() + "\n"
    }

    struct TimeAxis {
        let from: Int64, to: Int64
        func x(_ t: Int64) -> Double { left + (width - left - right) * Double(min(max(t, from), to) - from) / Double(to - from) }
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    private static func format(_ v: Double) -> String { abs(v) >= 100 || v == v.rounded() ? String(format: "%.0f", v) : String(format: "%.3g", v) }
    private static func ratio(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "–" }
    private static func seconds(_ v: Double?) -> String { v.map { String(format: "%.0f s", $0) } ?? "–" }
}
