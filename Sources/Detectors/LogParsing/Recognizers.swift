/// What a token or a piece of one looks like, by hand-written scanning (see `LogTokenizer`).
enum Recognizers {
    /// `[-+]?\d+([.,]\d+)*`
    static func isNumber(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        if i < s.count && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) { i += 1 }
        var digitsInGroup = 0
        guard i < s.count else { return false }
        while i < s.count {
            let c = s[i]
            if ByteClass.isDigit(c) {
                digitsInGroup += 1
            } else if (c == UInt8(ascii: ".") || c == UInt8(ascii: ",")) && digitsInGroup > 0 {
                digitsInGroup = 0
            } else {
                return false
            }
            i += 1
        }
        return digitsInGroup > 0
    }

    /// The token without wrapping punctuation, or nil when nothing is left.
    static func core(of s: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var lo = 0, hi = s.count
        while lo < hi && ByteClass.isWrapper(s[lo]) { lo += 1 }
        while hi > lo && ByteClass.isWrapper(s[hi - 1]) { hi -= 1 }
        return lo < hi ? lo..<hi : nil
    }

    /// A UUID, a URL, a path, a `host:port` endpoint or a dotted host name with digits: what
    /// `isUUID`, `containsScheme`, `isEndpoint` and `isHostName` say, in one pass over the
    /// token instead of four (`RecognizerTests` checks the two agree).
    static func isWholeParameter(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = s.count
        if s[0] == UInt8(ascii: "/") && n > 1 { return true }  // a path
        if n == 36 && isUUID(s) { return true }
        var dots = 0, digits = 0, others = 0, slashes = 0
        var lastColon = -1
        var firstNeitherHostNorSlash = -1
        for k in 0..<n {
            let c = s[k]
            if ByteClass.isHostCharacter(c) {
                if c == UInt8(ascii: ".") { dots += 1 } else if ByteClass.isDigit(c) { digits += 1 } else { others += 1 }
                continue
            }
            if c == UInt8(ascii: ":") {
                if n >= 4 && k + 2 < n && s[k + 1] == UInt8(ascii: "/") && s[k + 2] == UInt8(ascii: "/") { return true }  // a URL
                lastColon = k
            }
            if c == UInt8(ascii: "/") { slashes += 1 } else if firstNeitherHostNorSlash < 0 { firstNeitherHostNorSlash = k }
        }
        if firstNeitherHostNorSlash < 0 { return slashes == 0 && dots >= 2 && digits > 0 && others > 0 }  // a host name
        // An endpoint: host characters and slashes, the last colon, 2–5 digits.
        guard lastColon > 0, firstNeitherHostNorSlash == lastColon, (2...5).contains(n - lastColon - 1) else { return false }
        for k in (lastColon + 1)..<n where !ByteClass.isDigit(s[k]) { return false }
        return !isTimeOfDay(s)
    }

    static func isUUID(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.count == 36 else { return false }
        for (k, c) in s.enumerated() {
            if k == 8 || k == 13 || k == 18 || k == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if !ByteClass.isHex(c) {
                return false
            }
        }
        return true
    }

    static func containsScheme(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.count >= 4 else { return false }
        for k in 0..<(s.count - 2) where s[k] == UInt8(ascii: ":") && s[k + 1] == UInt8(ascii: "/") && s[k + 2] == UInt8(ascii: "/") {
            return true
        }
        return false
    }

    /// `[/\w.-]+:\d{2,5}`, but not a time of day (`12:30`).
    static func isEndpoint(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let colon = s.lastIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        let port = s.count - colon - 1
        guard (2...5).contains(port) else { return false }
        for k in (colon + 1)..<s.count where !ByteClass.isDigit(s[k]) { return false }
        for k in 0..<colon where !(ByteClass.isHostCharacter(s[k]) || s[k] == UInt8(ascii: "/")) { return false }
        return !isTimeOfDay(s)
    }

    /// `\d{1,2}:\d{2}(:\d{2})?`, optionally with fractional seconds (`.123` or `,123`).
    static func isTimeOfDay(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        func digits(_ min: Int, _ max: Int) -> Bool {
            let start = i
            while i < s.count && ByteClass.isDigit(s[i]) && i - start < max { i += 1 }
            return i - start >= min
        }
        guard digits(1, 2), i < s.count, s[i] == UInt8(ascii: ":") else { return false }
        i += 1
        guard digits(2, 2) else { return false }
        if i < s.count && s[i] == UInt8(ascii: ":") {
            i += 1
            guard digits(2, 2) else { return false }
        }
        if i < s.count && (s[i] == UInt8(ascii: ".") || s[i] == UInt8(ascii: ",")) {
            i += 1
            guard digits(1, 9) else { return false }
        }
        return i == s.count
    }

    /// Two or more dots, a digit somewhere, only name characters, not just a dotted number.
    static func isHostName(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var dots = 0, digits = 0, others = 0
        for c in s {
            guard ByteClass.isHostCharacter(c) else { return false }
            if c == UInt8(ascii: ".") { dots += 1 } else if ByteClass.isDigit(c) { digits += 1 } else { others += 1 }
        }
        return dots >= 2 && digits > 0 && others > 0
    }

    /// A piece of a token (no punctuation inside but `_`, `/`, `<`, `>`, `*`…) that is a parameter.
    static func isParameterPiece(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = p.count
        guard n > 0 else { return false }
        // 0x-prefixed hex
        if n > 2 && p[0] == UInt8(ascii: "0") && (p[1] | 0x20) == UInt8(ascii: "x") {
            var hex = true
            for k in 2..<n where !ByteClass.isHex(p[k]) { hex = false; break }
            if hex { return true }
        }
        var hexOnly = true, anyDigit = false
        var leadingDigits = 0
        var k = 0
        while k < n {
            let c = p[k]
            if ByteClass.isDigit(c) {
                anyDigit = true
                // A digit run not glued to letters: `blk_123`, `27>`, `v_2_x`.
                let runStart = k
                while k < n && ByteClass.isDigit(p[k]) { k += 1 }
                if runStart == 0 { leadingDigits = k }
                // A run of two or more needs only one free side (`e820`, `x86` are parameters);
                // a single digit glued to a letter is part of a name (`ssh2`, `L3`).
                let freeBefore = runStart == 0 || !ByteClass.isLetter(p[runStart - 1])
                let freeAfter = k == n || !ByteClass.isLetter(p[k])
                if freeBefore && freeAfter { return true }
                if k - runStart >= 2 && (freeBefore || freeAfter) { return true }
                continue
            }
            if !ByteClass.isHex(c) { hexOnly = false }
            k += 1
        }
        // A number with a short unit: `41C`, `16ms`, `2GB`.
        if leadingDigits > 0 && n - leadingDigits <= 3 {
            var unit = true
            for q in leadingDigits..<n where !ByteClass.isLetter(p[q]) { unit = false; break }
            if unit { return true }
        }
        return n >= 8 && hexOnly && anyDigit
    }
}

/// Dates written out in words, as syslog and ctime do: `[Weekday] Month Day HH:MM[:SS] [Year]`.
enum DateRecognizer {
    // Three-letter names packed into integers: a comparison each, no allocation.
    private static let weekdays: [UInt32] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map(pack)
    private static let months: [UInt32] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map(pack)

    private static func pack(_ name: String) -> UInt32 {
        name.utf8.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The cheap test before `end`: a date starts with a three-letter word beginning upper-case.
    @inline(__always) static func mayStart(_ s: UnsafeBufferPointer<UInt8>, _ first: Range<Int>) -> Bool {
        first.count == 3 && s[first.lowerBound] &- 0x41 < 26
    }

    /// The index after the date's last token when a date starts at token `k`, else nil.
    static func end(of s: UnsafeBufferPointer<UInt8>, tokens: UnsafeBufferPointer<Range<Int>>, from k: Int) -> Int? {
        guard mayStart(s, tokens[k]) else { return nil }
        func name(_ r: Range<Int>) -> UInt32? {
            r.count == 3 ? UInt32(s[r.lowerBound]) << 16 | UInt32(s[r.lowerBound + 1]) << 8 | UInt32(s[r.lowerBound + 2]) : nil
        }
        var j = k
        if let n = name(tokens[j]), weekdays.contains(n) { j += 1 }
        guard j + 2 < tokens.count, let month = name(tokens[j]), months.contains(month) else { return nil }
        let day = UnsafeBufferPointer(rebasing: s[tokens[j + 1]])
        guard (1...2).contains(day.count), day.allSatisfy(ByteClass.isDigit) else { return nil }
        guard Recognizers.isTimeOfDay(UnsafeBufferPointer(rebasing: s[tokens[j + 2]])) else { return nil }
        j += 3
        if j < tokens.count {
            let year = UnsafeBufferPointer(rebasing: s[tokens[j]])
            if year.count == 4 && year.allSatisfy(ByteClass.isDigit) { j += 1 }
        }
        return j
    }
}
