//! Tests of the likes and candidates routes (contracts/api-core.md §1.1, §1.2).

use canister_runtime::native::HostMemory;
use serde_json::{Value, json};

use super::candidates::candidates;
use super::likes::{like, received};
use crate::admin;
use crate::api::{ApiError, ApiRequest, ApiResult, Now};
use crate::state::event::ImportRows;
use crate::state::{self, LikesConfig, ShadowProfile};

const A: &str = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "0xcccccccccccccccccccccccccccccccccccccccc";

fn at(ms: u64) -> Now {
    Now::from_ns(ms * 1_000_000)
}

fn profile(id: &str, rank: i64, claimed: Option<&str>) -> ShadowProfile {
    ShadowProfile {
        id: id.into(),
        source: "dateme".into(),
        display_name: Some(format!("name-{id}")),
        featured_rank: rank,
        claimed_address: claimed.map(str::to_string),
        ..Default::default()
    }
}

fn fresh(profiles: Vec<ShadowProfile>) {
    state::install_memory(HostMemory::volatile());
    let rows = ImportRows {
        shadow_profiles: profiles,
        ..Default::default()
    };
    admin::import_batch("t".into(), 0, rows, at(1)).unwrap();
}

fn answer(r: ApiResult) -> (u16, Value) {
    let r = r.unwrap_or_else(ApiError::into_response);
    (r.status, r.body_json())
}

fn like_at(body: Value, ms: u64, ip: Option<&str>) -> (u16, Value) {
    let req = ApiRequest::new("POST", "/api/likes", vec![], body.to_string().into_bytes());
    answer(like(&req, at(ms), ip))
}

fn likes(viewer: &str, target_type: &str, target: &str, ms: u64) -> (u16, Value) {
    like_at(
        json!({"viewerAddress": viewer, "targetType": target_type, "targetId": target}),
        ms,
        None,
    )
}

#[test]
fn like_input_errors_in_the_originals_order() {
    fresh(vec![]);
    let bad = |body: Value| like_at(body, 10, None);
    let raw = ApiRequest::new("POST", "/api/likes", vec![], b"{".to_vec());
    assert_eq!(
        answer(like(&raw, at(1), None)),
        (400, json!({"success": false, "error": "Invalid JSON body"}))
    );
    let e = |m: &str| (400, json!({"success": false, "error": m}));
    assert_eq!(
        bad(json!({"targetType": "user"})),
        e("Invalid viewer address")
    );
    assert_eq!(
        bad(json!({"viewerAddress": "0x12"})),
        e("Invalid viewer address")
    );
    assert_eq!(
        bad(json!({"viewerAddress": A, "targetType": "users"})),
        e("Invalid target type")
    );
    assert_eq!(
        bad(json!({"viewerAddress": A, "targetType": "user"})),
        e("Missing target ID")
    );
    assert_eq!(
        bad(json!({"viewerAddress": A, "targetType": "user", "targetId": ""})),
        e("Missing target ID")
    );
    assert_eq!(
        bad(json!({"viewerAddress": A, "targetType": "user", "targetId": "bob"})),
        e("Invalid target address")
    );
    assert_eq!(
        bad(json!({"viewerAddress": A, "targetType": "shadow", "targetId": {"x": 1}})),
        e("Invalid target ID")
    );
    // Nothing was written by a refused like.
    assert!(state::with(|s| s.users().is_empty() && s.likes().is_empty()));
}

#[test]
fn mutual_likes_through_a_claimed_shadow_profile_make_one_stable_match() {
    fresh(vec![profile("shadow-b", 1, Some(B))]);
    // A likes B's shadow profile (its id as sent).
    assert_eq!(
        likes(A, "shadow", "shadow-b", 10),
        (200, json!({"success": true, "mutual": false}))
    );
    assert_eq!(
        likes(A, "shadow", "shadow-b", 11),
        (
            200,
            json!({"success": true, "mutual": false, "error": "Already liked"})
        )
    );
    let liked = state::with(|s| s.shadow_profiles().get(&"shadow-b".to_string()))
        .unwrap()
        .0;
    assert_eq!(liked.likes_received, 1);
    // B likes A as a user, with a mixed-case id (stored as sent): mutual.
    let mixed_a = format!("0x{}", "AA".repeat(20));
    let (status, body) = likes(B, "user", &mixed_a, 12);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"success": true, "mutual": true, "peerAddress": A, "matchId": 1})
    );
    let stored = state::with(|s| s.likes().get(&format!("{B}|user|{mixed_a}")))
        .unwrap()
        .0;
    assert_eq!(stored.target_id, mixed_a);
    // A likes B as a user too: the same match.
    assert_eq!(
        likes(&A.to_uppercase().replace("0X", "0x"), "user", B, 13).1,
        json!({"success": true, "mutual": true, "peerAddress": B, "matchId": 1})
    );
    assert_eq!(state::with(|s| s.matches().len()), 1);
    let m = state::with(|s| s.matches().get(&format!("{A}|{B}")))
        .unwrap()
        .0;
    assert_eq!(
        (m.user1.as_str(), m.user2.as_str(), m.created_at_ms),
        (A, B, 12)
    );
    // The viewers are directory users, last active at their latest like.
    let a = state::with(|s| s.users().get(&A.to_string())).unwrap().0;
    assert_eq!(
        (
            a.created_at_ms,
            a.last_active_at_ms,
            a.directory_tier.as_str()
        ),
        (10, Some(13), "claimed")
    );
    // An unclaimed shadow target never matches.
    fresh(vec![profile("lonely", 1, None)]);
    assert_eq!(
        likes(A, "shadow", "lonely", 1).1,
        json!({"success": true, "mutual": false})
    );
    assert_eq!(
        crate::state::audit::check_against_log(),
        Ok(state::with(|s| s.event_count()))
    );
}

#[test]
fn likes_are_limited_per_viewer_and_per_client_ip() {
    fresh(vec![]);
    let limits = LikesConfig {
        window_seconds: 60,
        per_viewer: 2,
        per_ip: 3,
    };
    admin::set_likes_config(limits, at(1)).unwrap();
    let like_ip = |viewer: &str, target: &str, secs: u64| {
        like_at(
            json!({"viewerAddress": viewer, "targetType": "shadow", "targetId": target}),
            secs * 1000,
            Some("203.0.113.9"),
        )
    };
    assert_eq!(like_ip(A, "s1", 100).0, 200);
    assert_eq!(like_ip(A, "s1", 101).0, 200, "a repeated like counts too");
    let throttled = (
        429,
        json!({"success": false, "error": "Too many likes, try again later", "retryAfter": 60}),
    );
    assert_eq!(like_ip(A, "s2", 102), throttled);
    // Another viewer on the same IP: one more, then the IP is spent.
    assert_eq!(like_ip(B, "s2", 103).0, 200);
    assert_eq!(like_ip(C, "s2", 104), throttled);
    // Without the edge's IP only the viewer limit applies.
    assert_eq!(likes(C, "shadow", "s2", 105_000).0, 200);
    // A window later both have room again.
    assert_eq!(like_ip(A, "s2", 161).0, 200);
    assert_eq!(
        crate::state::audit::check_against_log(),
        Ok(state::with(|s| s.event_count()))
    );
}

#[test]
fn received_likes_newest_first_with_the_likers_profiles() {
    fresh(vec![
        profile("shadow-a", 0, Some(B)),
        profile("a-one", 0, Some(A)),
        profile("a-two", 0, Some(A)),
    ]);
    let get = |q: &str| {
        answer(received(&ApiRequest::new(
            "GET",
            &format!("/api/likes/received{q}"),
            vec![],
            vec![],
        )))
    };
    assert_eq!(get(""), (400, json!({"error": "Invalid viewer address"})));
    assert_eq!(
        get("?viewer=0x1"),
        (400, json!({"error": "Invalid viewer address"}))
    );
    likes(C, "user", &B.to_uppercase().replace("0X", "0x"), 5);
    likes(A, "shadow", "shadow-a", 9);
    let (status, body) = get(&format!("?viewer={}", B.to_uppercase().replace("0X", "0x")));
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"likes": [
            {"likerAddress": A, "displayName": "name-a-one",
             "avatarUrl": format!("https://api.dicebear.com/9.x/adventurer/svg?seed={A}"), "likedAt": 9},
            {"likerAddress": A, "displayName": "name-a-two",
             "avatarUrl": format!("https://api.dicebear.com/9.x/adventurer/svg?seed={A}"), "likedAt": 9},
            {"likerAddress": C, "displayName": "Anonymous",
             "avatarUrl": format!("https://api.dicebear.com/9.x/adventurer/svg?seed={C}"), "likedAt": 5},
        ]})
    );
}

#[test]
fn candidates_skip_liked_own_and_liked_owners_and_stop_at_five() {
    let mut profiles: Vec<ShadowProfile> = (1..=25)
        .map(|i| profile(&format!("p{i:02}"), i, None))
        .collect();
    profiles.push(profile("unfeatured", 0, None));
    profiles[0].claimed_address = Some(A.into()); // the viewer's own
    profiles[2].claimed_address = Some(B.into()); // owned by someone the viewer liked
    profiles[3].anime_cid = Some("bafyanime".into());
    profiles[3].display_name = Some(String::new());
    fresh(profiles);
    likes(A, "shadow", "p02", 1);
    likes(A, "user", &B.to_uppercase().replace("0X", "0x"), 2);
    let req = |q: &str| ApiRequest::new("GET", &format!("/api/candidates{q}"), vec![], vec![]);
    assert_eq!(
        answer(candidates(&req("?viewer=nope"), at(5))),
        (400, json!({"error": "Invalid viewer address"}))
    );
    let (status, body) = answer(candidates(&req(&format!("?viewer={A}")), at(5_000)));
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["targetId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p04", "p05", "p06", "p07", "p08"]);
    assert_eq!(
        body["candidates"][0],
        json!({"targetType": "shadow", "targetId": "p04", "displayName": "Anonymous", "bio": null,
               "ageBucket": null, "genderIdentity": null, "location": null,
               "avatarUrl": "https://ipfs.io/ipfs/bafyanime", "claimedAddress": null})
    );
    assert_eq!(
        body["meta"],
        json!({"candidateSetRoot": format!("0x{}", "0".repeat(64)), "nonce": 5_000,
               "expiry": 5_000 + 86_400_000, "maxLikes": 5})
    );
    // Only the top 20 ranks are considered: a viewer who liked 18 of them sees 2.
    for i in 4..=19 {
        likes(A, "shadow", &format!("p{i:02}"), 10 + i as u64);
    }
    let (_, body) = answer(candidates(&req(&format!("?viewer={A}")), at(6_000)));
    let ids: Vec<&str> = body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["targetId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p20"]);
}
