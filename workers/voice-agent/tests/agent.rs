//! Voice sessions over real HTTP: `/agent/start` against fake Agora REST, Honcho and subgraph
//! servers (wiremock, at their documented shapes), the `/v1/chat/completions` self-loop against
//! a fake streaming LLM, `/agent/{id}/stop`, and `/webhook/agora`.

mod common;

use std::time::Duration;

use common::fake_llm::{FakeLlm, Reply};
use common::{Service, User, assert_error, config, text};
use serde_json::{Value, json};
use voice_agent::upstream::agora::PROJECTS_PATH;
use wiremock::matchers::{body_string_contains, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP_ID: &str = "0123456789abcdef0123456789abcdef";
const APP_CERT: &str = "fedcba9876543210fedcba9876543210";
const UPSTREAM: &str = include_str!("fixtures/think_split.upstream.sse");
const EXPECTED_V1: &str = include_str!("fixtures/think_split.completions.expected.sse");

/// Fake Agora, Honcho and subgraph.
struct Upstreams {
    agora: MockServer,
    honcho: MockServer,
    subgraph: MockServer,
}

impl Upstreams {
    async fn start() -> Upstreams {
        let agora = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("{PROJECTS_PATH}/{APP_ID}/join")))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"agent_id": "agent-123", "create_ts": 1733100000, "status": "RUNNING"}),
            ))
            .mount(&agora)
            .await;
        Mock::given(method("POST"))
            .and(path(format!(
                "{PROJECTS_PATH}/{APP_ID}/agents/agent-123/leave"
            )))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&agora)
            .await;
        let honcho = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/v2/workspaces/HEAVEN1/peers/[^/]+/chat$"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"content": "Likes hiking."})),
            )
            .mount(&honcho)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/workspaces/HEAVEN1/peers"))
            .respond_with(ResponseTemplate::new(409))
            .mount(&honcho)
            .await;
        Mock::given(method("POST"))
            .and(path("/v2/workspaces/HEAVEN1/sessions"))
            .respond_with(|req: &wiremock::Request| {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                ResponseTemplate::new(200).set_body_json(json!({"id": body["id"]}))
            })
            .mount(&honcho)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(
                r"^/v2/workspaces/HEAVEN1/sessions/[^/]+/(peers|messages/)$",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .mount(&honcho)
            .await;
        let subgraph = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_string_contains("UserRecentScrobbles"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"scrobbles": [
                {"timestamp": "1700000000", "track": {"artist": "Low", "title": "Words", "album": null}}
            ]}})))
            .mount(&subgraph)
            .await;
        Mock::given(method("POST"))
            .and(body_string_contains("UserListeningStats"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"errors": [{"message": "no entity"}]})),
            )
            .mount(&subgraph)
            .await;
        Upstreams {
            agora,
            honcho,
            subgraph,
        }
    }

    async fn service(&self, llm: &FakeLlm, extra: &[(&str, &str)]) -> Service {
        let (agora, honcho, subgraph) = (self.agora.uri(), self.honcho.uri(), self.subgraph.uri());
        let mut vars = vec![
            ("AGORA_REST_BASE", agora.as_str()),
            ("AGORA_APP_ID", APP_ID),
            ("AGORA_APP_CERT", APP_CERT),
            ("AGORA_REST_AUTH", "cust:secret"),
            ("ELEVENLABS_API_KEY", "el-key"),
            ("HONCHO_BASE_URL", honcho.as_str()),
            ("HONCHO_API_KEY", "hk"),
            ("PSEUDONYM_SECRET", "pepper"),
            ("SUBGRAPH_URL", subgraph.as_str()),
            ("LLM_BASE_URL", llm.base.as_str()),
            ("LLM_API_KEY", "sk-test"),
        ];
        vars.extend_from_slice(extra);
        Service::start(config(&vars)).await
    }

    async fn requests_to(&self, server: &MockServer, suffix: &str) -> Vec<Value> {
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().ends_with(suffix))
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }
}

/// Waits for the service's background work (Honcho writes) to end.
async fn drained(service: &Service) {
    assert_eq!(
        service.background.drain(Duration::from_secs(30)).await,
        http_common::tasks::Drained::Complete
    );
}

#[tokio::test]
async fn start_loop_and_stop_a_voice_session() {
    let upstreams = Upstreams::start().await;
    let llm = FakeLlm::start(Reply::chunked(UPSTREAM, 11, Duration::from_millis(1))).await;
    let service = upstreams.service(&llm, &[]).await;
    let (user, other) = (User::new(1), User::new(2));
    let token = service.login(&user).await;

    let response = service
        .post(
            "/agent/start",
            Some(&token),
            json!({"activityWallet": other.wallet.to_lowercase()}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let started: Value = response.json().await.unwrap();
    let keys: Vec<&str> = started
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 6, "{started}");
    let session_id = started["session_id"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(session_id).unwrap();
    assert_eq!(uuid.get_version_num(), 4);
    assert_eq!(
        started["channel"],
        format!("neo_{}", &session_id.replace('-', "")[..20])
    );
    assert!(started["agora_token"].as_str().unwrap().starts_with("007"));
    assert_eq!(started["agora_agent_id"], "agent-123");
    let uid = started["user_uid"].as_u64().unwrap();
    assert!((1000..=10999).contains(&uid));
    let secret = started["llm_secret"].as_str().unwrap();
    assert!(secret.starts_with("neo_") && secret.len() == 36);

    // What Agora was asked.
    let joins = upstreams.agora.received_requests().await.unwrap();
    let join = &joins[0];
    assert_eq!(join.headers["authorization"], "Basic Y3VzdDpzZWNyZXQ=");
    let join: Value = serde_json::from_slice(&join.body).unwrap();
    let props = &join["properties"];
    assert!(join["name"].as_str().unwrap().starts_with("neo_agent_"));
    assert_eq!(props["channel"], started["channel"]);
    assert_eq!(props["agent_rtc_uid"], "0");
    assert_eq!(props["remote_rtc_uids"], json!([uid.to_string()]));
    assert_eq!(props["idle_timeout"], 300);
    assert_eq!(
        props["llm"]["url"],
        format!("{}/v1/chat/completions", service.base)
    );
    assert_eq!(props["llm"]["api_key"], secret);
    assert_eq!(props["llm"]["max_history"], 10);
    assert!(
        props["llm"]["system_messages"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("You are Scarlett")
    );
    assert_eq!(props["tts"]["params"]["key"], "el-key");
    assert_eq!(props["tts"]["params"]["voice_id"], "rf0RyZGEDtFGS4U6yghI");
    assert!(props["token"].as_str().unwrap().starts_with("007"));

    // Activity was asked for the activity wallet, lowercased.
    let graph = upstreams.subgraph.received_requests().await.unwrap();
    let graph: Value = serde_json::from_slice(&graph[0].body).unwrap();
    let variables = &graph["variables"];
    assert!(
        variables["user"] == other.wallet.to_lowercase()
            || variables["userId"] == other.wallet.to_lowercase()
    );
    // Honcho voice session was set up (tracked background work: drained, not polled for).
    drained(&service).await;
    let sessions = upstreams.requests_to(&upstreams.honcho, "/sessions").await;
    assert!(
        !upstreams
            .requests_to(&upstreams.honcho, "/peers")
            .await
            .is_empty()
    );
    assert!(sessions.is_empty() || sessions[0]["id"] == format!("voice_{session_id}"));

    // The self-loop: context injected, stream filtered, extra fields passed through.
    let v1 = service
        .post(
            "/v1/chat/completions",
            Some(secret),
            json!({"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi there"}],
                   "temperature": 0.7, "agora": {"turn": 1}}),
        )
        .await;
    assert_eq!(v1.status(), 200);
    assert_eq!(v1.headers()["content-type"], "text/event-stream");
    assert_eq!(v1.headers()["x-fake"], "yes");
    assert_eq!(v1.headers()["access-control-allow-origin"], "*");
    assert_eq!(text(v1).await, EXPECTED_V1);
    let forwarded = llm.last_request();
    assert_eq!(forwarded["model"], "moonshotai/kimi-k2-instruct-0905");
    assert_eq!(forwarded["stream"], true);
    assert_eq!(forwarded["temperature"], 0.7);
    assert_eq!(forwarded["agora"], json!({"turn": 1}));
    assert!(forwarded["messages"][0]["content"].as_str().unwrap().starts_with(
        "sys\n\n=== User Context ===\n=== Personal Memory ===\nLikes hiking.\n\n=== Recent Activity ===\nRecent listens (latest 5): Low - Words ("
    ));
    assert!(
        forwarded["messages"][0]["content"]
            .as_str()
            .unwrap()
            .ends_with("; 2023-11-14T22:13:20Z).")
    );
    assert_eq!(
        forwarded["messages"][1],
        json!({"role": "user", "content": "hi there"})
    );
    // The transcript went to Honcho: the user under their peer, the answer under the agent.
    let messages_path = format!("/sessions/voice_{session_id}/messages/");
    drained(&service).await;
    let transcript = upstreams
        .requests_to(&upstreams.honcho, &messages_path)
        .await;
    assert_eq!(transcript[0]["messages"][0]["content"], "hi there");
    assert_eq!(transcript[0]["messages"][0]["is_user"], true);
    assert_eq!(
        transcript[1]["messages"][0],
        json!({"content": "Hello there! <3", "peer_id": "agent_scarlett", "is_user": false})
    );

    // /v1 refusals.
    assert_error(
        service.post("/v1/chat/completions", None, json!({})).await,
        401,
        "Missing Authorization: Bearer <llm_secret>",
    )
    .await;
    assert_error(
        service
            .post("/v1/chat/completions", Some(&token), json!({}))
            .await,
        401,
        "Invalid or inactive session",
    )
    .await;
    assert_error(
        service
            .post(
                "/v1/chat/completions",
                Some(secret),
                json!({"messages": "x"}),
            )
            .await,
        400,
        "Invalid OpenAI request",
    )
    .await;

    // Stop: only the owner; then idempotent; then the secret is dead.
    let stop = format!("/agent/{session_id}/stop");
    let other_token = service.login(&other).await;
    assert_error(
        service.post(&stop, Some(&other_token), json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let stopped = service
        .http
        .post(format!("{}{stop}", service.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), 200);
    let stopped: Value = stopped.json().await.unwrap();
    assert_eq!(stopped["ok"], true);
    assert_eq!(stopped["session_id"], session_id);
    assert!(stopped["duration_ms"].as_i64().unwrap() >= 0);
    assert_eq!(
        upstreams
            .requests_to(&upstreams.agora, "/agents/agent-123/leave")
            .await
            .len(),
        1
    );
    let again = service.post(&stop, Some(&token), json!({})).await;
    assert_eq!(text(again).await, r#"{"ok":true}"#);
    assert_eq!(
        upstreams
            .requests_to(&upstreams.agora, "/leave")
            .await
            .len(),
        1
    );
    assert_error(
        service
            .post(
                "/v1/chat/completions",
                Some(secret),
                json!({"messages": []}),
            )
            .await,
        401,
        "Invalid or inactive session",
    )
    .await;
}

#[tokio::test]
async fn v1_passes_non_streaming_and_error_answers_through_untouched() {
    let upstreams = Upstreams::start().await;
    let completion = r#"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"<think>a</think>b"}}]}"#;
    let llm = FakeLlm::start(Reply::Whole {
        status: 200,
        content_type: "application/json",
        body: completion.into(),
    })
    .await;
    let service = upstreams
        .service(&llm, &[("PUBLIC_BASE_URL", "https://agent.example/")])
        .await;
    let token = service.login(&User::new(3)).await;
    let started: Value = service
        .post("/agent/start", Some(&token), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = started["llm_secret"].as_str().unwrap();
    let joins = upstreams.agora.received_requests().await.unwrap();
    let join: Value = serde_json::from_slice(&joins[0].body).unwrap();
    assert_eq!(
        join["properties"]["llm"]["url"],
        "https://agent.example/v1/chat/completions"
    );

    let response = service
        .post(
            "/v1/chat/completions",
            Some(secret),
            json!({"model": "m", "stream": false, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(text(response).await, completion);
    assert_eq!(llm.last_request()["model"], "m");

    let refusing = FakeLlm::start(Reply::Whole {
        status: 429,
        content_type: "application/json",
        body: r#"{"error":{"message":"slow down"}}"#.into(),
    })
    .await;
    let service = upstreams.service(&refusing, &[]).await;
    let token = service.login(&User::new(3)).await;
    let started: Value = service
        .post("/agent/start", Some(&token), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let response = service
        .post(
            "/v1/chat/completions",
            Some(started["llm_secret"].as_str().unwrap()),
            json!({"messages": []}),
        )
        .await;
    assert_eq!(response.status(), 429);
    assert_eq!(text(response).await, r#"{"error":{"message":"slow down"}}"#);
}

#[tokio::test]
async fn agora_failures_are_plain_500s_and_the_session_is_marked() {
    let upstreams = Upstreams::start().await;
    let llm = FakeLlm::start(Reply::tokens(&["x"], Duration::ZERO)).await;
    // Unconfigured Agora (the local stack without an account).
    let service = Service::start(config(&[("LLM_BASE_URL", llm.base.as_str())])).await;
    let token = service.login(&User::new(4)).await;
    let response = service.post("/agent/start", Some(&token), json!({})).await;
    assert_eq!(response.status(), 500);
    assert_eq!(text(response).await, "Internal Server Error");

    // Agora refuses.
    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"message": "invalid credentials"})),
        )
        .mount(&refusing)
        .await;
    let base = refusing.uri();
    let service = upstreams
        .service(&llm, &[("AGORA_REST_BASE", base.as_str())])
        .await;
    let token = service.login(&User::new(4)).await;
    let response = service.post("/agent/start", Some(&token), json!({})).await;
    assert_eq!(response.status(), 500);
    let rows = service
        .store
        .list("voice-agent/sessions/", None, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row: Value = serde_json::from_slice(&rows[0].1.value).unwrap();
    assert_eq!(row["status"], "error");
    assert_eq!(row["agora_agent_id"], Value::Null);
}

#[tokio::test]
async fn chat_stream_writes_the_exchange_to_honcho_when_the_stream_ends() {
    let upstreams = Upstreams::start().await;
    let llm = FakeLlm::start(Reply::tokens(&["Hi", "!"], Duration::from_millis(5))).await;
    let service = upstreams.service(&llm, &[]).await;
    let user = User::new(6);
    let token = service.login(&user).await;
    let body = text(
        service
            .post("/chat/stream", Some(&token), json!({"message": "yo"}))
            .await,
    )
    .await;
    assert!(body.ends_with("data: {\"done\":true,\"message\":\"Hi!\"}\n\n"));
    let prefix: String = user.wallet.as_str().chars().take(10).collect();
    drained(&service).await;
    let requests = upstreams.honcho.received_requests().await.unwrap();
    let writes: Vec<Value> = requests
        .iter()
        .filter(|r| r.url.path().contains(&format!("/sessions/chat_{prefix}_")))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(writes[0]["messages"][0]["content"], "yo");
    assert_eq!(writes[1]["messages"][0]["content"], "Hi!");
    assert_eq!(writes[1]["messages"][0]["is_user"], false);
    assert_eq!(
        writes[0]["messages"][0]["peer_id"],
        writes[1]["messages"][0]["peer_id"]
    );
    // The system prompt carried the memory.
    let prompt = llm.last_request()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        prompt.contains("\n\n=== User Context ===\n=== Personal Memory ===\nLikes hiking."),
        "{prompt}"
    );
}

#[tokio::test]
async fn webhook_guard() {
    let open = Service::start(config(&[])).await;
    let response = open.post("/webhook/agora", None, json!({"event": 1})).await;
    assert_eq!(text(response).await, r#"{"ok":true}"#);
    let guarded = Service::start(config(&[("WEBHOOK_SECRET", "w")])).await;
    assert_error(
        guarded.post("/webhook/agora", None, json!({})).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        guarded.post("/webhook/agora", Some("x"), json!({})).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(
        guarded
            .post("/webhook/agora", Some("w"), json!({}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn v1_upstream_failure_mid_stream_aborts_the_response() {
    let upstreams = Upstreams::start().await;
    let llm = FakeLlm::start(Reply::Stream {
        pieces: vec![(
            Duration::ZERO,
            common::fake_llm::content_event("partial").into_bytes(),
        )],
        ending: common::fake_llm::Ending::Abort,
    })
    .await;
    let service = upstreams.service(&llm, &[]).await;
    let token = service.login(&User::new(7)).await;
    let started: Value = service
        .post("/agent/start", Some(&token), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let response = service
        .post(
            "/v1/chat/completions",
            Some(started["llm_secret"].as_str().unwrap()),
            json!({"messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    // Agora sees a broken stream (no terminating chunk), not a clean end without [DONE].
    let body = tokio::time::timeout(Duration::from_secs(10), response.text())
        .await
        .expect("no hang");
    assert!(body.is_err(), "{body:?}");
    // No transcript is written for a failed turn.
    drained(&service).await;
    assert!(
        upstreams
            .requests_to(&upstreams.honcho, "/messages/")
            .await
            .is_empty()
    );
}
