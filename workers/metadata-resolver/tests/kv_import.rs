//! `kv_import` into the Redis cache store (the SQLite path is covered by the unit test and by
//! `heaven migrate kv-import`): values land byte for byte and the resolver serves them.

mod common;

use std::time::{Duration, SystemTime};

use common::{RedisPrefix, Resolver, Upstreams};
use metadata_resolver::kv_import::{ImportReport, import_kv};

#[tokio::test]
async fn a_kv_export_imported_into_redis_is_served() {
    let prefix = RedisPrefix::new();
    let store = prefix.store().await;
    let now = SystemTime::now();
    let later = (now + Duration::from_secs(600))
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let export = format!(
        concat!(
            r#"{{"key":"spotify-artist:4Z8W4fKeB5YxbusRsdQVPb","value":"{{\"error\":\"not_found\",\"spotifyId\":\"4Z8W4fKeB5YxbusRsdQVPb\"}}","expiration":{}}}"#,
            "\n",
            r#"{{"key":"rehost:00ff","value":"LOADID","expiration":{}}}"#,
            "\n"
        ),
        later, later
    );
    let report = import_kv(store.as_ref(), export.as_bytes(), now)
        .await
        .unwrap();
    assert_eq!(
        report,
        ImportReport {
            imported: 2,
            expired: 0,
            blank: 0
        }
    );
    let up = Upstreams::start().await;
    let resolver = Resolver::serve(up.config(&[]), store).await;
    assert_eq!(
        resolver
            .get("/resolve/spotify-artist/4Z8W4fKeB5YxbusRsdQVPb")
            .await,
        (
            200,
            r#"{"error":"not_found","spotifyId":"4Z8W4fKeB5YxbusRsdQVPb"}"#.to_owned()
        )
    );
    assert_eq!(
        resolver
            .state
            .cache()
            .get("rehost:00ff")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"LOADID"[..])
    );
}
