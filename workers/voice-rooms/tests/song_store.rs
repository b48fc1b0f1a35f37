//! The `song_registry` table on SQLite and on the PostgreSQL of the machine
//! (`TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`, one private schema
//! per run): the same search semantics on both (ASCII case ignored, `%` and `_` wildcards,
//! no escape character, newest first, 25 at most), the unique story id, reads by id.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use voice_rooms::songs::{Inserted, Song, SongRegistry, text};

fn song(n: i64, title: &str, story: &str) -> Song {
    Song {
        song_id: format!("id-{n}"),
        title: title.into(),
        artist: format!("Artist {n}"),
        title_norm: text::normalise(title),
        artist_norm: text::normalise(&format!("Artist {n}")),
        story_ip_id: story.into(),
        controller_wallet: "0x00000000000000000000000000000000000000c0".into(),
        payout_chain_id: 84532,
        payout_address: "0x00000000000000000000000000000000000000aa".into(),
        default_upstream_bps: n,
        payout_attestation_sig: format!("0x{}", "ab".repeat(65)),
        license_preset_id: (n % 2 == 0).then(|| "preset".into()),
        created_at: 1000 + n,
        updated_at: 1000 + n,
    }
}

async fn titles(registry: &SongRegistry, needle: &str) -> Vec<String> {
    registry
        .search(needle)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.title)
        .collect()
}

async fn the_contract(registry: &SongRegistry) {
    for n in 0..30 {
        let row = song(n, &format!("Track {n:02}"), &format!("0xStory{n:02}"));
        assert_eq!(registry.insert(&row).await.unwrap(), Inserted::Stored);
    }
    for (n, title) in [(40, "100% Pure"), (41, "a_b"), (42, "a\\b"), (43, "axb")] {
        let row = song(n, title, &format!("0xOther{n}"));
        assert_eq!(registry.insert(&row).await.unwrap(), Inserted::Stored);
    }
    // Newest first, at most 25.
    let hits = titles(registry, "track").await;
    assert_eq!(hits.len(), 25);
    assert_eq!(hits[0], "Track 29");
    assert_eq!(hits[24], "Track 05");
    // Story ids match whatever the case.
    assert_eq!(titles(registry, "0xstory07").await, ["Track 07"]);
    // `%` and `_` are wildcards; a backslash is a plain character.
    assert_eq!(titles(registry, "a_b").await, ["axb", "a\\b", "a_b"]);
    assert_eq!(titles(registry, "0%pure").await, ["100% Pure"]);
    assert_eq!(titles(registry, "a\\b").await, ["a\\b"]);
    // Reads by id and by story id.
    let row = registry.get("id-4").await.unwrap().unwrap();
    assert_eq!(row, song(4, "Track 04", "0xStory04"));
    assert_eq!(
        registry
            .get("id-5")
            .await
            .unwrap()
            .unwrap()
            .license_preset_id,
        None
    );
    assert_eq!(registry.get("nope").await.unwrap(), None);
    assert_eq!(
        registry
            .song_of_story("0xStory04")
            .await
            .unwrap()
            .as_deref(),
        Some("id-4")
    );
    // The story id is unique.
    let mut again = song(99, "Again", "0xStory04");
    again.song_id = "id-99".into();
    assert_eq!(
        registry.insert(&again).await.unwrap(),
        Inserted::DuplicateStoryId
    );
    assert_eq!(registry.get("id-99").await.unwrap(), None);
}

#[tokio::test]
async fn sqlite_keeps_the_contract_and_reopens_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nested/state.db").display());
    let registry = SongRegistry::open(&url).await.unwrap();
    the_contract(&registry).await;
    let reopened = SongRegistry::open(&url).await.unwrap();
    assert!(reopened.get("id-4").await.unwrap().is_some());
    let memory = SongRegistry::open("sqlite::memory:").await.unwrap();
    assert_eq!(memory.get("id-4").await.unwrap(), None);
    assert!(SongRegistry::open("redis://127.0.0.1").await.is_err());
}

#[tokio::test]
async fn postgres_keeps_the_same_contract() {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("songs_test_{}", uuid::Uuid::new_v4().simple());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    let options = PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let registry = SongRegistry::with_postgres(pool).await.unwrap();
    the_contract(&registry).await;
    drop(registry);
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .unwrap();
}
