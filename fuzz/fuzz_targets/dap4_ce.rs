//! DAP4 queries (`dap4.ce=...&dap4.checksum=...`): parsing, then resolving the
//! constraint against the metadata of every fixture (as `.dap`/`.dmr` requests do).
#![no_main]

use datagate::dap4::{ce, selection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        datagate_fuzz::fixture_metas();
    },
    |data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        // As a whole query string, and as a decoded constraint.
        let parsed = [
            ce::parse_query(Some(text)).ok().and_then(|q| q.ce),
            ce::parse_ce(text).ok(),
        ];
        for constraint in parsed.iter().flatten() {
            for meta in datagate_fuzz::fixture_metas() {
                // What the handler does before reading: the response size, then the
                // reader's check of each slab.
                if let Ok(sel) = selection::resolve(meta, Some(constraint)) {
                    let _ = sel.fixed_bytes();
                    for var in meta.variables() {
                        if let Some(s) = sel.get(&var.path) {
                            let _ = s.slab.validate(&var.shape());
                        }
                    }
                }
            }
        }
    }
);
