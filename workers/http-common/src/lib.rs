//! The HTTP edge shared by every Heaven worker: typed env configuration, the CORS policies of
//! the original services, request ids, tracing, Prometheus metrics and graceful shutdown.
//!
//! A worker builds its own `axum::Router` and hands it to [`ServiceEdge::wrap`]; everything a
//! production service needs around the handlers comes from here, identical for every service.

pub mod config;
pub mod cors;
pub mod error;
pub mod metrics;
pub mod serve;
pub mod telemetry;

pub use config::{ConfigError, EnvSource};
pub use cors::CorsPolicy;
pub use error::json_error;
pub use metrics::RouteMetrics;
pub use serve::{ServiceEdge, shutdown_signal};
pub use telemetry::init_tracing;
