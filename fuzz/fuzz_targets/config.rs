//! The configuration file: TOML into `Config`, its own checks (`problems`, the bind
//! address), and what the catalog derives from a collection without touching any file
//! (how files combine; `join_new`'s date pattern on a file name, its time units).
#![no_main]

use datagate::catalog::{Combine, date_from_name};
use datagate::config::{Config, valid_id};
use datagate::model::cf::TimeUnits;
use datagate::storage::Location;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = toml::from_str::<Config>(text) else {
        return;
    };
    let _ = config.problems();
    let _ = config.bind_addr();
    for c in &config.collections {
        // Without a date format, values come from the files (nothing to parse here).
        if let Ok(Combine::JoinNew {
            date_format: Some(date_format),
            units,
            ..
        }) = c.combine()
        {
            let units = TimeUnits::parse(&units, None);
            // A name made from the pattern itself, and a typical one.
            let name = date_format
                .replace("%Y", "2020")
                .replace("%m", "02")
                .replace("%d", "29")
                .replace("%H", "23")
                .replace("%M", "59")
                .replace("%S", "60")
                .replace("%j", "366");
            for n in [name.as_str(), "sst_20200131.nc"] {
                if let (Some(t), Ok(u)) = (date_from_name(n, &date_format), &units) {
                    let _ = u.encode(&t);
                }
            }
        }
    }
    for d in &config.datasets {
        if let Some(id) = &d.id {
            let _ = valid_id(id);
        }
        if let Some(loc) = &d.location {
            let _ = Location::parse(loc, Path::new("/nonexistent"));
        }
    }
});
