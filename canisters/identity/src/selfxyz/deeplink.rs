//! The Self.xyz universal link the session route returns: `https://redirect.self.xyz?selfApp=`
//! and the `selfApp` JSON (keys in the original's order) serialised as WHATWG
//! `URLSearchParams` does (`application/x-www-form-urlencoded`: space is `+`).

use serde::Serialize;

use crate::state::SelfConfig;

const UNIVERSAL_LINK_BASE: &str = "https://redirect.self.xyz";

#[derive(Serialize)]
struct Disclosures<'a> {
    date_of_birth: bool,
    nationality: bool,
    #[serde(rename = "minimumAge")]
    minimum_age: u32,
    /// Only with the proof verifier on (the original's JSON otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    ofac: Option<bool>,
    #[serde(rename = "excludedCountries", skip_serializing_if = "Option::is_none")]
    excluded_countries: Option<&'a [String]>,
}

/// The `selfApp` object, fields in the original's key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SelfApp<'a> {
    app_name: &'a str,
    logo_base64: &'a str,
    endpoint_type: &'a str,
    endpoint: &'a str,
    deeplink_callback: String,
    header: &'a str,
    scope: &'a str,
    session_id: &'a str,
    user_id: &'a str,
    user_id_type: &'a str,
    dev_mode: bool,
    disclosures: Disclosures<'a>,
    version: u32,
    #[serde(rename = "chainID")]
    chain_id: u64,
    user_defined_data: &'a str,
}

/// The original's disclosures (nationality, at least 18); with the proof verifier on (outside
/// mock mode) also the date of birth the canister records, the verifier's minimum age, OFAC
/// and excluded countries, so the app builds the proof the verifier expects.
fn disclosures(config: &SelfConfig) -> Disclosures<'_> {
    match config.verifier.as_ref().filter(|_| !config.mock) {
        None => Disclosures {
            date_of_birth: false,
            nationality: true,
            minimum_age: 18,
            ofac: None,
            excluded_countries: None,
        },
        Some(v) => Disclosures {
            date_of_birth: true,
            nationality: true,
            minimum_age: v.minimum_age.unwrap_or(18),
            ofac: Some(v.ofac),
            excluded_countries: Some(&v.excluded_countries),
        },
    }
}

/// The `selfApp` JSON for `session_id` of `user_address`, whose webhook is `endpoint`.
pub fn self_app_json(
    config: &SelfConfig,
    session_id: &str,
    user_address: &str,
    endpoint: &str,
) -> String {
    let app = SelfApp {
        app_name: &config.app_display_name,
        logo_base64: "",
        endpoint_type: if config.mock {
            "staging_https"
        } else {
            "https"
        },
        endpoint,
        deeplink_callback: format!(
            "{}://self/callback?sessionId={session_id}",
            config.deeplink_scheme
        ),
        header: "Verify with Self",
        scope: &config.scope,
        session_id,
        user_id: user_address,
        user_id_type: "hex",
        dev_mode: config.mock,
        disclosures: disclosures(config),
        version: 2,
        chain_id: if config.mock { 11_142_220 } else { 42_220 },
        user_defined_data: session_id,
    };
    serde_json::to_string(&app).expect("the selfApp object serializes")
}

/// The universal link for `session_id`.
pub fn deeplink_url(
    config: &SelfConfig,
    session_id: &str,
    user_address: &str,
    endpoint: &str,
) -> String {
    let json = self_app_json(config, session_id, user_address, endpoint);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("selfApp", &json)
        .finish();
    format!("{UNIVERSAL_LINK_BASE}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_and_url_search_params_encoding() {
        let config = SelfConfig {
            mock: true,
            ..SelfConfig::default()
        };
        let json = self_app_json(
            &config,
            "ab",
            "0x01",
            "http://127.0.0.1:8787/api/self/verify",
        );
        assert_eq!(
            json,
            r#"{"appName":"App","logoBase64":"","endpointType":"staging_https","endpoint":"http://127.0.0.1:8787/api/self/verify","deeplinkCallback":"heaven://self/callback?sessionId=ab","header":"Verify with Self","scope":"heaven","sessionId":"ab","userId":"0x01","userIdType":"hex","devMode":true,"disclosures":{"date_of_birth":false,"nationality":true,"minimumAge":18},"version":2,"chainID":11142220,"userDefinedData":"ab"}"#
        );
        // Produced by `new URLSearchParams({selfApp: json}).toString()` (Node 22).
        let url = deeplink_url(
            &config,
            "ab",
            "0x01",
            "http://127.0.0.1:8787/api/self/verify",
        );
        assert_eq!(
            url,
            "https://redirect.self.xyz?selfApp=%7B%22appName%22%3A%22App%22%2C%22logoBase64%22%3A%22%22%2C%22endpointType%22%3A%22staging_https%22%2C%22endpoint%22%3A%22http%3A%2F%2F127.0.0.1%3A8787%2Fapi%2Fself%2Fverify%22%2C%22deeplinkCallback%22%3A%22heaven%3A%2F%2Fself%2Fcallback%3FsessionId%3Dab%22%2C%22header%22%3A%22Verify+with+Self%22%2C%22scope%22%3A%22heaven%22%2C%22sessionId%22%3A%22ab%22%2C%22userId%22%3A%220x01%22%2C%22userIdType%22%3A%22hex%22%2C%22devMode%22%3Atrue%2C%22disclosures%22%3A%7B%22date_of_birth%22%3Afalse%2C%22nationality%22%3Atrue%2C%22minimumAge%22%3A18%7D%2C%22version%22%3A2%2C%22chainID%22%3A11142220%2C%22userDefinedData%22%3A%22ab%22%7D"
        );
        let production = deeplink_url(
            &SelfConfig::default(),
            "ab",
            "0x01",
            "https://x/api/self/verify",
        );
        assert!(production.contains("%22endpointType%22%3A%22https%22"));
        assert!(production.contains("%22chainID%22%3A42220"));
        assert!(production.contains("%22devMode%22%3Afalse"));
        assert!(production.contains("%22date_of_birth%22%3Afalse"));
        // With the verifier on, the app is asked for what the verifier checks and records.
        let verifying = SelfConfig {
            verifier: crate::selfxyz::settings::from_env(|name| match name {
                "SELF_SCOPE_SIGNAL" => Some("1".into()),
                "SELF_EXCLUDED_COUNTRIES" => Some("PRK,IRN".into()),
                "SELF_OFAC" => Some("true".into()),
                _ => None,
            }),
            ..SelfConfig::default()
        };
        let json = self_app_json(&verifying, "ab", "0x01", "https://x/api/self/verify");
        assert!(json.contains(r#""disclosures":{"date_of_birth":true,"nationality":true,"minimumAge":18,"ofac":true,"excludedCountries":["PRK","IRN"]}"#), "{json}");
    }
}
