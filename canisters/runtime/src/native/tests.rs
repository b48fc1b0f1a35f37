//! Tests of the native runtime: key persistence and derivation, signatures that verify, outcalls
//! with transforms against a local server, and timers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{Signature, VerifyingKey};

use super::*;
use crate::OutcallTransform;

fn key() -> EcdsaKey {
    EcdsaKey::new("dfx_test_key")
}

#[tokio::test]
async fn dev_key_is_created_once_and_reused_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = NativeRuntime::open(dir.path()).unwrap();
    let pk1 = first
        .ecdsa_public_key(&key(), &[b"names-permit-v1".to_vec()])
        .await
        .unwrap();
    assert!(first.key_path().exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(first.key_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "dev key must be private");
    }
    drop(first);
    let second = NativeRuntime::open(dir.path()).unwrap();
    let pk2 = second
        .ecdsa_public_key(&key(), &[b"names-permit-v1".to_vec()])
        .await
        .unwrap();
    assert_eq!(pk1, pk2);
    assert_eq!(pk1.len(), 33);
}

#[tokio::test]
async fn keys_differ_per_path_key_name_and_canister() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    let a = rt.ecdsa_public_key(&key(), &[b"a".to_vec()]).await.unwrap();
    let b = rt.ecdsa_public_key(&key(), &[b"b".to_vec()]).await.unwrap();
    let other_name = rt
        .ecdsa_public_key(&EcdsaKey::new("key_1"), &[b"a".to_vec()])
        .await
        .unwrap();
    let other = NativeRuntime::open_as(
        dir.path(),
        Principal::from_text("ryjl3-tyaaa-aaaaa-aaaba-cai").unwrap(),
    )
    .unwrap();
    let other_canister = other
        .ecdsa_public_key(&key(), &[b"a".to_vec()])
        .await
        .unwrap();
    assert_ne!(a, b);
    assert_ne!(a, other_name);
    assert_ne!(a, other_canister);
    // Length prefixes keep ["ab"] and ["a","b"] apart.
    let joined = rt
        .ecdsa_public_key(&key(), &[b"ab".to_vec()])
        .await
        .unwrap();
    let split = rt
        .ecdsa_public_key(&key(), &[b"a".to_vec(), b"b".to_vec()])
        .await
        .unwrap();
    assert_ne!(joined, split);
}

#[tokio::test]
async fn signature_verifies_against_public_key_and_is_low_s() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    let path = vec![b"relayer".to_vec()];
    let pk =
        VerifyingKey::from_sec1_bytes(&rt.ecdsa_public_key(&key(), &path).await.unwrap()).unwrap();
    for i in 0u8..16 {
        let digest = [i; 32];
        let sig = rt.sign_with_ecdsa(&key(), &path, digest).await.unwrap();
        let sig = Signature::from_slice(&sig).unwrap();
        assert!(
            sig.normalize_s().is_none(),
            "signature must already be low-s"
        );
        pk.verify_prehash(&digest, &sig).unwrap();
    }
    let wrong =
        VerifyingKey::from_sec1_bytes(&rt.ecdsa_public_key(&key(), &[]).await.unwrap()).unwrap();
    let sig =
        Signature::from_slice(&rt.sign_with_ecdsa(&key(), &path, [7; 32]).await.unwrap()).unwrap();
    assert!(wrong.verify_prehash(&[7; 32], &sig).is_err());
}

#[tokio::test]
async fn corrupt_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DEV_KEY_FILE), "not hex").unwrap();
    assert!(matches!(
        NativeRuntime::open(dir.path()),
        Err(NativeRuntimeError::BadKey { .. })
    ));
}

async fn local_server() -> String {
    let app = Router::new()
        .route(
            "/quote",
            get(|| async {
                (
                    [("x-request-id", "abc123"), ("date", "today")],
                    "{\"price\":42}",
                )
            }),
        )
        .route("/big", get(|| async { vec![b'x'; 4096] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn get_request(url: String) -> OutcallRequest {
    OutcallRequest {
        url,
        method: OutcallMethod::Get,
        headers: vec![OutcallHeader {
            name: "accept".into(),
            value: "application/json".into(),
        }],
        body: None,
        max_response_bytes: 1024,
        transform: None,
    }
}

#[tokio::test]
async fn outcall_applies_registered_transform_with_context() {
    let base = local_server().await;
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    rt.register_transform(
        "strip_headers",
        Arc::new(|mut r: OutcallResponse, ctx: &[u8]| {
            r.headers.clear();
            r.body.extend_from_slice(ctx);
            r
        }),
    );
    let raw = rt
        .http_outcall(get_request(format!("{base}/quote")))
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    assert!(raw.headers.iter().any(|h| h.name == "x-request-id"));

    let mut req = get_request(format!("{base}/quote"));
    req.transform = Some(OutcallTransform {
        function: "strip_headers".into(),
        context: b"!".to_vec(),
    });
    let transformed = rt.http_outcall(req).await.unwrap();
    assert!(transformed.headers.is_empty());
    assert_eq!(transformed.body, b"{\"price\":42}!");
}

#[tokio::test]
async fn outcall_errors_are_explicit() {
    let base = local_server().await;
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    let too_big = rt.http_outcall(get_request(format!("{base}/big"))).await;
    assert!(matches!(too_big, Err(RuntimeError::Outcall(m)) if m.contains("max_response_bytes")));
    let mut unknown = get_request(format!("{base}/quote"));
    unknown.transform = Some(OutcallTransform {
        function: "nope".into(),
        context: vec![],
    });
    assert!(matches!(
        rt.http_outcall(unknown).await,
        Err(RuntimeError::Invalid(_))
    ));
    let not_found = rt
        .http_outcall(get_request(format!("{base}/missing")))
        .await
        .unwrap();
    assert_eq!(not_found.status, 404);
}

#[tokio::test(start_paused = true)]
async fn one_shot_timer_fires_once_and_can_be_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    let fired = Arc::new(AtomicUsize::new(0));
    let f = fired.clone();
    rt.set_timer(
        Duration::from_secs(5),
        Box::new(move || {
            f.fetch_add(1, Ordering::SeqCst);
        }),
    );
    let g = fired.clone();
    let cleared = rt.set_timer(
        Duration::from_secs(5),
        Box::new(move || {
            g.fetch_add(100, Ordering::SeqCst);
        }),
    );
    rt.clear_timer(cleared);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    tokio::task::yield_now().await;
    assert_eq!(fired.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(fired.load(Ordering::SeqCst), 1);
    assert_eq!(rt.active_timers(), 0);
}

#[tokio::test(start_paused = true)]
async fn interval_timer_repeats_until_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    let fired = Arc::new(AtomicUsize::new(0));
    let f = fired.clone();
    let handle = rt.set_timer_interval(
        Duration::from_secs(120),
        Arc::new(move || {
            f.fetch_add(1, Ordering::SeqCst);
        }),
    );
    tokio::time::sleep(Duration::from_secs(119)).await;
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    tokio::time::sleep(Duration::from_secs(242)).await;
    assert_eq!(fired.load(Ordering::SeqCst), 3);
    rt.clear_timer(handle);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(fired.load(Ordering::SeqCst), 3);
}

#[test]
fn time_is_wall_clock_nanoseconds() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let t = rt.time_ns();
    assert!(t.abs_diff(now) < 5_000_000_000);
    assert_eq!(rt.caller(), Principal::anonymous());
    let alice = Principal::from_slice(&[1, 2, 3]);
    assert_eq!(rt.with_caller(alice).caller(), alice);
}

#[test]
fn controllers_and_certified_data_are_the_runtimes() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    assert!(rt.is_controller(&dev_controller()));
    assert!(!rt.is_controller(&Principal::anonymous()));
    let operator = Principal::from_text("ryjl3-tyaaa-aaaaa-aaaba-cai").unwrap();
    let other =
        NativeRuntime::open_with_controllers(dir.path(), rt.canister_id(), [operator]).unwrap();
    assert!(other.is_controller(&operator));
    assert!(!other.is_controller(&dev_controller()));

    assert_eq!(rt.certified_data(), [0; 32]);
    rt.with_caller(operator).set_certified_data(&[7; 32]);
    assert_eq!(
        rt.certified_data(),
        [7; 32],
        "clones share the certified data"
    );
    assert_eq!(rt.data_certificate(), None);
}
