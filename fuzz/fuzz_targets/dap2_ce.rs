//! DAP2 constraint expressions: parsing the raw query, then selecting against the
//! metadata of every fixture (as `.dods`/`.ascii` requests do).
#![no_main]

use datagate::dap2::Schema;
use datagate::dap2::ce;
use datagate::dap2::selection::select;
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
                for p in &projected {
                    for s in p.members() {
                        let slab = s.source_slab();
                        let _ = slab.shape();
                        let _ = s.count();
                        let _ = s.is_scalar();
                    }
                }
            }
        }
    }
);
