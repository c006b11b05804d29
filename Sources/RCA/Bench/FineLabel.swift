/// Whether a ranking's first cause names the dataset's finer label as well as the service.
///
/// Nezha's labels are a pair of code locations around the fault ("c.s.ContactsServiceImpl#31_
/// c.s.ContactsServiceImpl#34", or "RouteController.queryByIds start_r.c.RouteController#53"
/// for the span's start), `CpuUsageRate(%)`, or `NetworkP90(ms)`. A cause matches when one of its
/// three strongest indicators is about every code location of the label (a span's start may
/// stand for itself or be left out), about that metric, or — for the network label, which
/// Vigil measures as wire time on the calls, not as a pod metric — a wire-time shift.
public enum FineLabel {
    public static func matches(_ label: String, _ cause: RankedCause) -> Bool {
        let top = cause.evidence.prefix(3)
        if label.hasPrefix("Network") { return top.contains { $0.kind == .callGap } }
        if !label.contains("#") { return top.contains { $0.kind == .metric && $0.metricName == label } }
        let locations = label.split(separator: "_").map(String.init).filter { $0.contains("#") }
        return top.contains { i in locations.allSatisfy { loc in i.codeLocations.contains(loc) } }
    }
}
