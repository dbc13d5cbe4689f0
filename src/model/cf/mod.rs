//! CF conventions on top of the model: axes and coordinates, time, packing.

mod axes;
mod discovery;
mod packing;
mod time;

pub use axes::{Axis, CoordVar, CoordinateSystem, axis_of, coordinates};
pub use discovery::{longitude_latitude, time_coordinates};
pub use packing::{PACKING_ATTRIBUTES, Packing, STORAGE_ATTRIBUTES};
pub use time::{Calendar, CfDateTime, TimeError, TimeUnits};

use crate::model::Variable;

/// The time units of a variable, if it is a CF time coordinate.
pub fn time_units(var: &Variable) -> Option<TimeUnits> {
    let units = var.attr("units")?.as_text()?;
    let cal = var.attr("calendar").and_then(|a| a.as_text());
    TimeUnits::parse(&units, cal.as_deref()).ok()
}
