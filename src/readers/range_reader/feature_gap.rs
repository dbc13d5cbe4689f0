//! Tells a file the pure-Rust reader cannot read because it lacks a feature (a filter,
//! a datatype, a link kind it does not implement) from a damaged one. Only the first
//! may go to netCDF-C: libhdf5 crashes the whole process (SIGSEGV) on some damaged
//! structures the pure-Rust reader refuses (found by fuzzing), so damage stops here.

use hdf5_reader::error::Error as Hdf5Error;
use netcdf_reader::Error as NcError;

/// Whether `e` is a valid encoding the pure-Rust reader does not implement. Values a
/// damaged file would give (a class or type number the HDF5 specification does not
/// define, any structure version, checksum or signature errors) are damage.
pub(super) fn is_feature_gap(e: &NcError) -> bool {
    match e {
        NcError::UnsupportedFeature(_) => true,
        NcError::Hdf5(e) => hdf5_feature_gap(e),
        _ => false,
    }
}

fn hdf5_feature_gap(e: &Hdf5Error) -> bool {
    match e {
        Hdf5Error::UnsupportedFilter(_)
        | Hdf5Error::UnsupportedEncoding(_)
        // A chunk larger than the reader's memory limit: netCDF-C reads it whole.
        | Hdf5Error::ResourceLimit(_) => true,
        // The specification's datatype classes are 0–10, layout classes 0–3, chunk
        // index types 1–5, B-tree v2 record types 1–11; link types 0, 1 and 64 or
        // more (external and user-defined).
        Hdf5Error::UnsupportedDatatypeClass(class) => *class <= 10,
        Hdf5Error::UnsupportedLayoutClass(class) => *class <= 3,
        Hdf5Error::UnsupportedChunkIndexType(kind) => (1..=5).contains(kind),
        Hdf5Error::UnsupportedBTreeV2RecordType(kind) => (1..=11).contains(kind),
        Hdf5Error::UnsupportedLinkType(kind) => *kind <= 1 || *kind >= 64,
        Hdf5Error::Context { source, .. } => hdf5_feature_gap(source),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_is_not_a_feature_gap() {
        let checksum = Hdf5Error::ChecksumMismatch {
            expected: 1,
            actual: 2,
        };
        assert!(!is_feature_gap(&NcError::Hdf5(checksum)));
        assert!(!is_feature_gap(&NcError::Hdf5(
            Hdf5Error::UnsupportedSuperblockVersion(9)
        )));
        assert!(!is_feature_gap(&NcError::Hdf5(
            Hdf5Error::UnsupportedDatatypeClass(200)
        )));
        assert!(!is_feature_gap(&NcError::InvalidData("x".into())));
    }

    #[test]
    fn missing_features_are_gaps() {
        let szip = Hdf5Error::UnsupportedFilter("szip".into());
        assert!(is_feature_gap(&NcError::Hdf5(Hdf5Error::Context {
            path: "/v".into(),
            source: Box::new(szip),
        })));
        assert!(is_feature_gap(&NcError::Hdf5(
            Hdf5Error::UnsupportedLinkType(64)
        )));
        assert!(is_feature_gap(&NcError::UnsupportedFeature("x".into())));
    }
}
