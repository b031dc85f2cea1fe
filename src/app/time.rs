//! Timestamps as the timeline shows them, computed without a time library:
//! milliseconds since the epoch plus the local UTC offset.

/// A moment broken down in local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    /// 0 = Monday.
    pub weekday: u32,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn local(ts_ms: u64, offset_secs: i32) -> Local {
    let secs = (ts_ms / 1000) as i64 + i64::from(offset_secs);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil(days);
    Local {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        // 1970-01-01 was a Thursday.
        weekday: (days + 3).rem_euclid(7) as u32,
    }
}

/// "14:05".
pub fn hm(ts_ms: u64, offset_secs: i32) -> String {
    let l = local(ts_ms, offset_secs);
    format!("{:02}:{:02}", l.hour, l.minute)
}

/// "Sat 28 Nov 2026", for day separators.
pub fn day(ts_ms: u64, offset_secs: i32) -> String {
    let l = local(ts_ms, offset_secs);
    format!(
        "{} {} {} {}",
        WEEKDAYS[l.weekday as usize % 7],
        l.day,
        MONTHS[(l.month as usize + 11) % 12],
        l.year
    )
}

/// "2026-11-28 14:05", for last-upload times.
pub fn full(ts_ms: u64, offset_secs: i32) -> String {
    let l = local(ts_ms, offset_secs);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        l.year, l.month, l.day, l.hour, l.minute
    )
}

/// Same local day?
pub fn same_day(a: u64, b: u64, offset_secs: i32) -> bool {
    let (x, y) = (local(a, offset_secs), local(b, offset_secs));
    (x.year, x.month, x.day) == (y.year, y.month, y.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 2026-11-28 03:27:32 UTC, a Saturday.
        let t = 1_795_836_452_000;
        assert_eq!(day(t, 0), "Sat 28 Nov 2026");
        assert_eq!(hm(t, 0), "03:27");
        assert_eq!(hm(t, 3600), "04:27");
        assert_eq!(day(t, -4 * 3600), "Fri 27 Nov 2026");
        assert_eq!(full(0, 0), "1970-01-01 00:00");
        assert_eq!(day(951_782_400_000, 0), "Tue 29 Feb 2000");
        assert!(same_day(t, t + 1000, 0));
        assert!(!same_day(t, t + 86_400_000, 0));
    }
}
