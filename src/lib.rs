//! datagate: archive datasets behind OPeNDAP, OGC API EDR, OGC WMS and virtual Zarr.

pub mod app;
pub mod auth;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod dap2;
pub mod dap4;
pub mod edr;
pub mod endpoint;
pub mod error;
pub mod features;
pub mod files;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod http;
pub mod intake;
pub mod log_batch;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod opendap;
pub mod readers;
pub mod server;
pub mod service;
pub mod site_page;
pub mod stac;
pub mod storage;
pub mod subset;
#[cfg(feature = "otel")]
pub mod telemetry;
pub mod thredds;
pub mod web;
pub mod wms;
pub mod writers;
pub mod zarr;
