//! Size limits are enforced while the body streams in: a 2 GB upload to
//! `/api/music/publish/start` (limit 50 MiB) and to `/api/arweave/cover` (100 KiB) is answered
//! with the original's 400 as soon as the limit is passed, the server stops reading (the
//! client manages to send only a small part of the 2 GB), and the process's peak memory grows
//! by a few MiB, not by the body. One test in this binary, so the peak is this test's own.

mod common;

use std::time::Duration;

use common::{Media, USER};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TWO_GB: u64 = 2 << 30;
const BOUNDARY: &str = "xXmediaLimitTestXx";

/// Peak resident memory of this process so far (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Sends a multipart body whose `file` part is `size` bytes generated on the fly, reading the
/// answer meanwhile. Returns status, JSON body and how many body bytes were written before
/// the server stopped reading.
async fn stream_upload(media: &Media, path: &str, size: u64) -> (u16, Value, u64) {
    let addr = media.base.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let prefix = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: audio/mpeg\r\n\r\n"
    );
    let suffix = format!("\r\n--{BOUNDARY}--\r\n");
    let length = prefix.len() as u64 + size + suffix.len() as u64;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-User-Address: {USER}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\r\n{prefix}"
    );
    let write = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![0x5au8; 1 << 20];
        let mut sent = 0u64;
        while sent < size {
            let n = chunk.len().min((size - sent) as usize);
            if writer.write_all(&chunk[..n]).await.is_err() {
                return sent;
            }
            sent += n as u64;
        }
        let _ = writer.write_all(suffix.as_bytes()).await;
        sent
    });
    let mut response = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let answer = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let n = reader.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            response.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&response).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    break;
                }
            }
        }
    })
    .await;
    assert!(answer.is_ok(), "no answer within 2 minutes");
    let text = String::from_utf8_lossy(&response).to_string();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    // The server closes the connection after answering: the writer fails instead of pushing
    // the remaining gigabytes.
    drop(reader);
    let sent = tokio::time::timeout(Duration::from_secs(60), write)
        .await
        .expect("the writer stops once the server stops reading")
        .unwrap();
    (status, serde_json::from_str(body).unwrap(), sent)
}

#[tokio::test]
async fn two_gigabyte_bodies_are_refused_while_streaming() {
    let media = Media::start().await;
    let before = peak_rss();

    let (status, body, sent) = stream_upload(&media, "/api/music/publish/start", TWO_GB).await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"].as_str().unwrap();
    let n: u64 = message
        .strip_prefix("File too large: ")
        .and_then(|m| m.strip_suffix(" > 52428800"))
        .unwrap_or_else(|| panic!("{message}"))
        .parse()
        .unwrap();
    assert!(n > 50 << 20 && n <= (51 << 20) + (1 << 20), "{n}");
    assert!(
        sent < 256 << 20,
        "the server read {sent} bytes of a 2 GB body"
    );

    let (status, body, sent) = stream_upload(&media, "/api/arweave/cover", TWO_GB).await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.starts_with("Cover too large: ") && message.ends_with(" > 102400"),
        "{message}"
    );
    assert!(
        sent < 128 << 20,
        "the server read {sent} bytes of a 2 GB body"
    );

    let growth = peak_rss().saturating_sub(before);
    println!(
        "peak RSS growth over two 2 GB uploads: {} MiB",
        growth >> 20
    );
    assert!(growth < 32 << 20, "peak memory grew by {growth} bytes");
    assert_eq!(media.load.upload_count(), 0);
    assert!(
        std::fs::read_dir(media.spool_dir())
            .unwrap()
            .next()
            .is_none(),
        "spool emptied"
    );
}
