//! The AI host of `ai_enabled` free rooms (contract §3, §6) over real HTTP, with Agora's
//! Conversational AI faked by wiremock at its documented REST shape: started once, on the
//! first join, with the original's body; stopped when the room ends; never for rooms without
//! AI; a failing Agora does not fail the join. The Agora calls run in the background, so the
//! tests wait for them (`BackgroundTasks::drain`, or polling wiremock).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::rooms_stack::{self, StackParts, start_with};
use common::{FakeCredits, JWT_SECRET, START, User};
use serde_json::{Value, json};
use voice_rooms::Clock;
use voice_rooms::auth::SessionToken;
use voice_rooms::rooms::RoomState;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP_ID: &str = "0123456789abcdef0123456789abcdef";
const JOIN_PATH: &str =
    "/api/conversational-ai-agent/v2/projects/0123456789abcdef0123456789abcdef/join";
const AGENT: &str = "agent-42";

fn leave_path(agent: &str) -> String {
    format!("/api/conversational-ai-agent/v2/projects/{APP_ID}/agents/{agent}/leave")
}

/// The shared stack with Agora's REST API at a wiremock server.
struct Stack(rooms_stack::Stack);

impl std::ops::Deref for Stack {
    type Target = rooms_stack::Stack;

    fn deref(&self) -> &rooms_stack::Stack {
        &self.0
    }
}

async fn start(dir: &Path, agora: &MockServer) -> Stack {
    start_on(dir, agora, Arc::new(FakeCredits::default())).await
}

async fn start_on(dir: &Path, agora: &MockServer, credits: Arc<FakeCredits>) -> Stack {
    let mut parts = StackParts::in_dir(dir, Clock::manual(START), credits).await;
    parts.env = vec![
        ("AGORA_REST_BASE", agora.uri()),
        ("AGORA_REST_AUTH", "customer:secret".into()),
        ("LLM_BASE_URL", "https://llm.example/v1".into()),
        ("LLM_API_KEY", "llm-key".into()),
        ("ELEVENLABS_API_KEY", "eleven-key".into()),
    ];
    Stack(start_with(parts).await)
}

impl Stack {
    async fn post(&self, user: &User, path: &str, body: Value) -> (u16, Value) {
        let token = SessionToken::new(JWT_SECRET).issue(&user.lower(), self.clock.now());
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn create(&self, host: &User, ai: bool) -> String {
        let (status, body) = self
            .post(host, "/rooms/create", json!({ "ai_enabled": ai }))
            .await;
        assert_eq!(status, 200, "{body}");
        body["room_id"].as_str().unwrap().to_owned()
    }

    async fn join(&self, user: &User, room: &str) -> String {
        let (status, body) = self
            .post(user, "/rooms/join", json!({ "room_id": room }))
            .await;
        assert_eq!(status, 200, "{body}");
        body["connection_id"].as_str().unwrap().to_owned()
    }

    async fn leave(&self, user: &User, room: &str, connection: &str) -> Value {
        let (status, body) = self
            .post(
                user,
                "/rooms/leave",
                json!({ "room_id": room, "connection_id": connection }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits for the background Agora calls spawned so far.
    async fn settle(&self) {
        for _ in 0..100 {
            if self.tasks.running().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("Agora calls still running: {:?}", self.tasks.running());
    }

    async fn room_state(&self, room: &str) -> Option<RoomState> {
        self.store
            .get(&format!("{}{room}", voice_rooms::rooms::ROOM_STATE_PREFIX))
            .await
            .unwrap()
            .map(|record| serde_json::from_slice(&record.value).unwrap())
    }
}

fn agora_answering(status: u16, body: Value) -> Mock {
    Mock::given(method("POST"))
        .and(path(JOIN_PATH))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
}

async fn join_calls(agora: &MockServer) -> Vec<Value> {
    agora
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == JOIN_PATH)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn leave_calls(agora: &MockServer, agent: &str) -> usize {
    let leave = leave_path(agent);
    agora
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == leave)
        .count()
}

#[tokio::test]
async fn agent_starts_once_on_the_first_join_with_the_original_body_and_stops_on_the_last_leave() {
    let agora = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(JOIN_PATH))
        .and(header("authorization", "Basic Y3VzdG9tZXI6c2VjcmV0"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"agent_id": AGENT, "status": "RUNNING"})),
        )
        .mount(&agora)
        .await;
    Mock::given(method("POST"))
        .and(path(leave_path(AGENT)))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&agora)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &agora).await;
    let host = s.named(1);
    let guest = s.named(2);
    let room = s.create(&host, true).await;
    s.settle().await;
    assert!(
        join_calls(&agora).await.is_empty(),
        "no agent before a join"
    );

    let host_conn = s.join(&host, &room).await;
    let guest_conn = s.join(&guest, &room).await;
    s.settle().await;
    let calls = join_calls(&agora).await;
    assert_eq!(calls.len(), 1, "one agent for the room");
    let body = &calls[0];
    assert!(body["name"].as_str().unwrap().starts_with("heaven_room_"));
    let p = &body["properties"];
    assert_eq!(p["channel"], format!("heaven-free-{room}"));
    assert!(p["token"].as_str().unwrap().starts_with("007"));
    assert_eq!(p["agent_rtc_uid"], "0");
    assert_eq!(p["remote_rtc_uids"], json!(["*"]));
    assert_eq!(p["enable_string_uid"], false);
    assert_eq!(p["idle_timeout"], 300);
    assert_eq!(p["llm"]["url"], "https://llm.example/v1/chat/completions");
    assert_eq!(p["llm"]["api_key"], "llm-key");
    assert_eq!(p["llm"]["system_messages"][0]["role"], "system");
    assert!(
        p["llm"]["greeting_message"]
            .as_str()
            .unwrap()
            .contains("Scarlett")
    );
    assert_eq!(p["llm"]["failure_message"], "Hmm... Something went wrong.");
    assert_eq!(p["llm"]["max_history"], 10);
    assert!(
        p["llm"].get("model").is_none(),
        "the original sends no model"
    );
    assert_eq!(p["asr"], json!({"language": "en-US"}));
    assert_eq!(
        p["tts"],
        json!({"vendor": "elevenlabs", "params": {"base_url": "wss://api.elevenlabs.io/v1",
            "key": "eleven-key", "model_id": "eleven_flash_v2_5",
            "voice_id": "rf0RyZGEDtFGS4U6yghI", "sample_rate": 24000}})
    );
    assert_eq!(
        p["vad"],
        json!({"silence_duration_ms": 800, "speech_duration_ms": 10000, "threshold": 0.5,
            "interrupt_duration_ms": 200, "prefix_padding_ms": 500})
    );
    let state = s.room_state(&room).await.unwrap();
    assert_eq!(
        state.agent_id.as_deref(),
        Some(AGENT),
        "kept in persisted state"
    );
    assert!(!state.agent_starting);

    s.clock.advance(5);
    let left = s.leave(&guest, &room, &guest_conn).await;
    assert_eq!(left["closed"], false);
    s.settle().await;
    assert_eq!(leave_calls(&agora, AGENT).await, 0, "room still open");

    let left = s.leave(&host, &room, &host_conn).await;
    assert_eq!(left["closed"], true);
    s.settle().await;
    assert_eq!(
        leave_calls(&agora, AGENT).await,
        1,
        "stopped when the room closed"
    );
    assert!(s.room_state(&room).await.is_none());
}

#[tokio::test]
async fn agent_stops_when_the_host_closes_the_room() {
    let agora = MockServer::start().await;
    agora_answering(200, json!({"agent_id": "agent-close"}))
        .mount(&agora)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &agora).await;
    let host = s.named(1);
    let guest = s.named(2);
    let room = s.create(&host, true).await;
    let host_conn = s.join(&host, &room).await;
    s.join(&guest, &room).await;
    s.settle().await;
    // The host's leave closes the room for everyone.
    let closed = s.leave(&host, &room, &host_conn).await;
    assert_eq!(closed["closed"], true);
    s.settle().await;
    assert_eq!(leave_calls(&agora, "agent-close").await, 1);
}

#[tokio::test]
async fn rooms_without_ai_never_call_agora() {
    let agora = MockServer::start().await;
    agora_answering(200, json!({"agent_id": AGENT}))
        .mount(&agora)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &agora).await;
    let host = s.named(1);
    let room = s.create(&host, false).await;
    let conn = s.join(&host, &room).await;
    s.leave(&host, &room, &conn).await;
    s.settle().await;
    assert!(agora.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failing_agora_does_not_fail_the_join_and_leaves_no_agent() {
    let agora = MockServer::start().await;
    agora_answering(503, json!({"message": "overloaded"}))
        .mount(&agora)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &agora).await;
    let host = s.named(1);
    let room = s.create(&host, true).await;
    let conn = s.join(&host, &room).await;
    s.settle().await;
    assert_eq!(join_calls(&agora).await.len(), 1);
    let state = s.room_state(&room).await.unwrap();
    assert_eq!(state.agent_id, None);
    assert!(!state.agent_starting, "the failed start is cleared");
    let left = s.leave(&host, &room, &conn).await;
    assert_eq!(left["closed"], true);
    s.settle().await;
    let leaves = agora
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/leave"))
        .count();
    assert_eq!(leaves, 0, "nothing to stop");
}

#[tokio::test]
async fn agent_stops_when_the_alarm_finds_the_room_empty() {
    let agora = MockServer::start().await;
    agora_answering(200, json!({"agent_id": "agent-alarm"}))
        .mount(&agora)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &agora).await;
    let host = s.named(1);
    let room = s.create(&host, true).await;
    s.join(&host, &room).await;
    s.settle().await;
    // Silent for more than 90 s: the alarm evicts the host and closes the room.
    s.clock.advance(120);
    let rung = s.rooms.ring_alarm(&room).await.unwrap();
    assert!(rung.body.contains(r#""closed":true"#), "{}", rung.body);
    s.settle().await;
    assert_eq!(leave_calls(&agora, "agent-alarm").await, 1);
}

#[tokio::test]
async fn a_restarted_worker_still_stops_the_agent_it_started() {
    let agora = MockServer::start().await;
    agora_answering(200, json!({"agent_id": "agent-restart"}))
        .mount(&agora)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let credits = Arc::new(FakeCredits::default());
    let (host, room, conn) = {
        let s = start_on(dir.path(), &agora, credits.clone()).await;
        let host = s.named(1);
        let room = s.create(&host, true).await;
        let conn = s.join(&host, &room).await;
        s.settle().await;
        (host, room, conn)
    };
    let s = start_on(dir.path(), &agora, credits).await;
    assert_eq!(
        s.room_state(&room).await.unwrap().agent_id.as_deref(),
        Some("agent-restart")
    );
    let left = s.leave(&host, &room, &conn).await;
    assert_eq!(left["closed"], true);
    s.settle().await;
    assert_eq!(leave_calls(&agora, "agent-restart").await, 1);
    assert_eq!(join_calls(&agora).await.len(), 1, "no second agent");
}
