//! DAP2 constraint expressions: parsing the raw query, then selecting against the
//! metadata of every fixture (as `.dods`/`.ascii` requests do).
#![no_main]

use datagate::dap2::ce;
use datagate::dap2::selection::select;
use datagate::dap2::{Schema, xdr};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn schemas() -> &'static [Schema] {
    static S: OnceLock<Vec<Schema>> = OnceLock::new();
    S.get_or_init(|| {
        datagate_fuzz::fixture_metas()
            .iter()
            .map(Schema::build)
            .collect()
    })
}

fuzz_target!(
    init: {
        schemas();
    },
    |data: &[u8]| {
        let Ok(query) = std::str::from_utf8(data) else {
            return;
        };
        let Ok(constraint) = ce::parse(Some(query)) else {
            return;
        };
        for schema in schemas() {
            if let Ok(projected) = select(schema, &constraint) {
                // What the handler does before reading: the response size (as
                // `check_size` computes it), then the reader's check of each slab.
                for s in projected.iter().flat_map(|p| p.members()) {
                    let _ = xdr::encoded_size(s.array.dtype, s.count(), s.array.char_len, s.is_scalar())
                        .unwrap_or(4 + 4 * s.count() as u64);
                    let slab = s.source_slab();
                    let _ = slab.validate(&s.array.var.shape());
                }
            }
        }
    }
);
