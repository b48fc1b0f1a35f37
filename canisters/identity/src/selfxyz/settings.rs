//! The verifier settings ([`SelfVerifierConfig`]): the checks a controller's `set_self_config`
//! makes, and the local stack's variables.

use heaven_eth::Address;

use super::disclose;
use crate::state::SelfVerifierConfig;

/// Self's IdentityVerificationHub V2 on Celo mainnet (`@selfxyz/core`'s default).
pub const CELO_HUB: &str = "0xe57F4773bd9c9d8b6Cd70431117d353298B9f5BF";
/// Celo mainnet's public RPC endpoint (`@selfxyz/core`'s default).
pub const CELO_RPC_URL: &str = "https://forno.celo.org";
/// Self's default proof age window.
pub const DEFAULT_MAX_PROOF_AGE_SECONDS: u64 = 86_400;
/// Self's limit on excluded countries.
const MAX_EXCLUDED_COUNTRIES: usize = 40;

/// Checks `config`; `Err((field, reason))`.
pub fn validate(config: &SelfVerifierConfig) -> Result<(), (&'static str, &'static str)> {
    if !config.rpc_url.starts_with("https://") && !config.rpc_url.starts_with("http://") {
        return Err(("verifier.rpc_url", "must be an http(s) URL"));
    }
    match config.hub.parse::<Address>() {
        Ok(hub) if hub != Address::ZERO => {}
        _ => return Err(("verifier.hub", "must be a non-zero address")),
    }
    if disclose::parse_signal(&config.scope_signal).is_none() {
        return Err(("verifier.scope_signal", "must be a number below 2^256"));
    }
    if config.allowed_attestation_ids.is_empty()
        || config
            .allowed_attestation_ids
            .iter()
            .any(|id| disclose::layout(*id).is_none())
    {
        return Err((
            "verifier.allowed_attestation_ids",
            "must be 1 (passport) and/or 2 (biometric ID card)",
        ));
    }
    if config.minimum_age.is_some_and(|a| !(1..=99).contains(&a)) {
        return Err(("verifier.minimum_age", "must be 1-99"));
    }
    if config.excluded_countries.len() > MAX_EXCLUDED_COUNTRIES
        || !config
            .excluded_countries
            .iter()
            .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err((
            "verifier.excluded_countries",
            "must be at most 40 upper-case alpha-3 codes",
        ));
    }
    if config.max_proof_age_seconds == 0 || config.max_proof_age_seconds > 30 * 86_400 {
        return Err(("verifier.max_proof_age_seconds", "must be 1-2592000"));
    }
    Ok(())
}

/// The verifier settings of the local stack: `SELF_SCOPE_SIGNAL` turns verification on, with
/// `SELF_CELO_RPC_URL` / `SELF_HUB_ADDRESS` (default Celo mainnet's), `SELF_ALLOWED_IDS`
/// (`1,2`), `SELF_MINIMUM_AGE` (18; `0` = unchecked), `SELF_EXCLUDED_COUNTRIES` (comma list),
/// `SELF_OFAC` (`true`) and `SELF_MAX_PROOF_AGE_SECONDS` (86400). Unreadable numbers keep
/// their defaults; `validate` judges the rest.
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Option<SelfVerifierConfig> {
    let scope_signal = var("SELF_SCOPE_SIGNAL")?.trim().to_string();
    let list = |name: &str| -> Vec<String> {
        var(name)
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let allowed: Vec<u8> = match list("SELF_ALLOWED_IDS") {
        ids if ids.is_empty() => vec![1, 2],
        ids => ids.iter().filter_map(|id| id.parse().ok()).collect(),
    };
    let minimum_age = var("SELF_MINIMUM_AGE")
        .and_then(|a| a.trim().parse::<u32>().ok())
        .unwrap_or(18);
    Some(SelfVerifierConfig {
        rpc_url: var("SELF_CELO_RPC_URL").unwrap_or_else(|| CELO_RPC_URL.into()),
        hub: var("SELF_HUB_ADDRESS").unwrap_or_else(|| CELO_HUB.into()),
        scope_signal,
        allowed_attestation_ids: allowed,
        minimum_age: (minimum_age > 0).then_some(minimum_age),
        excluded_countries: list("SELF_EXCLUDED_COUNTRIES")
            .into_iter()
            .map(|c| c.to_uppercase())
            .collect(),
        ofac: var("SELF_OFAC").as_deref() == Some("true"),
        max_proof_age_seconds: var("SELF_MAX_PROOF_AGE_SECONDS")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(DEFAULT_MAX_PROOF_AGE_SECONDS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> SelfVerifierConfig {
        from_env(|name| (name == "SELF_SCOPE_SIGNAL").then(|| "123".to_string())).unwrap()
    }

    #[test]
    fn defaults_are_celo_mainnet_and_pass() {
        let c = good();
        assert_eq!(c.hub, CELO_HUB);
        assert_eq!(c.allowed_attestation_ids, vec![1, 2]);
        assert_eq!(c.minimum_age, Some(18));
        assert_eq!(validate(&c), Ok(()));
        assert_eq!(from_env(|_| None), None);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let field = |change: fn(&mut SelfVerifierConfig)| {
            let mut c = good();
            change(&mut c);
            validate(&c).unwrap_err().0
        };
        assert_eq!(field(|c| c.rpc_url = "ftp://x".into()), "verifier.rpc_url");
        assert_eq!(field(|c| c.hub = "0x00".into()), "verifier.hub");
        assert_eq!(
            field(|c| c.scope_signal = "x".into()),
            "verifier.scope_signal"
        );
        assert_eq!(
            field(|c| c.allowed_attestation_ids = vec![3]),
            "verifier.allowed_attestation_ids"
        );
        assert_eq!(field(|c| c.minimum_age = Some(0)), "verifier.minimum_age");
        assert_eq!(
            field(|c| c.excluded_countries = vec!["fr".into()]),
            "verifier.excluded_countries"
        );
        assert_eq!(
            field(|c| c.max_proof_age_seconds = 0),
            "verifier.max_proof_age_seconds"
        );
    }
}
