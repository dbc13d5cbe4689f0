//! The WKT of EDR's `coords`, raw: any text straight into the geometry parser.
#![no_main]

use datagate::edr::geometry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = geometry::parse(text);
    }
});
