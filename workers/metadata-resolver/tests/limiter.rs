//! The MusicBrainz limiter across processes and restarts: two resolver instances sharing one
//! Redis never let two MusicBrainz requests start within 1.1 s of each other; a restarted
//! worker (new process state, same SQLite file) waits for the previous worker's last turn; a
//! full queue answers 503 with `Retry-After`.
//!
//! The arrival times are taken at the fake MusicBrainz. Turns are reserved exactly 1100 ms
//! apart and a sender that wakes late pushes the next one back, so the only slack left is
//! the fake's own scheduling when it stamps an arrival: the comparison allows 30 ms for it
//! (a broken limiter sends these requests within a few milliseconds of each other).
//!
//! Real clock: turns are wall-clock milliseconds stored in the shared cache store (Redis or
//! SQLite), so replicas agree on them; a paused tokio clock does not move them.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{RedisPrefix, Resolver, Timestamps, Upstreams, json_fixture};
use portability::{CacheStore, SqliteCacheStore};
use wiremock::Mock;
use wiremock::matchers::path_regex;

const SPACING: Duration = Duration::from_millis(1100);
const JITTER: Duration = Duration::from_millis(30);

fn mbid(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn assert_spaced(times: &[std::time::Instant]) {
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap + JITTER >= SPACING,
            "two MusicBrainz requests {gap:?} apart: {times:?}"
        );
    }
}

async fn mount_timed(up: &Upstreams) -> Timestamps {
    let recorder = Timestamps::new(json_fixture("recording_creep.json"));
    Mock::given(path_regex("^/ws/2/recording/"))
        .respond_with(recorder.clone())
        .mount(&up.musicbrainz)
        .await;
    recorder
}

#[tokio::test]
async fn two_instances_sharing_redis_never_send_within_the_spacing() {
    let up = Upstreams::start().await;
    let recorder = mount_timed(&up).await;
    let prefix = RedisPrefix::new();
    let config = up.config(&[("MB_SPACING_MS", "1100")]);
    let a = Resolver::serve(config.clone(), prefix.store().await).await;
    let b = Resolver::serve(config, prefix.store().await).await;
    let mut requests = Vec::new();
    for n in 0..6 {
        let instance = if n % 2 == 0 { &a } else { &b };
        let url = instance.url(&format!("/recording/{}", mbid(n)));
        requests.push(tokio::spawn(async move {
            reqwest::get(url).await.unwrap().status().as_u16()
        }));
    }
    for request in requests {
        assert_eq!(request.await.unwrap(), 200);
    }
    let times = recorder.sorted();
    assert_eq!(times.len(), 6);
    assert_spaced(&times);
}

#[tokio::test]
async fn a_restarted_worker_respects_the_last_request_time() {
    let up = Upstreams::start().await;
    let recorder = mount_timed(&up).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache.sqlite3");
    let config = up.config(&[("MB_SPACING_MS", "1100")]);

    let first = Resolver::serve(
        config.clone(),
        Arc::new(SqliteCacheStore::open(&file).await.unwrap()),
    )
    .await;
    assert_eq!(first.get(&format!("/recording/{}", mbid(1))).await.0, 200);
    first.stop();

    // A new process state over the same file: the first request must wait for its turn.
    let reopened: Arc<dyn CacheStore> = Arc::new(SqliteCacheStore::open(&file).await.unwrap());
    let second = Resolver::serve(config, reopened).await;
    assert_eq!(second.get(&format!("/recording/{}", mbid(2))).await.0, 200);
    let times = recorder.sorted();
    assert_eq!(times.len(), 2);
    assert_spaced(&times);
}

#[tokio::test]
async fn a_restarted_worker_on_redis_respects_the_last_request_time() {
    let up = Upstreams::start().await;
    let recorder = mount_timed(&up).await;
    let prefix = RedisPrefix::new();
    let config = up.config(&[("MB_SPACING_MS", "1100")]);
    let first = Resolver::serve(config.clone(), prefix.store().await).await;
    assert_eq!(first.get(&format!("/recording/{}", mbid(1))).await.0, 200);
    first.stop();
    let second = Resolver::serve(config, prefix.store().await).await;
    assert_eq!(second.get(&format!("/recording/{}", mbid(2))).await.0, 200);
    assert_spaced(&recorder.sorted());
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    let up = Upstreams::start().await;
    let recorder = mount_timed(&up).await;
    let config = up.config(&[("MB_SPACING_MS", "1100"), ("MB_QUEUE_LIMIT", "1")]);
    let resolver = Resolver::sqlite(config).await;
    // Takes the free turn at once.
    assert_eq!(
        resolver.get(&format!("/recording/{}", mbid(1))).await.0,
        200
    );
    // Waits ~1.1 s for the next turn, holding the only queue place...
    let waiting = {
        let url = resolver.url(&format!("/recording/{}", mbid(2)));
        tokio::spawn(async move { reqwest::get(url).await.unwrap().status().as_u16() })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // ...so a third is refused at once.
    let refused = reqwest::get(resolver.url(&format!("/recording/{}", mbid(3))))
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "2");
    assert_eq!(
        refused.text().await.unwrap(),
        r#"{"error":"musicbrainz_busy"}"#
    );
    assert_eq!(waiting.await.unwrap(), 200);
    assert_eq!(recorder.sorted().len(), 2);
}
