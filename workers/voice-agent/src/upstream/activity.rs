//! Listening activity from the music-social subgraph (`SUBGRAPH_URL`): the latest five
//! scrobbles and all-time stats, summarised in at most two lines for the prompt.

use serde_json::{Value, json};

const RECENT_LIMIT: usize = 5;

const RECENT_SCROBBLES_QUERY: &str = "
query UserRecentScrobbles($user: Bytes!, $limit: Int!) {
  scrobbles(
    where: { user: $user }
    orderBy: timestamp
    orderDirection: desc
    first: $limit
  ) {
    timestamp
    track {
      artist
      title
      album
    }
  }
}";

const LISTENING_STATS_QUERY: &str = "
query UserListeningStats($userId: ID!) {
  userListeningStats(id: $userId) {
    totalScrobbles
    lastScrobbleAt
    topArtist
    topArtistScrobbleCount
  }
}";

/// Subgraph client; without a URL every answer is "no activity".
#[derive(Clone, Debug)]
pub struct ActivityClient {
    http: reqwest::Client,
    url: Option<String>,
}

impl ActivityClient {
    /// A client for `url`.
    pub fn new(http: reqwest::Client, url: Option<String>) -> Self {
        Self { http, url }
    }

    async fn query(&self, query: &str, variables: Value) -> Option<Value> {
        let url = self.url.as_deref()?;
        let response = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .body(json!({ "query": query, "variables": variables }).to_string())
            .timeout(std::time::Duration::from_secs(15))
            .send()
            .await
            .inspect_err(|err| tracing::warn!(error = %err, "subgraph call failed"))
            .ok()?;
        if !response.status().is_success() {
            tracing::warn!(status = %response.status(), "subgraph refused");
            return None;
        }
        let body: Value = response.json().await.ok()?;
        if body
            .get("errors")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty())
        {
            return None;
        }
        body.get("data").cloned()
    }

    /// The activity summary of `wallet` at `now_secs`, or `None` when there is nothing.
    pub async fn context(&self, wallet: &str, now_secs: i64) -> Option<String> {
        let user = wallet.to_lowercase();
        let (recent, stats) = tokio::join!(
            self.query(
                RECENT_SCROBBLES_QUERY,
                json!({ "user": user, "limit": RECENT_LIMIT })
            ),
            self.query(LISTENING_STATS_QUERY, json!({ "userId": user })),
        );
        let recent = recent
            .and_then(|d| d.get("scrobbles").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        let stats = stats
            .and_then(|d| d.get("userListeningStats").cloned())
            .filter(|s| !s.is_null());
        summarize(&recent, stats.as_ref(), now_secs)
    }
}

/// The two-line summary of scrobbles and stats (pure, for tests).
pub fn summarize(recent: &[Value], stats: Option<&Value>, now_secs: i64) -> Option<String> {
    let listens: Vec<String> = recent
        .iter()
        .filter_map(|row| {
            let ts = row
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(parse_timestamp)?;
            let track = row.get("track")?;
            let artist = track.get("artist").and_then(Value::as_str)?.trim();
            let title = track.get("title").and_then(Value::as_str)?.trim();
            if artist.is_empty() || title.is_empty() {
                return None;
            }
            Some(format!(
                "{artist} - {title} ({}; {})",
                relative_time(ts, now_secs),
                format_utc(ts)
            ))
        })
        .take(RECENT_LIMIT)
        .collect();
    let mut lines = Vec::new();
    if !listens.is_empty() {
        lines.push(format!(
            "Recent listens (latest {RECENT_LIMIT}): {}.",
            listens.join("; ")
        ));
    }
    if let Some(stats) = stats {
        let text = |key: &str| stats.get(key).and_then(Value::as_str).unwrap_or("");
        let top = Some(text("topArtist").trim())
            .filter(|s| !s.is_empty())
            .unwrap_or("Unknown Artist");
        let last = parse_timestamp(text("lastScrobbleAt"))
            .map(|ts| {
                format!(
                    " Last scrobble: {} ({}).",
                    relative_time(ts, now_secs),
                    format_utc(ts)
                )
            })
            .unwrap_or_default();
        lines.push(format!(
            "All-time listening: {} scrobbles. #1 artist: {top} ({} scrobbles).{last}",
            format_count(text("totalScrobbles")),
            format_count(text("topArtistScrobbleCount")),
        ));
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// `parseInt(value, 10)` when it is a positive integer.
fn parse_timestamp(value: &str) -> Option<i64> {
    leading_integer(value).filter(|&n| n > 0)
}

/// The integer at the start of `value` (after whitespace, with an optional sign), as
/// `parseInt` reads it.
fn leading_integer(value: &str) -> Option<i64> {
    let trimmed = value.trim_start();
    let (sign, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

/// "just now", "Nmin ago", "Nh ago", "yesterday", "N days ago", "Nw ago".
fn relative_time(ts: i64, now: i64) -> String {
    let diff = (now - ts).max(0);
    if diff < 60 {
        return "just now".into();
    }
    if diff < 3600 {
        return format!("{}min ago", diff / 60);
    }
    if diff < 86400 {
        return format!("{}h ago", diff / 3600);
    }
    let days = diff / 86400;
    match days {
        1 => "yesterday".into(),
        2..=6 => format!("{days} days ago"),
        _ => format!("{}w ago", days / 7),
    }
}

/// ISO-8601 UTC without milliseconds, e.g. `2025-01-31T12:00:00Z`.
fn format_utc(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// en-US thousands separators, or the raw text when it has no leading integer.
fn format_count(value: &str) -> String {
    let Some(n) = leading_integer(value) else {
        return value.to_owned();
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn summary_lines() {
        let recent = vec![
            json!({"timestamp": (NOW - 30).to_string(), "track": {"artist": " Björk ", "title": "Jóga", "album": null}}),
            json!({"timestamp": (NOW - 7200).to_string(), "track": {"artist": "Low", "title": "Words"}}),
            json!({"timestamp": "0", "track": {"artist": "X", "title": "Y"}}),
            json!({"timestamp": (NOW - 86400 * 15).to_string(), "track": null}),
        ];
        let stats = json!({"totalScrobbles": "1234567", "lastScrobbleAt": (NOW - 86400).to_string(), "topArtist": "", "topArtistScrobbleCount": "42"});
        assert_eq!(
            summarize(&recent, Some(&stats), NOW).unwrap(),
            "Recent listens (latest 5): Björk - Jóga (just now; 2023-11-14T22:12:50Z); Low - Words (2h ago; 2023-11-14T20:13:20Z).\nAll-time listening: 1,234,567 scrobbles. #1 artist: Unknown Artist (42 scrobbles). Last scrobble: yesterday (2023-11-13T22:13:20Z)."
        );
        assert_eq!(summarize(&[], None, NOW), None);
    }

    #[test]
    fn relative_times() {
        assert_eq!(relative_time(NOW - 59, NOW), "just now");
        assert_eq!(relative_time(NOW - 61, NOW), "1min ago");
        assert_eq!(relative_time(NOW - 3 * 86400, NOW), "3 days ago");
        assert_eq!(relative_time(NOW - 15 * 86400, NOW), "2w ago");
        assert_eq!(format_count("abc"), "abc");
        assert_eq!(format_count("999"), "999");
        assert_eq!(format_count("1000"), "1,000");
    }
}
