//! The two duet pages in a real browser: Debian's Chromium, headless, driven through
//! chromedriver (WebDriver) by fantoccini, against the duet routes over real HTTP in mock
//! facilitator mode.
//!
//! The browser cannot reach the internet, so the Agora Web SDK the pages load from
//! download.agora.io fails to load (every host but 127.0.0.1 resolves to nothing); the test
//! then installs a small recording stand-in for the SDK's `AgoraRTC` object (the calls the
//! pages make: `createClient`, `setClientRole`, `join`, `publish`, `leave`, tracks) so the
//! pages' own code runs end to end against our server.
//!
//! - watch: the page polls public-info and shows the room live; Enter pays with the mock x402
//!   signature built from PAYMENT-REQUIRED, receives the viewer grant and joins the channel as
//!   audience with the grant's app id, channel, token and uid; the server then holds an
//!   entitlement for the page's wallet (a second entry needs no payment).
//! - broadcast: the page opened with the host's bridge ticket shows Idle, Start fetches the
//!   bridge token, joins as host with its token, reports `live` by heartbeat (public-info turns
//!   on air) and shows Live; Stop reports `stopped` (off air) and shows Idle again.
//!
//! Chromium and chromedriver are installed by `cargo xtask setup` (Debian packages `chromium`,
//! `chromium-driver`). Without them the test says it skipped, except under `CI=true`, where it
//! fails.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::duet::{APP_ID, DuetStack};
use common::{FakeCredits, START, User};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use voice_rooms::Clock;

const SPLIT: &str = "0x00000000000000000000000000000000000000aa";

/// A stand-in for the Agora Web SDK's `AgoraRTC`, recording what the page asks of it in
/// `window.fakeAgora`.
const FAKE_AGORA: &str = r#"
window.fakeAgora = { role: null, joined: null, published: 0, left: false };
const track = () => ({ close() {}, play() {} });
window.AgoraRTC = {
  createClient() {
    return {
      async setClientRole(role) { window.fakeAgora.role = role; },
      async join(appId, channel, token, uid) {
        window.fakeAgora.joined = { appId, channel, token, uid };
        return uid;
      },
      async publish() { window.fakeAgora.published += 1; },
      async unpublish() {},
      async subscribe() {},
      async renewToken() {},
      async leave() { window.fakeAgora.left = true; },
      on() {},
    };
  },
  async createMicrophoneAudioTrack() { return track(); },
  createCustomAudioTrack() { return track(); },
  async getMicrophones() { return []; },
  async getCameras() { return []; },
};
"#;

/// A chromedriver child process, killed on drop.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn installed(binary: &str) -> bool {
    std::process::Command::new(binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Starts chromedriver, or `None` (with a printed reason) when Chromium is not installed
/// outside CI.
async fn driver() -> Option<Driver> {
    if !installed("chromedriver") || !installed("chromium") {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium and chromedriver must be installed in CI (cargo xtask setup)"
        );
        eprintln!("SKIPPED: chromium/chromedriver not installed (cargo xtask setup installs them)");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await
            && r.status().is_success()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer /status");
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Text of the element with `id`.
async fn text(page: &Client, id: &str) -> String {
    page.find(Locator::Id(id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits (up to 15 s) until `check` holds for the page, polling every 100 ms.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn script(page: &Client, js: &str) -> Value {
    page.execute(js, vec![]).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watch_page_pays_enters_and_joins_and_the_broadcast_page_goes_live_and_stops() {
    let Some(driver) = driver().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(START);
    let credits = Arc::new(FakeCredits::with_clock(clock.clone()));
    let s = DuetStack::start(dir.path(), clock, credits, &[]).await;
    let host = User::new(1);
    let (room, ticket) = s.live_room(&host, json!({"split_address": SPLIT})).await;
    let page = browser(&driver).await;

    // The viewer page: live, pay (mock) and enter, join as audience with the grant.
    page.goto(&format!("{}/duet/{room}/watch", s.base))
        .await
        .unwrap();
    script(&page, FAKE_AGORA).await;
    until("the watch page to show the room live", || async {
        text(&page, "statusText").await.starts_with("live")
    })
    .await;
    let enter = page.find(Locator::Id("enterBtn")).await.unwrap();
    until("Enter to be enabled", || async {
        enter.is_enabled().await.unwrap()
    })
    .await;
    enter.click().await.unwrap();
    until("the viewer grant", || async {
        script(&page, "return window.fakeAgora.joined").await != Value::Null
    })
    .await;
    let grant = script(&page, "return window.lastGrant").await;
    let joined = script(&page, "return window.fakeAgora").await;
    assert_eq!(joined["role"], "audience");
    assert_eq!(joined["joined"]["appId"], grant["agora_app_id"]);
    assert_eq!(grant["agora_app_id"], APP_ID);
    assert_eq!(
        joined["joined"]["channel"],
        format!("heaven-duet-{room}").as_str()
    );
    assert_eq!(joined["joined"]["token"], grant["agora_viewer_token"]);
    assert_eq!(joined["joined"]["uid"], grant["agora_uid"]);
    assert!(text(&page, "message").await.starts_with("Entered"));
    assert_eq!(text(&page, "error").await, "", "no error once entered");
    // The page's wallet paid: it now re-enters without a payment.
    let wallet = script(
        &page,
        "return localStorage.getItem('heaven.duet.mockWallet')",
    )
    .await;
    let again = s.public_enter(&room, json!({"wallet": wallet}), None).await;
    assert_eq!(again.status, 200, "{}", again.body);

    // The broadcaster page with the host's ticket: Idle, Start → Live and on air, Stop → Idle
    // and off air.
    page.goto(&format!(
        "{}/duet/{room}/broadcast?bridgeTicket={ticket}",
        s.base
    ))
    .await
    .unwrap();
    script(&page, FAKE_AGORA).await;
    assert_eq!(text(&page, "statePill").await, "Idle");
    page.find(Locator::Id("startBtn"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until("the broadcast page to show Live", || async {
        text(&page, "statePill").await == "Live"
    })
    .await;
    let agora = script(&page, "return window.fakeAgora").await;
    assert_eq!(agora["role"], "host");
    assert_eq!(agora["joined"]["appId"], APP_ID);
    assert!(agora["published"].as_u64().unwrap() >= 1);
    let token = agora["joined"]["token"].as_str().unwrap();
    assert!(
        token.starts_with("007"),
        "an AccessToken2 publisher token: {token}"
    );
    let info = s.get(&format!("/duet/{room}/public-info")).await.json();
    assert_eq!(info["broadcaster_online"], true, "{info}");

    page.find(Locator::Id("stopBtn"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until("the broadcast page to show Idle", || async {
        text(&page, "statePill").await == "Idle"
    })
    .await;
    let info = s.get(&format!("/duet/{room}/public-info")).await.json();
    assert_eq!(info["broadcaster_online"], false, "{info}");
    assert_eq!(script(&page, "return window.fakeAgora.left").await, true);

    page.close().await.unwrap();
}
