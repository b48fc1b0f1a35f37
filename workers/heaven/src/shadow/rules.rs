//! The versioned ignore rules of `heaven shadow replay` (`deploy/shadow/rules.json`).
//!
//! ```json
//! {"version": 1,
//!  "default": {"headers": ["content-type"], "ignore": []},
//!  "routes": [
//!    {"route": "/auth/nonce", "methods": ["POST"], "allow_unsafe": true,
//!     "ignore": ["/nonce", "/expires_at"]},
//!    {"route": "/api/music/publish/:jobId", "ignore": ["**/updatedAt"]}]}
//! ```
//!
//! - `route`: a path template; `:name` matches one segment, a final `*` the rest. The first rule
//!   whose route (and `methods`, when given) matches a request applies; requests no rule matches
//!   use `default` and are grouped by their path.
//! - `ignore`: JSON-pointer patterns removed from both bodies before comparing: `*` is any key
//!   or index at that level, `**` any depth (`**/id` is every `id` field anywhere).
//! - `headers`: response headers compared (case-insensitive names), added to the default's.
//! - `allow_unsafe`: replay this route's POST/PUT/PATCH/DELETE too (only for routes whose
//!   writes are harmless on both sides, such as issuing a login nonce).

use serde::Deserialize;

/// The rules file format version this build reads.
pub const VERSION: u32 = 1;

/// One route's rule.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// The path template (empty for the default rule).
    #[serde(default)]
    pub route: String,
    /// Methods it applies to (any when absent).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// JSON-pointer patterns ignored in bodies.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Response headers compared.
    #[serde(default)]
    pub headers: Vec<String>,
    /// Whether unsafe methods are replayed for this route.
    #[serde(default)]
    pub allow_unsafe: bool,
}

/// The whole rules file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// Applies to every request (its headers and ignores add to each route's).
    #[serde(default)]
    pub default: RouteRule,
    /// Per-route rules, first match wins.
    #[serde(default)]
    pub routes: Vec<RouteRule>,
}

impl Default for Rules {
    /// Compares `content-type` and everything in the body.
    fn default() -> Self {
        Self {
            version: VERSION,
            default: RouteRule {
                headers: vec!["content-type".into()],
                ..RouteRule::default()
            },
            routes: Vec::new(),
        }
    }
}

/// The rule that applies to a request, merged with the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The route template (the request's path when no rule matched).
    pub template: String,
    /// Ignore patterns, split into segments.
    pub ignore: Vec<Vec<String>>,
    /// Lower-case header names compared.
    pub headers: Vec<String>,
    /// Whether unsafe methods may be replayed.
    pub allow_unsafe: bool,
}

impl Rules {
    /// Parses and checks a rules file; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rules: Rules = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if rules.version != VERSION {
            return Err(format!(
                "version {} is not supported (this build reads version {VERSION})",
                rules.version
            ));
        }
        for (i, rule) in rules.routes.iter().enumerate() {
            if !rule.route.starts_with('/') {
                return Err(format!(
                    "routes[{i}].route {:?} must start with /",
                    rule.route
                ));
            }
            if let Some(p) = rule
                .ignore
                .iter()
                .chain(&rules.default.ignore)
                .find(|p| !p.starts_with('/') && !p.starts_with("**"))
            {
                return Err(format!(
                    "ignore pattern {p:?} must be a JSON pointer (start with / or **)"
                ));
            }
        }
        Ok(rules)
    }

    /// The rule for `method` on `path` (no query), merged with the default.
    pub fn apply(&self, method: &str, path: &str) -> Applied {
        let rule = self.routes.iter().find(|r| {
            route_matches(&r.route, path)
                && r.methods
                    .as_ref()
                    .is_none_or(|ms| ms.iter().any(|m| m.eq_ignore_ascii_case(method)))
        });
        let mut headers: Vec<String> = self
            .default
            .headers
            .iter()
            .chain(rule.map(|r| &r.headers).into_iter().flatten())
            .map(|h| h.to_ascii_lowercase())
            .collect();
        headers.sort();
        headers.dedup();
        Applied {
            template: rule.map_or_else(|| path.to_string(), |r| r.route.clone()),
            ignore: self
                .default
                .ignore
                .iter()
                .chain(rule.map(|r| &r.ignore).into_iter().flatten())
                .map(|p| split_pointer(p))
                .collect(),
            headers,
            allow_unsafe: rule.is_some_and(|r| r.allow_unsafe) || self.default.allow_unsafe,
        }
    }
}

/// Whether `template` (`/a/:id/*`) matches `path`.
pub fn route_matches(template: &str, path: &str) -> bool {
    let mut t = template.trim_start_matches('/').split('/');
    let mut p = path.trim_start_matches('/').split('/');
    loop {
        match (t.next(), p.next()) {
            (Some("*"), _) => return true,
            (Some(ts), Some(ps)) if ts.starts_with(':') && !ps.is_empty() => {}
            (Some(ts), Some(ps)) if ts == ps => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// `/a/*/b` → `["a", "*", "b"]`; `**/id` → `["**", "id"]`; `~1` and `~0` unescaped.
fn split_pointer(p: &str) -> Vec<String> {
    p.trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_segments_params_and_tails() {
        assert!(route_matches("/api/names/:label", "/api/names/alice"));
        assert!(!route_matches("/api/names/:label", "/api/names/"));
        assert!(!route_matches("/api/names/:label", "/api/names/a/b"));
        assert!(route_matches(
            "/api/music/*",
            "/api/music/publish/x/finalize"
        ));
        assert!(route_matches("/health", "/health"));
        assert!(!route_matches("/health", "/healthz"));
    }

    #[test]
    fn the_first_matching_rule_applies_merged_with_the_default() {
        let rules = Rules::parse(
            r#"{"version":1,
                "default":{"headers":["Content-Type"],"ignore":["**/requestId"]},
                "routes":[
                  {"route":"/auth/nonce","methods":["POST"],"allow_unsafe":true,"ignore":["/nonce"]},
                  {"route":"/auth/:step","headers":["retry-after"]}]}"#,
        )
        .unwrap();
        let nonce = rules.apply("POST", "/auth/nonce");
        assert_eq!(nonce.template, "/auth/nonce");
        assert!(nonce.allow_unsafe);
        assert_eq!(nonce.ignore, [vec!["**", "requestId"], vec!["nonce"]]);
        let get = rules.apply("GET", "/auth/nonce");
        assert_eq!(get.template, "/auth/:step");
        assert!(!get.allow_unsafe);
        assert_eq!(get.headers, ["content-type", "retry-after"]);
        assert_eq!(rules.apply("GET", "/x/1").template, "/x/1");
    }

    #[test]
    fn bad_rules_files_say_what_is_wrong() {
        assert!(
            Rules::parse(r#"{"version":2}"#)
                .unwrap_err()
                .contains("version 2")
        );
        assert!(
            Rules::parse(r#"{"version":1,"routes":[{"route":"api"}]}"#)
                .unwrap_err()
                .contains("must start with /")
        );
        assert!(
            Rules::parse(r#"{"version":1,"routes":[{"route":"/a","ignore":["id"]}]}"#)
                .unwrap_err()
                .contains("JSON pointer")
        );
        assert!(
            Rules::parse(r#"{"version":1,"routez":[]}"#)
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn the_checked_in_rules_file_parses() {
        let text = include_str!("../../../../deploy/shadow/rules.json");
        Rules::parse(text).unwrap();
    }
}
