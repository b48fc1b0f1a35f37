//! Arweave through the real local gateway `arlocal` (npm, installed by `cargo xtask test` with
//! `npm ci` in `tests/arlocal`), started on 127.0.0.1 with a free port. Data items we sign are
//! checked by arbundles, bundled into a signed transaction, unbundled by arlocal, then read,
//! status-checked and found by tag through [`ArweaveGateway`]; Irys-stored blobs report
//! `available` once Arweave serves them.
//!
//! Real clock: arlocal is another process; the tests poll it with a deadline.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use blob_store::ans104::{DataHasher, EthereumSigner};
use blob_store::{ArweaveGateway, BlobStore, TxStatus};
use common::{FakeIrys, IRYS_KEY, collect, http, memory_index};
use portability::{BlobTag, ContentAddressedBlobStore};

fn arlocal_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/arlocal")
}

/// A running arlocal, killed on drop.
struct ArLocal {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for ArLocal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ArLocal {
    async fn start() -> Self {
        let modules = arlocal_dir().join("node_modules/arlocal");
        assert!(
            modules.exists(),
            "arlocal is not installed: run `npm ci` in {} (cargo xtask test does it)",
            arlocal_dir().display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("node")
            .arg(arlocal_dir().join("start.js"))
            .arg(port.to_string())
            .arg(dir.path().join("db"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start arlocal with node: {e}"));
        let me = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/info", me.url)).await
                && r.status().is_success()
            {
                return me;
            }
            assert!(
                Instant::now() < deadline,
                "arlocal did not answer GET /info on {} within 30 s",
                me.url
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn gateway(&self) -> ArweaveGateway {
        ArweaveGateway::new(http(), &self.url)
    }

    /// Bundles the item files into one signed transaction, posts and mines it.
    fn post_bundle(&self, items: &[&Path]) -> String {
        let out = Command::new("node")
            .arg(arlocal_dir().join("post-bundle.js"))
            .arg(&self.url)
            .args(items)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "post-bundle.js failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

fn sign_item(data: &[u8], tags: &[BlobTag]) -> (String, Vec<u8>) {
    let signer = EthereumSigner::from_hex(IRYS_KEY).unwrap();
    let mut h = DataHasher::new();
    h.update(data);
    let header = signer.sign(tags, None, h.finish()).unwrap();
    let mut raw = header.to_bytes();
    raw.extend_from_slice(data);
    (header.id(), raw)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn arbundles_verifies_our_data_items() {
    assert!(
        arlocal_dir().join("node_modules/arbundles").exists(),
        "run `npm ci` in {}",
        arlocal_dir().display()
    );
    let dir = tempfile::tempdir().unwrap();
    let tags = [
        BlobTag {
            name: "Content-Type".into(),
            value: "text/plain".into(),
        },
        BlobTag {
            name: "App-Name".into(),
            value: "Heaven".into(),
        },
    ];
    let (id, raw) = sign_item(b"checked by the reference implementation", &tags);
    let file = write(dir.path(), "item", &raw);
    let out = Command::new("node")
        .arg(arlocal_dir().join("verify-item.js"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["valid"], true, "{reply}");
    assert_eq!(reply["id"], id.as_str());
    assert_eq!(reply["tags"][1]["name"], "App-Name");
    assert_eq!(reply["tags"][1]["value"], "Heaven");

    let mut tampered = raw.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let file = write(dir.path(), "tampered", &tampered);
    let out = Command::new("node")
        .arg(arlocal_dir().join("verify-item.js"))
        .arg(&file)
        .output()
        .unwrap();
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["valid"], false, "{reply}");
}

#[tokio::test]
async fn gateway_reads_status_and_tag_lookup_on_arlocal() {
    let arlocal = ArLocal::start().await;
    let gateway = arlocal.gateway();
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let marker = format!("run-{}", std::process::id());
    let tags = [
        BlobTag {
            name: "Content-Type".into(),
            value: "audio/mpeg".into(),
        },
        BlobTag {
            name: "Heaven-Test".into(),
            value: marker.clone(),
        },
    ];
    let (id, raw) = sign_item(&data, &tags);
    assert!(!gateway.available(&id).await);
    assert_eq!(gateway.status(&id).await.unwrap(), TxStatus::NotFound);

    let bundle = arlocal.post_bundle(&[&write(dir.path(), "item", &raw)]);
    // arlocal unbundles and mines asynchronously after answering: poll briefly.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match gateway.status(&bundle).await {
            Ok(TxStatus::Confirmed { block_height, .. }) => {
                assert!(block_height >= 1);
                break;
            }
            other if Instant::now() > deadline => panic!("bundle not confirmed: {other:?}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    assert!(gateway.available(&id).await, "the unbundled item is served");
    assert_eq!(
        collect(gateway.get(&id, None).await.unwrap())
            .await
            .unwrap(),
        data
    );
    let part = collect(gateway.get(&id, Some(1000..1010)).await.unwrap())
        .await
        .unwrap();
    assert_eq!(part, &data[1000..1010]);
    assert_eq!(
        gateway.find_by_tag("Heaven-Test", &marker).await.unwrap(),
        vec![id.clone()]
    );
    assert!(
        gateway
            .find_by_tag("Heaven-Test", "nothing")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn irys_blobs_become_available_once_arweave_serves_them() {
    let arlocal = ArLocal::start().await;
    let irys = FakeIrys::start().await;
    let store = BlobStore::new(
        irys.bundler(arlocal.gateway()),
        memory_index().await,
        std::env::temp_dir().join("blob-store-tests"),
    );
    let stored = store
        .put(
            bytes::Bytes::from_static(b"settlement receipt"),
            "application/json",
            &[],
        )
        .await
        .unwrap();
    let anchor = store.anchor(&stored.id).await.unwrap();
    assert_eq!(anchor.arweave_url, format!("{}/{}", arlocal.url, stored.id));
    assert!(!anchor.available);

    let raw = irys.items.lock().unwrap().get(&stored.id).cloned().unwrap();
    let dir = tempfile::tempdir().unwrap();
    arlocal.post_bundle(&[&write(dir.path(), "item", &raw)]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !store.anchor(&stored.id).await.unwrap().available {
        assert!(
            Instant::now() < deadline,
            "Arweave never served {}",
            stored.id
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
