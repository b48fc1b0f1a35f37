//! The HTTP edge shared by every Heaven worker: typed env configuration, the CORS policies of
//! the original services, request ids, tracing, Prometheus metrics, the client IP behind
//! trusted proxies, connection limits, tracked background work and graceful shutdown.
//!
//! A worker builds its own `axum::Router` and hands it to [`ServiceEdge::wrap`]; everything a
//! production service needs around the handlers comes from here, identical for every service.
//! [`server::serve`] puts the wrapped router on a listener.

pub mod client_ip;
pub mod config;
pub mod cors;
pub mod edge;
pub mod error;
pub mod metrics;
pub mod ordered_json;
pub mod secret;
pub mod server;
pub mod tasks;
pub mod telemetry;

pub use client_ip::{ClientIp, TrustedProxies};
pub use config::{ConfigError, EnvSource};
pub use cors::CorsPolicy;
pub use edge::ServiceEdge;
pub use error::json_error;
pub use metrics::RouteMetrics;
pub use ordered_json::OrderedJson;
pub use secret::constant_time_eq;
pub use server::{ConnectionLimits, serve, shutdown_signal};
pub use tasks::BackgroundTasks;
pub use telemetry::init_tracing;
