extension PublishedDate {
    /// The instant in UTC as `YYYYMMDDHHMMSS` plus any fraction digits, so that
    /// byte order is time order even across time zones: `2024-07-02T09:30+02:00`
    /// sorts before `2024-07-02T08:00Z`. A date without a time counts as its
    /// midnight, a time without a zone as UTC. What date sorting orders by.
    var sortKey: String {
        let bytes = Array(iso.utf8)
        func number(_ range: Range<Int>) -> Int? { Self.number(bytes, range) }
        // The initialiser checked the date and, when there is one, HH:MM.
        let year = number(0..<4) ?? 0, month = number(5..<7) ?? 1, day = number(8..<10) ?? 1
        var minutes = 0, seconds = 0, fraction = "", offset = 0
        if bytes.count >= 16 {
            minutes = (number(11..<13) ?? 0) * 60 + (number(14..<16) ?? 0)
            var index = 16
            if index < bytes.count, bytes[index] == UInt8(ascii: ":"), let value = number(17..<19) {
                seconds = value
                index = 19
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    fraction.append(Character(UnicodeScalar(bytes[index])))
                    index += 1
                }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"),
               let hours = number((index + 1)..<(index + 3)) {
                let after = index + 3 < bytes.count && bytes[index + 3] == UInt8(ascii: ":") ? index + 4 : index + 3
                let zone = hours * 60 + (number(after..<(after + 2)) ?? 0)
                offset = bytes[index] == UInt8(ascii: "+") ? zone : -zone
            }
        }
        let total = Self.days(year: year, month: month, day: day) * 1440 + minutes - offset
        let (utcDays, minuteOfDay) = (total.floorDivided(by: 1440), total.floorModulo(1440))
        let (y, m, d) = Self.civil(days: utcDays)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(y, 4) + pad(m, 2) + pad(d, 2) + pad(minuteOfDay / 60, 2) + pad(minuteOfDay % 60, 2) + pad(seconds, 2) + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
    /// days_from_civil).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `days(year:month:day:)` (civil_from_days).
    static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int {
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    fileprivate func floorModulo(_ divisor: Int) -> Int {
        self - floorDivided(by: divisor) * divisor
    }
}
