import Foundation

/// Event times (milliseconds since 1970, UTC) as text and back, without formatter objects:
/// thread-safe and cheap.
public enum TimeText {
    /// `2026-12-04T10:00:00.000Z` (proleptic Gregorian, from days by Howard Hinnant's
    /// civil-from-days).
    public static func rfc3339(_ ms: Int64) -> String {
        let (days, msOfDay) = (ms.floorDivided(by: 86_400_000), ms.floorModulo(86_400_000))
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let secs = msOfDay / 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2)).\(pad(msOfDay % 1000, 3))Z"
    }

    /// Milliseconds since 1970 of a UTC date and time: `2026-12-04T10:00:00Z` (RFC 3339, any
    /// fraction, `Z` or `±hh:mm`), `2026-12-04 10:00:00[.ffffff]` (NAB's labels, UTC),
    /// `2026-12-04` (midnight UTC), or a plain number of milliseconds since 1970.
    public static func parse(_ text: String) -> Int64? {
        let s = text.trimmingCharacters(in: .whitespaces)
        if let ms = Int64(s) { return ms }
        let b = Array(s.utf8)
        func digits(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + count) {
                guard (48...57).contains(b[i]) else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard let year = digits(0, 4), b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let month = digits(5, 2), let day = digits(8, 2), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var ms = daysFromCivil(year, month, day) * 86_400_000
        if b.count == 10 { return ms }
        guard b.count >= 19, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " ") || b[10] == UInt8(ascii: "t"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let h = digits(11, 2), let m = digits(14, 2), let sec = digits(17, 2), h < 24, m < 60, sec < 61 else { return nil }
        ms += (h * 3600 + m * 60 + sec) * 1000
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100
            let start = i
            while i < b.count, (48...57).contains(b[i]) {
                ms += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        if i == b.count { return ms }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count ? ms : nil }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
              let oh = digits(i + 1, 2), let om = digits(i + 4, 2) else { return nil }
        let offset = (oh * 60 + om) * 60_000
        return b[i] == UInt8(ascii: "+") ? ms - offset : ms + offset
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days-from-civil).
    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

extension Int64 {
    func floorDivided(by d: Int64) -> Int64 { let q = self / d; return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q }
    func floorModulo(_ d: Int64) -> Int64 { let r = self % d; return r != 0 && (r < 0) != (d < 0) ? r + d : r }
}
