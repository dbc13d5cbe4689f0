//! What can be wrong with a DSG file, said precisely: a malformed file is the data
//! provider's problem to fix, so the message names the variable and the rule.

use thiserror::Error;

use crate::error::{ErrorKind, Kinded};
use crate::readers::ReadError;

#[derive(Debug, Error)]
pub enum DsgError {
    #[error("not a discrete sampling geometry: {0}")]
    NotDsg(String),
    #[error(
        "featureType {0:?} is not served as features (point, timeSeries, profile, trajectory, \
         timeSeriesProfile, trajectoryProfile are)"
    )]
    UnsupportedFeatureType(String),
    #[error("malformed DSG: no variable has cf_role = {0:?} (the feature ids)")]
    MissingCfRole(&'static str),
    #[error("malformed DSG: no {0} coordinate variable")]
    MissingCoordinate(&'static str),
    #[error("malformed DSG: {0}")]
    Malformed(String),
    #[error("too large to serve as features: {0}")]
    TooLarge(String),
    #[error(transparent)]
    Read(#[from] ReadError),
}

impl DsgError {
    pub fn malformed(msg: impl Into<String>) -> DsgError {
        DsgError::Malformed(msg.into())
    }

    /// The text a client may see.
    pub fn public_message(&self) -> String {
        match self {
            DsgError::Read(e) => e.public_message(),
            other => other.to_string(),
        }
    }
}

impl Kinded for DsgError {
    fn kind(&self) -> ErrorKind {
        match self {
            // The file is there but cannot be served as features: like a damaged file.
            DsgError::NotDsg(_)
            | DsgError::UnsupportedFeatureType(_)
            | DsgError::MissingCfRole(_)
            | DsgError::MissingCoordinate(_)
            | DsgError::Malformed(_)
            | DsgError::TooLarge(_) => ErrorKind::Unreadable,
            DsgError::Read(e) => e.kind(),
        }
    }
}
