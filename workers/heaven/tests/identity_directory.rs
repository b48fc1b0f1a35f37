//! api-core's Self, likes and candidates routes on the local stack (8787's service), over real
//! HTTP, and `heaven migrate identity-import` of a `wrangler d1 export` dump of the original
//! schema: every identity table, all or nothing, checked table by table.

mod common;

use std::path::Path;

use common::Heaven;
use serde_json::{Value, json};

const V: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const W: &str = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const X: &str = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";

fn dump_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/api-core-identity.sql")
}

fn serve_api(data: &Path, env: &[(&str, &str)]) -> (Heaven, String) {
    let stack = Heaven::start(&["serve", "api"], data, env, false);
    let api = stack.url("api");
    (stack, api)
}

async fn get(url: String) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_raw(url: String, body: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(url: String, body: Value) -> (u16, Value) {
    post_raw(url, &body.to_string()).await
}

fn import(data: &Path) -> (i32, String, String) {
    common::run_to_end(
        &["migrate", "identity-import", dump_path().to_str().unwrap()],
        data,
        &[],
    )
}

/// The `table rows dump-sha canister-sha mark` lines of an import's output.
fn table_lines(stdout: &str) -> Vec<(String, u64, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            (cols.len() == 5 && cols[2].len() == 64).then(|| {
                assert_eq!(cols[2], cols[3], "{line}");
                (
                    cols[0].to_owned(),
                    cols[1].parse().unwrap(),
                    cols[4].to_owned(),
                )
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dump_of_the_original_schema_imports_whole_and_serves_the_directory() {
    let data = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = import(data.path());
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let tables = table_lines(&stdout);
    let counts: Vec<(&str, u64)> = tables.iter().map(|(t, n, _)| (t.as_str(), *n)).collect();
    assert_eq!(
        counts,
        [
            ("users", 2),
            ("shadow_profiles", 3),
            ("claim_tokens", 2),
            ("likes", 3),
            ("matches", 1),
            ("self_verifications", 2),
            ("user_identity", 1),
            ("heaven_names", 1),
            ("heaven_reserved", 2),
            // One issuance row: its wallet, IP and device window entries.
            ("name_permit_issuance", 3),
        ]
    );
    assert!(tables.iter().all(|(_, _, mark)| mark == "ok"), "{stdout}");

    let (stack, api) = serve_api(data.path(), &[]);
    let (status, identity) = get(format!("{api}/api/self/identity/{V}")).await;
    assert_eq!(status, 200, "{identity}");
    assert_eq!(identity["dateOfBirth"], "1990-04-01");
    assert_eq!(identity["ageAtVerification"], 35);
    assert_eq!(identity["nationality"], "FRA");
    assert_eq!(identity["hasShortNameCredential"], true);
    let (status, session) = get(format!(
        "{api}/api/self/session/fedcba9876543210fedcba9876543210"
    ))
    .await;
    assert_eq!(
        (status, session),
        (
            200,
            json!({"status": "failed", "reason": "Must be 18 or older"})
        )
    );
    // The legacy name (owner from `pkp_address`) and the reserved labels.
    let (status, name) = get(format!("{api}/api/names/skyline")).await;
    assert_eq!(status, 200, "{name}");
    assert_eq!(name["pkp_address"], V);
    let (_, availability) = get(format!("{api}/api/names/available/admin")).await;
    assert_eq!(availability["reason"], "reserved");
    // W owns Alex's profile, so W's candidates are Jordan only (Sam is not featured).
    let (status, body) = get(format!("{api}/api/candidates?viewer={W}")).await;
    assert_eq!(status, 200);
    let ids: Vec<&Value> = body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["targetId"])
        .collect();
    assert_eq!(ids, [&json!("shadow-jordan")]);
    // V's likes received: W, shown with W's claimed profile.
    let (_, received) = get(format!("{api}/api/likes/received?viewer={V}")).await;
    assert_eq!(
        received,
        json!({"likes": [{"likerAddress": W, "displayName": "Alex",
                          "avatarUrl": "https://ipfs.io/ipfs/bafyalex", "likedAt": 1_771_000_300_000u64}]})
    );
    // V likes W back: the imported match keeps its id; a new pair gets the next one.
    let like = |viewer: &str, target_type: &str, target: &str| json!({"viewerAddress": viewer, "targetType": target_type, "targetId": target});
    assert_eq!(
        post(format!("{api}/api/likes"), like(V, "user", W)).await,
        (
            200,
            json!({"success": true, "mutual": true, "peerAddress": W, "matchId": 5})
        )
    );
    post(format!("{api}/api/likes"), like(X, "user", V)).await;
    assert_eq!(
        post(format!("{api}/api/likes"), like(V, "user", X)).await.1["matchId"],
        6
    );
    stack.stop();

    // Importing the same dump again would count its permits twice: the canister's rows no
    // longer match the dump, the run is refused and nothing of it stays.
    let (code, stdout, stderr) = import(data.path());
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("MISMATCH"), "{stdout}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let (_stack, api) = serve_api(data.path(), &[]);
    let (_, m) = post(format!("{api}/api/likes"), like(X, "user", V)).await;
    assert_eq!(
        m["error"], "Already liked",
        "the likes made after the first import are kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_dump_is_refused_whole() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("dump.sql");
    let text = std::fs::read_to_string(dump_path()).unwrap().replace(
        "'fedcba9876543210fedcba9876543210','0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc'",
        "'fedcba9876543210fedcba9876543210','0xnope'",
    );
    std::fs::write(&file, text).unwrap();
    let (code, _, stderr) = common::run_to_end(
        &["migrate", "identity-import", file.to_str().unwrap()],
        data.path(),
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("self_verifications[1]: user_address \"0xnope\" is not a 0x address"),
        "{stderr}"
    );
    assert!(!data.path().join("identity-canister.stable").exists());
}

/// `selfApp` of a deeplink, parsed back (the query is form-encoded JSON).
fn self_app(deeplink: &str) -> (String, Value) {
    let query = deeplink.strip_prefix("https://redirect.self.xyz?").unwrap();
    let (key, value) = form_urlencoded_pair(query);
    assert_eq!(key, "selfApp");
    let parsed = serde_json::from_str(&value).unwrap();
    (value, parsed)
}

fn form_urlencoded_pair(query: &str) -> (String, String) {
    let (k, v) = query.split_once('=').unwrap();
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        percent_decode(&s)
    };
    (decode(k), decode(v))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn self_verification_over_http_in_mock_mode() {
    let data = tempfile::tempdir().unwrap();
    let (_stack, api) = serve_api(data.path(), &[("APP_DISPLAY_NAME", "Heaven")]);
    let (status, session) = post(
        format!("{api}/api/self/session"),
        json!({"userAddress": V.to_uppercase().replace("0X", "0x")}),
    )
    .await;
    assert_eq!(status, 200, "{session}");
    let id = session["sessionId"].as_str().unwrap().to_owned();
    let (raw, app) = self_app(session["deeplinkUrl"].as_str().unwrap());
    assert!(
        raw.starts_with(r#"{"appName":"Heaven","logoBase64":"","endpointType":"staging_https","#),
        "{raw}"
    );
    assert_eq!(app["endpoint"], format!("{api}/api/self/verify"));
    assert_eq!(
        app["deeplinkCallback"],
        format!("heaven://self/callback?sessionId={id}")
    );
    assert_eq!(
        (app["userId"].clone(), app["chainID"].clone()),
        (json!(V), json!(11_142_220))
    );
    // The same pending session again.
    let (_, again) = post(format!("{api}/api/self/session"), json!({"userAddress": V})).await;
    assert_eq!(again["sessionId"], json!(id));
    assert_eq!(
        get(format!("{api}/api/self/session/{id}")).await,
        (200, json!({"status": "pending"}))
    );

    // Self's relayer posts the proof; the session id arrives URL-encoded in a callback URL.
    let context =
        format!("heaven%3A%2F%2Fself%2Fcallback%3FsessionId%3D{id}|dob:1990-01-01|nat:DEU");
    let webhook = json!({"attestationId": 1, "proof": {"a": [], "b": [], "c": []},
                         "publicSignals": [], "userContextData": context});
    assert_eq!(
        post(format!("{api}/api/self/verify"), webhook.clone()).await,
        (200, json!({"status": "success", "result": true}))
    );
    let (_, polled) = get(format!("{api}/api/self/session/{id}")).await;
    assert_eq!(polled["status"], "verified");
    assert_eq!(polled["nationality"], "DEU");
    let (status, identity) = get(format!(
        "{api}/api/self/identity/{}",
        V.to_uppercase().replace("0X", "0x")
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(identity["dateOfBirth"], "1990-01-01");
    assert_eq!(identity["hasShortNameCredential"], true);
    assert_eq!(
        post(format!("{api}/api/self/session"), json!({"userAddress": V}))
            .await
            .0,
        400
    );
    assert_eq!(
        post(format!("{api}/api/self/verify"), webhook).await.1["reason"],
        "Session already verified"
    );

    // Bad input.
    assert_eq!(
        post(format!("{api}/api/self/session"), json!({})).await,
        (400, json!({"error": "Invalid address"}))
    );
    assert_eq!(
        post_raw(format!("{api}/api/self/session"), "{").await,
        (400, json!({"error": "Invalid JSON body"}))
    );
    assert_eq!(
        post(
            format!("{api}/api/self/verify"),
            json!({"userContextData": "x"})
        )
        .await,
        (
            200,
            json!({"status": "error", "result": false, "reason": "Missing session ID in userContextData"})
        )
    );
    assert_eq!(
        get(format!("{api}/api/self/session/nope")).await,
        (404, json!({"error": "Session not found"}))
    );
    assert_eq!(
        get(format!("{api}/api/self/identity/0x12")).await,
        (400, json!({"error": "Invalid address"}))
    );
    assert_eq!(
        get(format!("{api}/api/self/identity/{W}")).await,
        (404, json!({"error": "No verified identity found"}))
    );
    assert_eq!(
        get(format!("{api}/api/self/verify")).await,
        (404, json!({"error": "Not found"}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn likes_are_limited_per_viewer_and_per_client_ip_on_the_local_stack() {
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("LIKES_PER_VIEWER", "2"),
        ("LIKES_PER_IP", "3"),
        ("LIKES_WINDOW_SECONDS", "600"),
    ];
    let (_stack, api) = serve_api(data.path(), &env);
    let like = |viewer: &str, target: &str| json!({"viewerAddress": viewer, "targetType": "shadow", "targetId": target});
    let throttled = (
        429,
        json!({"success": false, "error": "Too many likes, try again later", "retryAfter": 600}),
    );
    assert_eq!(post(format!("{api}/api/likes"), like(V, "a")).await.0, 200);
    assert_eq!(post(format!("{api}/api/likes"), like(V, "b")).await.0, 200);
    assert_eq!(
        post(format!("{api}/api/likes"), like(V, "c")).await,
        throttled
    );
    // The local edge vouches for 127.0.0.1: its third like is the IP's last.
    assert_eq!(post(format!("{api}/api/likes"), like(W, "a")).await.0, 200);
    assert_eq!(
        post(format!("{api}/api/likes"), like(X, "a")).await,
        throttled
    );
    // Validation comes first, as in the original.
    assert_eq!(
        post(
            format!("{api}/api/likes"),
            json!({"viewerAddress": V, "targetType": "page"})
        )
        .await,
        (
            400,
            json!({"success": false, "error": "Invalid target type"})
        )
    );
    assert_eq!(
        post_raw(format!("{api}/api/likes"), "nope").await,
        (400, json!({"success": false, "error": "Invalid JSON body"}))
    );
    assert_eq!(
        get(format!("{api}/api/candidates?viewer=0x1")).await,
        (400, json!({"error": "Invalid viewer address"}))
    );
    assert_eq!(
        get(format!("{api}/api/likes/received")).await,
        (400, json!({"error": "Invalid viewer address"}))
    );
    let (status, body) = get(format!("{api}/api/candidates?viewer={V}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["candidates"], json!([]));
    assert_eq!(body["meta"]["maxLikes"], 5);
}
