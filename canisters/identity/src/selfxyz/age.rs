//! Dates of birth as the original reads them (`YYYY-MM-DD`, a UTC calendar day) and whole
//! years of age at a given time.

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl Date {
    /// `YYYY-MM-DD` with a real calendar day; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year: i64 = text.get(..4)?.parse().ok()?;
        let month: u32 = text.get(5..7)?.parse().ok()?;
        let day: u32 = text.get(8..)?.parse().ok()?;
        let digits = text
            .bytes()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        (digits && (1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day))
            .then_some(Self { year, month, day })
    }

    /// The UTC calendar day of `secs` since the Unix epoch.
    pub fn from_unix_secs(secs: u64) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = (secs / 86_400) as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self { year, month, day }
    }

    /// Seconds since the Unix epoch at 00:00 UTC of this day (dates before 1970 give 0).
    pub fn unix_secs(self) -> u64 {
        // Howard Hinnant's days_from_civil.
        let year = self.year - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let yoe = year - era * 400;
        let month = i64::from(self.month);
        let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5
            + i64::from(self.day)
            - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        u64::try_from(days).unwrap_or(0) * 86_400
    }
}

impl std::fmt::Display for Date {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Whole years from `birth` to `today` (the birthday counts from its day on).
pub fn age_on(birth: Date, today: Date) -> i64 {
    let mut age = today.year - birth.year;
    if (today.month, today.day) < (birth.month, birth.day) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages() {
        assert_eq!(
            Date::from_unix_secs(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        // 2026-02-20T15:29:00Z
        assert_eq!(
            Date::from_unix_secs(1_771_601_340),
            Date {
                year: 2026,
                month: 2,
                day: 20
            }
        );
        assert_eq!(
            Date::from_unix_secs(951_782_400),
            Date {
                year: 2000,
                month: 2,
                day: 29
            }
        );
        let today = Date::parse("2026-02-20").unwrap();
        assert_eq!(age_on(Date::parse("2008-02-20").unwrap(), today), 18);
        assert_eq!(age_on(Date::parse("2008-02-21").unwrap(), today), 17);
        assert_eq!(age_on(Date::parse("1995-01-15").unwrap(), today), 31);
        assert_eq!(Date::parse("1995-02-29"), None);
        assert!(Date::parse("1996-02-29").is_some());
        assert_eq!(Date::parse("1995-1-15"), None);
        assert_eq!(Date::parse("1995-13-01"), None);
        assert_eq!(Date::parse("garbage!!!"), None);
    }

    #[test]
    fn days_go_back_to_their_first_second() {
        for secs in [0u64, 951_782_400, 1_771_601_340, 4_102_444_800] {
            let day = Date::from_unix_secs(secs);
            assert_eq!(day.unix_secs(), secs - secs % 86_400, "{day}");
        }
        assert_eq!(Date::parse("2026-02-20").unwrap().to_string(), "2026-02-20");
        assert_eq!(Date::parse("1950-01-01").unwrap().unix_secs(), 0);
    }
}
