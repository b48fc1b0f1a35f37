//! Debug builds only: `HEAVEN_TEST_PANIC_ROUTE=1` adds `GET /__heaven/panic`, a route that
//! panics, to every service, so tests of the real binary can check that a panicking handler is
//! contained (a 500 in the service's JSON shape, logged with its request id, counted in
//! `/metrics`, every other request and service still served). Release builds do not have it.

use axum::Router;
use axum::routing::get;

/// The variable that turns the route on.
pub const ENV: &str = "HEAVEN_TEST_PANIC_ROUTE";
/// The route.
pub const PATH: &str = "/__heaven/panic";

/// `routes` plus the panicking route when [`ENV`] is `1`.
pub fn with_panic_route(routes: Router) -> Router {
    if std::env::var(ENV).as_deref() != Ok("1") {
        return routes;
    }
    routes.route(PATH, get(panics))
}

async fn panics() -> &'static str {
    panic!("panic probe: this handler always panics (HEAVEN_TEST_PANIC_ROUTE=1)")
}
