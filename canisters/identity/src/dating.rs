//! api-core's dating directory: `POST /api/likes`, `GET /api/likes/received` and
//! `GET /api/candidates`. Likes are self-asserted (no signature) as in the original; the only
//! additions are sliding-window limits per viewer and per client IP ([`likes`]).

pub mod candidates;
pub mod likes;

use crate::primitives::Address;

/// `https://ipfs.io/ipfs/<cid>` when there is an anime CID, else the DiceBear avatar seeded
/// with `seed`.
pub fn avatar_url(anime_cid: Option<&str>, seed: &str) -> String {
    match anime_cid.filter(|c| !c.is_empty()) {
        Some(cid) => format!("https://ipfs.io/ipfs/{cid}"),
        None => format!("https://api.dicebear.com/9.x/adventurer/svg?seed={seed}"),
    }
}

/// The `viewer` query parameter: `0x` + 40 hex digits of any case (not trimmed), lowercased.
pub fn viewer_param(viewer: Option<&str>) -> Option<String> {
    let viewer = viewer?;
    is_address_any_case(viewer).then(|| viewer.to_lowercase())
}

/// `/^0x[a-f0-9]{40}$/i` (the `x` may be upper-case too).
pub fn is_address_any_case(text: &str) -> bool {
    text.len() == 42
        && text[..2].eq_ignore_ascii_case("0x")
        && Address::parse(&text.to_lowercase()).is_some()
}

#[cfg(test)]
mod tests;

/// Test helpers other modules' tests use.
#[cfg(test)]
pub mod tests_support {
    use crate::state;
    use crate::state::audit::process_event;
    use crate::state::event::EventType;
    use crate::time::Now;

    /// `address` likes a shadow profile `touch`, which updates its user row.
    pub fn touch_user(address: &str) {
        state::mutate(|s| {
            let event = EventType::LikeSubmitted {
                viewer: address.to_string(),
                target_type: "shadow".into(),
                target_id: "touch".into(),
                ip_hash: None,
                window_seconds: 60,
            };
            process_event(s, Now::from_secs(100), event)
        });
    }
}
