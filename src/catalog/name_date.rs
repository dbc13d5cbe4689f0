//! Dates in file names (`sst_%Y%m%d.nc`): the coordinate of each member of a
//! `join_new` aggregation whose files carry no time of their own.

use crate::model::cf::{CfDateTime, TimeUnits};

/// Parses a date out of a file name with a `%Y %m %d %H %M %S %j` pattern.
pub fn date_from_name(name: &str, format: &str) -> Option<CfDateTime> {
    let (mut year, mut month, mut day, mut hour, mut minute, mut second) =
        (None, 1u32, 1u32, 0u32, 0u32, 0f64);
    let mut doy = None;
    let (f, n) = (format.as_bytes(), name.as_bytes());
    let (mut i, mut j) = (0, 0);
    let take = |j: &mut usize, width: usize| -> Option<u32> {
        let s = std::str::from_utf8(n.get(*j..*j + width)?).ok()?;
        *j += width;
        s.parse().ok()
    };
    while i < f.len() {
        if f[i] == b'%' && i + 1 < f.len() {
            match f[i + 1] {
                b'Y' => year = Some(take(&mut j, 4)? as i64),
                b'm' => month = take(&mut j, 2)?,
                b'd' => day = take(&mut j, 2)?,
                b'H' => hour = take(&mut j, 2)?,
                b'M' => minute = take(&mut j, 2)?,
                b'S' => second = take(&mut j, 2)? as f64,
                b'j' => doy = Some(take(&mut j, 3)?),
                _ => return None,
            }
            i += 2;
        } else {
            if n.get(j) != Some(&f[i]) {
                return None;
            }
            i += 1;
            j += 1;
        }
    }
    if j != n.len() {
        return None;
    }
    let mut t = CfDateTime {
        year: year?,
        month,
        day,
        hour,
        minute,
        second,
    };
    if let Some(doy) = doy {
        // Day of year in the standard calendar: count from January 1st.
        let units = TimeUnits::parse(&format!("days since {:04}-01-01", t.year), None).ok()?;
        let d = units.decode((doy as f64) - 1.0)?;
        t.month = d.month;
        t.day = d.day;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_names() {
        let t = date_from_name("sst_20200131.nc", "sst_%Y%m%d.nc").unwrap();
        assert_eq!((t.year, t.month, t.day), (2020, 1, 31));
        let t = date_from_name("A2020061.L3.nc", "A%Y%j.L3.nc").unwrap();
        assert_eq!((t.year, t.month, t.day), (2020, 3, 1));
        let t = date_from_name("x_2020-02-03T06.nc", "x_%Y-%m-%dT%H.nc").unwrap();
        assert_eq!(t.hour, 6);
        assert!(date_from_name("sst_2020013.nc", "sst_%Y%m%d.nc").is_none());
        assert!(date_from_name("other.nc", "sst_%Y%m%d.nc").is_none());
    }
}
