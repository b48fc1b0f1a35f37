//! A segment's rights metadata as the original normalised it (§4.1): `kind` original or
//! derivative, source ids and strings cut to 256 characters, signatures to 2048, basis points
//! clamped to 0..=10000, invalid entries dropped. Anything else is no rights at all.

use serde_json::{Map, Value};

use super::room::is_address;

fn cut(text: &str, max: usize) -> String {
    // JavaScript's `slice` counts UTF-16 units; characters are close enough for ids.
    text.chars().take(max).collect()
}

/// The stored rights of `input`, or `None` when it is not rights.
pub fn normalize(input: &Value) -> Option<Value> {
    let kind = input.get("kind")?.as_str()?;
    if kind != "original" && kind != "derivative" {
        return None;
    }
    let mut out = Map::new();
    out.insert("kind".into(), kind.into());
    if let Some(ids) = input.get("source_story_ip_ids").and_then(Value::as_array)
        && ids.iter().all(Value::is_string)
    {
        let ids: Vec<Value> = ids
            .iter()
            .filter_map(Value::as_str)
            .map(|s| Value::from(cut(s, 256)))
            .collect();
        out.insert("source_story_ip_ids".into(), ids.into());
    }
    if let Some(bps) = input
        .get("upstream_bps")
        .and_then(Value::as_f64)
        .filter(|f| f.is_finite())
    {
        out.insert(
            "upstream_bps".into(),
            (bps.floor().clamp(0.0, 10_000.0) as i64).into(),
        );
    }
    if let Some(payout) = input
        .get("upstream_payout")
        .and_then(Value::as_str)
        .filter(|p| is_address(p))
    {
        out.insert("upstream_payout".into(), payout.to_lowercase().into());
    }
    if let Some(list) = input.get("attestations").and_then(Value::as_array) {
        let kept: Vec<Value> = list
            .iter()
            .filter_map(|a| {
                let source = a.get("source_ip_id")?.as_str()?;
                let payout = a.get("payout")?.as_str().filter(|p| is_address(p))?;
                let sig = a.get("sig")?.as_str()?;
                Some(serde_json::json!({
                    "source_ip_id": cut(source, 256),
                    "payout": payout.to_lowercase(),
                    "sig": cut(sig, 2048),
                }))
            })
            .collect();
        if !kept.is_empty() {
            out.insert("attestations".into(), kept.into());
        }
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rights_are_cut_clamped_and_filtered() {
        assert_eq!(normalize(&json!({"kind": "remix"})), None);
        assert_eq!(normalize(&json!("x")), None);
        let payout = "0xABCDEFabcdefABCDEFabcdefABCDEFabcdefABCD";
        let r = normalize(&json!({
            "kind": "derivative",
            "source_story_ip_ids": ["a".repeat(300)],
            "upstream_bps": 12000.7,
            "upstream_payout": payout,
            "attestations": [
                {"source_ip_id": "ip", "payout": payout, "sig": "s"},
                {"source_ip_id": "ip", "payout": "nope", "sig": "s"}
            ]
        }))
        .unwrap();
        assert_eq!(r["source_story_ip_ids"][0].as_str().unwrap().len(), 256);
        assert_eq!(r["upstream_bps"], 10000);
        assert_eq!(r["upstream_payout"], payout.to_lowercase());
        assert_eq!(r["attestations"].as_array().unwrap().len(), 1);
    }
}
