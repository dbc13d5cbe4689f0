//! The ISO 8601 extent of a list of times, as capabilities give it (WMS 1.3.0 Annex C).

use crate::model::cf::CfDateTime;

/// The compact time extent: `start/end/period` for regular steps (months counted
/// in the calendar, so noleap and 360-day months work), else a list.
pub fn compact_time_extent(dates: &[CfDateTime], values: &[f64], unit_seconds: f64) -> String {
    let d = dates;
    if d.len() == 1 {
        return d[0].to_iso();
    }
    let list = || {
        d.iter()
            .map(CfDateTime::to_iso)
            .collect::<Vec<_>>()
            .join(",")
    };
    if d.len() < 2 {
        return list();
    }
    let start_end = format!("{}/{}", d[0].to_iso(), d[d.len() - 1].to_iso());
    // Whole months apart, same day and time of day.
    let month_index = |c: &CfDateTime| c.year * 12 + c.month as i64;
    let same_day = d.iter().all(|c| {
        c.day == d[0].day
            && c.hour == d[0].hour
            && c.minute == d[0].minute
            && c.second == d[0].second
    });
    if same_day {
        let step = month_index(&d[1]) - month_index(&d[0]);
        if step > 0
            && d.windows(2)
                .all(|w| month_index(&w[1]) - month_index(&w[0]) == step)
        {
            let period = if step % 12 == 0 {
                format!("P{}Y", step / 12)
            } else {
                format!("P{step}M")
            };
            return format!("{start_end}/{period}");
        }
    }
    let secs: Vec<f64> = values.iter().map(|v| v * unit_seconds).collect();
    let step = secs[1] - secs[0];
    let regular = step > 0.0
        && secs
            .windows(2)
            .all(|w| ((w[1] - w[0]) - step).abs() <= 1e-6 * step.max(1.0));
    if regular && (step - step.round()).abs() < 1e-6 {
        let s = step.round() as i64;
        let period = if s % 86400 == 0 {
            format!("P{}D", s / 86400)
        } else if s % 3600 == 0 {
            format!("PT{}H", s / 3600)
        } else if s % 60 == 0 {
            format!("PT{}M", s / 60)
        } else {
            format!("PT{s}S")
        };
        return format!("{start_end}/{period}");
    }
    list()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cf::TimeUnits;

    fn axis(units: &str, cal: &str, values: &[f64]) -> (Vec<CfDateTime>, Vec<f64>, f64) {
        let u = TimeUnits::parse(units, Some(cal)).unwrap();
        let dates = values.iter().map(|v| u.decode(*v).unwrap()).collect();
        (dates, values.to_vec(), u.unit_seconds)
    }

    fn time_extent(a: &(Vec<CfDateTime>, Vec<f64>, f64)) -> String {
        compact_time_extent(&a.0, &a.1, a.2)
    }

    #[test]
    fn compact_time_extents() {
        // Monthly in a noleap calendar (sst_classic.nc).
        assert_eq!(
            time_extent(&axis("days since 2000-01-01", "noleap", &[0.0, 31.0, 59.0])),
            "2000-01-01T00:00:00Z/2000-03-01T00:00:00Z/P1M"
        );
        assert_eq!(
            time_extent(&axis(
                "hours since 2020-01-01",
                "proleptic_gregorian",
                &[0.0, 6.0, 12.0, 18.0]
            )),
            "2020-01-01T00:00:00Z/2020-01-01T18:00:00Z/PT6H"
        );
        assert_eq!(
            time_extent(&axis("days since 2010-01-01", "standard", &[0.0, 1.0])),
            "2010-01-01T00:00:00Z/2010-01-02T00:00:00Z/P1D"
        );
        assert_eq!(
            time_extent(&axis("days since 2010-01-01", "standard", &[0.0, 1.0, 5.0])),
            "2010-01-01T00:00:00Z,2010-01-02T00:00:00Z,2010-01-06T00:00:00Z"
        );
        assert_eq!(
            time_extent(&axis(
                "days since 2010-01-01",
                "360_day",
                &[0.0, 360.0, 720.0]
            )),
            "2010-01-01T00:00:00Z/2012-01-01T00:00:00Z/P1Y"
        );
        assert_eq!(
            time_extent(&axis("days since 2010-01-01", "standard", &[3.0])),
            "2010-01-04T00:00:00Z"
        );
    }
}
