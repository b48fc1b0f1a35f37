//! Tracing setup: human-readable logs by default, JSON lines with `LOG_FORMAT=json`.

use tracing_subscriber::EnvFilter;

/// Installs the global tracing subscriber once (later calls are ignored).
///
/// The filter comes from `RUST_LOG` (default `info`); `json` selects one JSON object per line,
/// which is what log shippers on Akash expect.
pub fn init_tracing(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
