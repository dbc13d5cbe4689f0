//! CF time coordinates: `units = "<unit> since <date>"` decoded with the variable's calendar.

use std::fmt;

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum TimeError {
    #[error("not a CF time unit: {0:?}")]
    BadUnits(String),
    #[error("unsupported calendar: {0:?}")]
    BadCalendar(String),
    #[error("not a date: {0:?}")]
    BadDate(String),
}

/// The CF calendars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calendar {
    /// Mixed Julian/Gregorian, switching on 1582-10-15 (`standard`, `gregorian`).
    Standard,
    ProlepticGregorian,
    /// 365 days every year (`noleap`, `365_day`).
    NoLeap,
    /// 366 days every year (`all_leap`, `366_day`).
    AllLeap,
    /// Twelve 30-day months.
    Day360,
    Julian,
}

impl Calendar {
    pub fn parse(s: &str) -> Result<Calendar, TimeError> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "" | "standard" | "gregorian" => Calendar::Standard,
            "proleptic_gregorian" => Calendar::ProlepticGregorian,
            "noleap" | "365_day" => Calendar::NoLeap,
            "all_leap" | "366_day" => Calendar::AllLeap,
            "360_day" => Calendar::Day360,
            "julian" => Calendar::Julian,
            _ => return Err(TimeError::BadCalendar(s.to_string())),
        })
    }

    fn is_leap(self, y: i64) -> bool {
        let greg = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        match self {
            Calendar::ProlepticGregorian => greg,
            Calendar::Julian => y % 4 == 0,
            Calendar::Standard => {
                if y > 1582 {
                    greg
                } else {
                    y % 4 == 0
                }
            }
            Calendar::NoLeap | Calendar::Day360 => false,
            Calendar::AllLeap => true,
        }
    }

    pub fn days_in_month(self, y: i64, m: u32) -> u32 {
        if self == Calendar::Day360 {
            return 30;
        }
        match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ => {
                if self.is_leap(y) {
                    29
                } else {
                    28
                }
            }
        }
    }

    /// A day number for (y, m, d) such that consecutive dates differ by one.
    fn day_number(self, y: i64, m: u32, d: u32) -> i64 {
        let (m, d) = (m as i64, d as i64);
        match self {
            Calendar::Day360 => y * 360 + (m - 1) * 30 + d - 1,
            Calendar::NoLeap | Calendar::AllLeap => {
                let year_len = if self == Calendar::NoLeap { 365 } else { 366 };
                let before: i64 = (1..m as u32)
                    .map(|mm| self.days_in_month(y, mm) as i64)
                    .sum();
                y * year_len + before + d - 1
            }
            Calendar::ProlepticGregorian => gregorian_jdn(y, m, d),
            Calendar::Julian => julian_jdn(y, m, d),
            Calendar::Standard => {
                if (y, m, d) >= (1582, 10, 15) {
                    gregorian_jdn(y, m, d)
                } else {
                    julian_jdn(y, m, d)
                }
            }
        }
    }

    fn date_of_day_number(self, n: i64) -> (i64, u32, u32) {
        match self {
            Calendar::Day360 => {
                let y = n.div_euclid(360);
                let r = n.rem_euclid(360);
                (y, (r / 30 + 1) as u32, (r % 30 + 1) as u32)
            }
            Calendar::NoLeap | Calendar::AllLeap => {
                let year_len = if self == Calendar::NoLeap { 365 } else { 366 };
                let y = n.div_euclid(year_len);
                let mut r = n.rem_euclid(year_len);
                let mut m = 1;
                while r >= self.days_in_month(y, m) as i64 {
                    r -= self.days_in_month(y, m) as i64;
                    m += 1;
                }
                (y, m, r as u32 + 1)
            }
            Calendar::ProlepticGregorian => gregorian_from_jdn(n),
            Calendar::Julian => julian_from_jdn(n),
            Calendar::Standard => {
                if n >= gregorian_jdn(1582, 10, 15) {
                    gregorian_from_jdn(n)
                } else {
                    julian_from_jdn(n)
                }
            }
        }
    }
}

fn gregorian_jdn(y: i64, m: i64, d: i64) -> i64 {
    let a = (14 - m) / 12;
    let yy = y + 4800 - a;
    let mm = m + 12 * a - 3;
    d + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - yy.div_euclid(100) + yy.div_euclid(400)
        - 32045
}

fn julian_jdn(y: i64, m: i64, d: i64) -> i64 {
    let a = (14 - m) / 12;
    let yy = y + 4800 - a;
    let mm = m + 12 * a - 3;
    d + (153 * mm + 2) / 5 + 365 * yy + yy.div_euclid(4) - 32083
}

fn gregorian_from_jdn(j: i64) -> (i64, u32, u32) {
    let a = j + 32044;
    let b = (4 * a + 3).div_euclid(146097);
    let c = a - 146097 * b / 4;
    let d = (4 * c + 3) / 1461;
    let e = c - 1461 * d / 4;
    let m = (5 * e + 2) / 153;
    let day = e - (153 * m + 2) / 5 + 1;
    let month = m + 3 - 12 * (m / 10);
    let year = 100 * b + d - 4800 + m / 10;
    (year, month as u32, day as u32)
}

fn julian_from_jdn(j: i64) -> (i64, u32, u32) {
    let c = j + 32082;
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - 1461 * d / 4;
    let m = (5 * e + 2) / 153;
    let day = e - (153 * m + 2) / 5 + 1;
    let month = m + 3 - 12 * (m / 10);
    let year = d - 4800 + m / 10;
    (year, month as u32, day as u32)
}

/// A calendar date and time of day (UTC).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CfDateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: f64,
}

/// The largest year (either sign) a date may name: day numbers of much larger years
/// overflow in the calendar arithmetic, and no data needs them.
pub const MAX_YEAR: i64 = 100_000_000;

impl CfDateTime {
    /// Parses ISO 8601-like dates: `2000-01-01`, `2000-1-1 12:00:00`, `2000-01-01T12:00Z`.
    pub fn parse(s: &str) -> Result<CfDateTime, TimeError> {
        let bad = || TimeError::BadDate(s.to_string());
        let s = s.trim();
        let (date, time) = match s.find(['T', ' ']) {
            Some(i) => (&s[..i], s[i + 1..].trim()),
            None => (s, ""),
        };
        let (neg, date) = match date.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, date),
        };
        let mut parts = date.split('-');
        let year: i64 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .filter(|y: &i64| y.abs() <= MAX_YEAR)
            .ok_or_else(bad)?;
        let month: u32 = parts
            .next()
            .map_or(Ok(1), |p| p.parse())
            .map_err(|_| bad())?;
        let day: u32 = parts
            .next()
            .map_or(Ok(1), |p| p.parse())
            .map_err(|_| bad())?;
        if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(bad());
        }
        // Drop a zone designator: `Z`, `UTC`, or `+00:00`-style offsets of zero.
        let time = time.trim_end_matches('Z').trim_end_matches("UTC").trim();
        let time = match time.find(['+']) {
            Some(i) => &time[..i],
            None => time,
        };
        let time = time.trim();
        let mut hms = if time.is_empty() {
            Vec::new()
        } else {
            time.split(':').collect()
        };
        hms.resize(3, "0");
        let hour: u32 = hms[0].parse().map_err(|_| bad())?;
        let minute: u32 = hms[1].parse().map_err(|_| bad())?;
        let second: f64 = hms[2].parse().map_err(|_| bad())?;
        if hour > 24 || minute > 59 || !(0.0..61.0).contains(&second) {
            return Err(bad());
        }
        Ok(CfDateTime {
            year: if neg { -year } else { year },
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// ISO 8601 in UTC: `2000-01-31T12:00:00Z` (fractional seconds when present).
    pub fn to_iso(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for CfDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:",
            self.year, self.month, self.day, self.hour, self.minute
        )?;
        if self.second.fract().abs() < 1e-6 {
            write!(f, "{:02}Z", self.second.round() as u32)
        } else {
            let s = format!("{:06.3}", self.second);
            write!(f, "{}Z", s.trim_end_matches('0'))
        }
    }
}

/// `units = "<unit> since <reference>"` with a calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeUnits {
    /// Seconds per unit.
    pub unit_seconds: f64,
    pub reference: CfDateTime,
    pub calendar: Calendar,
}

impl TimeUnits {
    pub fn parse(units: &str, calendar: Option<&str>) -> Result<TimeUnits, TimeError> {
        let bad = || TimeError::BadUnits(units.to_string());
        let units_trimmed = units.trim();
        let at = units_trimmed
            .to_ascii_lowercase()
            .find(" since ")
            .ok_or_else(bad)?;
        let (unit, reference) = (&units_trimmed[..at], &units_trimmed[at + 7..]);
        let unit_seconds = match unit.trim().to_ascii_lowercase().as_str() {
            "seconds" | "second" | "secs" | "sec" | "s" => 1.0,
            "milliseconds" | "millisecond" | "msec" | "ms" => 1e-3,
            "microseconds" | "microsecond" | "us" => 1e-6,
            "minutes" | "minute" | "mins" | "min" => 60.0,
            "hours" | "hour" | "hrs" | "hr" | "h" => 3600.0,
            "days" | "day" | "d" => 86400.0,
            "weeks" | "week" => 7.0 * 86400.0,
            // UDUNITS' year and month, as netCDF-C, cftime and xarray use them.
            "years" | "year" | "yr" => 365.242198781 * 86400.0,
            "months" | "month" => 365.242198781 * 86400.0 / 12.0,
            _ => return Err(bad()),
        };
        let reference = CfDateTime::parse(reference).map_err(|_| bad())?;
        Ok(TimeUnits {
            unit_seconds,
            reference,
            calendar: Calendar::parse(calendar.unwrap_or("standard"))?,
        })
    }

    fn reference_seconds(&self) -> f64 {
        let r = &self.reference;
        let day = self.calendar.day_number(r.year, r.month, r.day);
        day as f64 * 86400.0 + (r.hour * 3600 + r.minute * 60) as f64 + r.second
    }

    /// The date of a coordinate value. `None` for non-finite values.
    pub fn decode(&self, value: f64) -> Option<CfDateTime> {
        if !value.is_finite() {
            return None;
        }
        let total = self.reference_seconds() + value * self.unit_seconds;
        // Round to the millisecond so that 0.1-day steps don't print as 2:23:59.999.
        let total = (total * 1000.0).round() / 1000.0;
        let day = (total / 86400.0).floor();
        let secs = total - day * 86400.0;
        let (year, month, d) = self.calendar.date_of_day_number(day as i64);
        let hour = (secs / 3600.0).floor();
        let minute = ((secs - hour * 3600.0) / 60.0).floor();
        let second = secs - hour * 3600.0 - minute * 60.0;
        Some(CfDateTime {
            year,
            month,
            day: d,
            hour: hour as u32,
            minute: minute as u32,
            second: (second * 1000.0).round() / 1000.0,
        })
    }

    /// The coordinate value of a date; an error for dates the calendar lacks (Feb 30 in
    /// a standard calendar, Feb 29 in noleap).
    pub fn encode(&self, t: &CfDateTime) -> Result<f64, TimeError> {
        if t.day > self.calendar.days_in_month(t.year, t.month) {
            return Err(TimeError::BadDate(format!(
                "{t} does not exist in this calendar"
            )));
        }
        let day = self.calendar.day_number(t.year, t.month, t.day);
        let secs = day as f64 * 86400.0 + (t.hour * 3600 + t.minute * 60) as f64 + t.second;
        Ok((secs - self.reference_seconds()) / self.unit_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(units: &str, cal: &str, v: f64) -> String {
        TimeUnits::parse(units, Some(cal))
            .unwrap()
            .decode(v)
            .unwrap()
            .to_iso()
    }

    /// Found by fuzzing EDR's `datetime` (`1396-01-01,230233333333333333`): day
    /// numbers of huge years overflowed when a date was encoded in a dataset's units.
    #[test]
    fn huge_years_are_refused() {
        for s in [
            "230233333333333333-01-01",
            "--9223372036854775808",
            "100000001",
        ] {
            assert!(CfDateTime::parse(s).is_err(), "{s}");
        }
        let t = CfDateTime::parse("-100000000-01-01").unwrap();
        for cal in ["standard", "360_day", "noleap", "julian"] {
            let units = TimeUnits::parse("seconds since 1970-01-01", Some(cal)).unwrap();
            assert!(units.encode(&t).unwrap() < 0.0);
        }
    }

    #[test]
    fn standard_and_proleptic() {
        assert_eq!(
            iso("days since 2000-01-01", "standard", 0.0),
            "2000-01-01T00:00:00Z"
        );
        assert_eq!(
            iso("days since 2000-01-01", "gregorian", 60.0),
            "2000-03-01T00:00:00Z"
        );
        assert_eq!(
            iso("hours since 1970-01-01 00:00:00", "standard", 36.0),
            "1970-01-02T12:00:00Z"
        );
        assert_eq!(
            iso("seconds since 1970-01-01T00:00:00Z", "standard", 1e9),
            "2001-09-09T01:46:40Z"
        );
        // The Julian→Gregorian switch: 1582-10-04 is followed by 1582-10-15.
        assert_eq!(
            iso("days since 1582-10-04", "standard", 1.0),
            "1582-10-15T00:00:00Z"
        );
        assert_eq!(
            iso("days since 1582-10-04", "proleptic_gregorian", 1.0),
            "1582-10-05T00:00:00Z"
        );
        assert_eq!(
            iso("days since 1500-02-28", "julian", 1.0),
            "1500-02-29T00:00:00Z"
        );
        assert_eq!(
            iso("days since 1500-02-28", "proleptic_gregorian", 1.0),
            "1500-03-01T00:00:00Z"
        );
    }

    #[test]
    fn model_calendars() {
        assert_eq!(
            iso("days since 2000-02-28", "noleap", 1.0),
            "2000-03-01T00:00:00Z"
        );
        assert_eq!(
            iso("days since 2001-02-28", "all_leap", 1.0),
            "2001-02-29T00:00:00Z"
        );
        assert_eq!(
            iso("days since 2000-01-01", "360_day", 59.0),
            "2000-02-30T00:00:00Z"
        );
        assert_eq!(
            iso("days since 2000-01-01", "365_day", 365.0),
            "2001-01-01T00:00:00Z"
        );
        assert_eq!(
            iso("days since 2000-01-01", "366_day", 365.0),
            "2000-12-31T00:00:00Z"
        );
        assert_eq!(
            iso("days since 2000-01-01", "noleap", -1.0),
            "1999-12-31T00:00:00Z"
        );
        assert_eq!(
            iso("days since 2000-01-01", "360_day", -1.0),
            "1999-12-30T00:00:00Z"
        );
    }

    #[test]
    fn encode_is_inverse() {
        for cal in [
            "standard",
            "noleap",
            "360_day",
            "julian",
            "all_leap",
            "proleptic_gregorian",
        ] {
            let u = TimeUnits::parse("hours since 1990-06-15 06:00", Some(cal)).unwrap();
            for v in [-1000.5, 0.0, 12.25, 100000.0] {
                let t = u.decode(v).unwrap();
                assert!((u.encode(&t).unwrap() - v).abs() < 1e-6, "{cal} {v} {t}");
            }
        }
        let noleap = TimeUnits::parse("days since 2000-01-01", Some("noleap")).unwrap();
        assert!(
            noleap
                .encode(&CfDateTime::parse("2004-02-29").unwrap())
                .is_err()
        );
    }

    #[test]
    fn bad_input() {
        assert!(TimeUnits::parse("meters", None).is_err());
        assert!(TimeUnits::parse("days since yesterday", None).is_err());
        assert!(TimeUnits::parse("days since 2000-01-01", Some("martian")).is_err());
        assert!(CfDateTime::parse("2000-13-01").is_err());
        assert_eq!(
            iso("days since 2000-01-01", "standard", 0.25),
            "2000-01-01T06:00:00Z"
        );
        assert_eq!(
            iso("seconds since 2000-01-01", "standard", 1.5),
            "2000-01-01T00:00:01.5Z"
        );
    }
}
