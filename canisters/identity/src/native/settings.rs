//! The local stack's settings of the native identity canister: the original api-core's
//! environment variables, read with its parse rules, standing for what controllers set on
//! the IC.

use crate::state::publishing::{EasConfig, StoryConfig, TempoPublishingConfig};
use crate::state::{
    LikesConfig, NamesPolicyConfig, PublishingConfig, SecretKind, SelfConfig, WalletRelayConfig,
};

/// What the local stack configures from its environment: the parts of the canister's
/// configuration and secrets a controller would set on the IC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeSettings {
    /// `ENVIRONMENT == "development"`: guarded routes are open while their secret is unset.
    pub development: bool,
    /// Names policy (Tempo) settings.
    pub names_policy: NamesPolicyConfig,
    /// Wallet relay (Base Sepolia) settings.
    pub wallet: WalletRelayConfig,
    /// Route secrets; `edge_key` is the key the local edge presents with the client IP.
    pub secrets: RouteSecrets,
    /// Self.xyz settings (`SELF_MOCK_PASSPORT`, `APP_SCOPE`, ...).
    pub self_verification: SelfConfig,
    /// Like rate limits (`LIKES_WINDOW_SECONDS`, `LIKES_PER_VIEWER`, `LIKES_PER_IP`).
    pub likes: LikesConfig,
    /// The publishing signer (`TEMPO_FINALIZE_ENABLED`, `TEMPO_SCROBBLE_V4`, ...,
    /// `EAS_ATTEST_ENABLED`).
    pub publishing: PublishingConfig,
}

/// The route secrets as the local stack reads them (plain text, from its environment); the
/// canister keeps only their SHA-256.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteSecrets {
    /// `CLAIM_START_SECRET`.
    pub claim_start: Option<String>,
    /// `DNS_SHARED_SECRET`.
    pub dns_shared: Option<String>,
    /// The key the local edge presents with the client IP (set by the caller, never read).
    pub edge_key: Option<String>,
}

impl RouteSecrets {
    /// The value of `kind`, if set (an empty value is unset).
    pub fn value(&self, kind: SecretKind) -> Option<&str> {
        match kind {
            SecretKind::ClaimStart => self.claim_start.as_deref(),
            SecretKind::DnsShared => self.dns_shared.as_deref(),
            SecretKind::EdgeKey => self.edge_key.as_deref(),
        }
        .filter(|v| !v.is_empty())
    }
}

impl Default for NativeSettings {
    fn default() -> Self {
        Self {
            development: true,
            names_policy: NamesPolicyConfig::default(),
            wallet: WalletRelayConfig::default(),
            secrets: RouteSecrets::default(),
            self_verification: SelfConfig {
                mock: true,
                ..SelfConfig::default()
            },
            likes: LikesConfig::default(),
            publishing: PublishingConfig::default(),
        }
    }
}

impl NativeSettings {
    /// Reads the original api-core's variables through `get` with its parse rules: an empty
    /// variable is unset, text values are trimmed, integers out of range or not integers fall
    /// back to their defaults, `NAMES_PRIMARY_NODE` / `NAMES_SECONDARY_NODE` fall back to
    /// `TEMPO_HEAVEN_NODE` / `TEMPO_PIRATE_NODE`. No edge key is read: the caller sets it.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| get(name).filter(|v| !v.is_empty());
        let text = |name: &str, default: &str| {
            var(name)
                .unwrap_or_else(|| default.to_string())
                .trim()
                .to_string()
        };
        let optional_text = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let int = |name: &str, default: u64, min: u64, max: u64| {
            parse_int_env(var(name).as_deref(), default, min, max)
        };
        let node = |name: &str, fallback: &str, default: &str| {
            var(name)
                .or_else(|| var(fallback))
                .unwrap_or_else(|| default.to_string())
                .trim()
                .to_lowercase()
        };
        let d = NamesPolicyConfig::default();
        let names_policy = NamesPolicyConfig {
            rpc_url: text("TEMPO_RPC_URL", &d.rpc_url),
            chain_id: int("TEMPO_CHAIN_ID", d.chain_id, 1, 100_000_000),
            registry: text("TEMPO_NAME_REGISTRY_V2", &d.registry),
            store: optional_text("TEMPO_PREMIUM_NAME_STORE_V2"),
            primary_node: node("NAMES_PRIMARY_NODE", "TEMPO_HEAVEN_NODE", &d.primary_node),
            secondary_node: node(
                "NAMES_SECONDARY_NODE",
                "TEMPO_PIRATE_NODE",
                &d.secondary_node,
            ),
            expected_signer: optional_text("TEMPO_POLICY_SIGNER_ADDRESS"),
            pow_difficulty: small(int(
                "NAMES_POW_DIFFICULTY_HEX",
                d.pow_difficulty.into(),
                1,
                12,
            )),
            pow_ttl_seconds: int("NAMES_POW_TTL_SECONDS", d.pow_ttl_seconds, 30, 3600),
            permit_ttl_seconds: int("NAMES_PERMIT_TTL_SECONDS", d.permit_ttl_seconds, 30, 3600),
            wallet_limit_10m: small(int(
                "NAMES_LONG_WALLET_LIMIT_10M",
                d.wallet_limit_10m.into(),
                1,
                300,
            )),
            ip_limit_10m: small(int(
                "NAMES_LONG_IP_LIMIT_10M",
                d.ip_limit_10m.into(),
                1,
                1000,
            )),
            device_limit_10m: small(int(
                "NAMES_LONG_DEVICE_LIMIT_10M",
                d.device_limit_10m.into(),
                1,
                500,
            )),
        };
        let w = WalletRelayConfig::default();
        let wallet = WalletRelayConfig {
            rpc_url: text("BASE_SEPOLIA_RPC", &w.rpc_url),
            enabled: var("WALLET_RELAY_ENABLED").as_deref() == Some("true"),
            ..w
        };
        let development = var("ENVIRONMENT").as_deref().unwrap_or("development") == "development";
        let sd = SelfConfig::default();
        let self_verification = SelfConfig {
            // The original: `SELF_MOCK_PASSPORT === 'true' || ENVIRONMENT === 'development'`.
            mock: var("SELF_MOCK_PASSPORT").as_deref() == Some("true") || development,
            scope: var("APP_SCOPE")
                .or_else(|| var("SELF_SCOPE"))
                .unwrap_or(sd.scope)
                .trim()
                .to_string(),
            app_display_name: optional_text("APP_DISPLAY_NAME").unwrap_or(sd.app_display_name),
            deeplink_scheme: text("APP_DEEPLINK_SCHEME", &sd.deeplink_scheme),
            nullifier_namespace: text("APP_NULLIFIER_NAMESPACE", &sd.nullifier_namespace),
            endpoint: optional_text("SELF_ENDPOINT"),
            verifier: crate::selfxyz::settings::from_env(optional_text),
        };
        let ld = LikesConfig::default();
        let likes = LikesConfig {
            window_seconds: int("LIKES_WINDOW_SECONDS", ld.window_seconds, 1, 86_400),
            per_viewer: small(int("LIKES_PER_VIEWER", ld.per_viewer.into(), 1, 100_000)),
            per_ip: small(int("LIKES_PER_IP", ld.per_ip.into(), 1, 1_000_000)),
        };
        let td = TempoPublishingConfig::default();
        let tempo = TempoPublishingConfig {
            enabled: var("TEMPO_FINALIZE_ENABLED").as_deref() == Some("true"),
            rpc_url: names_policy.rpc_url.clone(),
            chain_id: names_policy.chain_id,
            scrobble_v4: text("TEMPO_SCROBBLE_V4", &td.scrobble_v4),
            content_registry: text("TEMPO_CONTENT_REGISTRY", &td.content_registry),
            tx_wait_timeout_secs: int("TEMPO_TX_WAIT_TIMEOUT_MS", 45_000, 1_000, 300_000) / 1000,
            ..td
        };
        let eas = EasConfig {
            enabled: var("EAS_ATTEST_ENABLED").as_deref() == Some("true"),
            rpc_url: wallet.rpc_url.clone(),
            ..EasConfig::default()
        };
        let sd = StoryConfig::default();
        let story = StoryConfig {
            enabled: var("STORY_REGISTER_ENABLED").as_deref() == Some("true"),
            rpc_url: text("STORY_RPC_URL", &sd.rpc_url),
            chain_id: int("STORY_CHAIN_ID", sd.chain_id, 1, 100_000_000),
            spg_nft: text("STORY_SPG_NFT_CONTRACT", &sd.spg_nft),
            license_attachment_workflows: text(
                "STORY_LICENSE_ATTACHMENT_WORKFLOWS",
                &sd.license_attachment_workflows,
            ),
            derivative_workflows: text("STORY_DERIVATIVE_WORKFLOWS", &sd.derivative_workflows),
            ip_asset_registry: text("STORY_IP_ASSET_REGISTRY", &sd.ip_asset_registry),
            license_registry: text("STORY_LICENSE_REGISTRY", &sd.license_registry),
            royalty_policy_lap: text("STORY_ROYALTY_POLICY_LAP", &sd.royalty_policy_lap),
            wip_token: text("STORY_WIP_TOKEN", &sd.wip_token),
            ..sd
        };
        let publishing = PublishingConfig {
            publishers: Vec::new(),
            tempo,
            eas,
            story,
        };
        Self {
            development,
            publishing,
            self_verification,
            likes,
            names_policy,
            wallet,
            secrets: RouteSecrets {
                claim_start: var("CLAIM_START_SECRET"),
                dns_shared: var("DNS_SHARED_SECRET"),
                edge_key: None,
            },
        }
    }
}

/// A value already range-checked to fit (the ranges above are all below `u32::MAX`).
fn small(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The original's `parseIntEnv`: `Number(raw)` must be an integer within `min..=max`, else
/// `fallback` (as is an unset variable).
pub(super) fn parse_int_env(raw: Option<&str>, fallback: u64, min: u64, max: u64) -> u64 {
    match raw.and_then(js_integer) {
        Some(n) if n >= i128::from(min) && n <= i128::from(max) => n as u64,
        _ => fallback,
    }
}

/// JavaScript's `Number(text)` when it is an integer: surrounding whitespace ignored, blank is
/// 0, `0x`/`0o`/`0b` prefixes, decimals and exponents (`5.0`, `1e2`) accepted.
pub(super) fn js_integer(text: &str) -> Option<i128> {
    let t = text.trim();
    if t.is_empty() {
        return Some(0);
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => 10,
    };
    if radix != 10 {
        let digits = &t[2..];
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        return i128::from_str_radix(digits, radix).ok();
    }
    let looks_numeric = t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
    let f: f64 = t.parse().ok().filter(|_| looks_numeric)?;
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30).then_some(f as i128)
}
