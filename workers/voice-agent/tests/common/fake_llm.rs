//! A fake OpenAI-compatible provider on a raw TCP socket, so its timing is exact: each request
//! is answered with one scripted [`Reply`] (JSON, or an event stream written chunk by chunk
//! with chunked transfer encoding, optionally cut off mid-body). It records request bodies and
//! notices when the reader of a stream goes away (a write fails).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The terminating chunk is sent.
    Complete,
    /// The socket is closed mid-body (an upstream failure).
    Abort,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A whole response.
    Whole {
        /// Status.
        status: u16,
        /// Content type.
        content_type: &'static str,
        /// Body.
        body: String,
    },
    /// An event stream: (delay before, bytes) pieces.
    Stream {
        /// The pieces.
        pieces: Vec<(Duration, Vec<u8>)>,
        /// How it ends.
        ending: Ending,
    },
}

impl Reply {
    /// `text` split into `size`-byte pieces sent `every` apart.
    pub fn chunked(text: &str, size: usize, every: Duration) -> Reply {
        Reply::Stream {
            pieces: text
                .as_bytes()
                .chunks(size)
                .map(|c| (every, c.to_vec()))
                .collect(),
            ending: Ending::Complete,
        }
    }

    /// One OpenAI chunk event per token, `every` apart, then `[DONE]`.
    pub fn tokens(tokens: &[&str], every: Duration) -> Reply {
        let mut pieces: Vec<(Duration, Vec<u8>)> = tokens
            .iter()
            .map(|t| (every, content_event(t).into_bytes()))
            .collect();
        pieces.push((every, b"data: [DONE]\n\n".to_vec()));
        Reply::Stream {
            pieces,
            ending: Ending::Complete,
        }
    }
}

/// `data: {"choices":[{"index":0,"delta":{"content":<text>}}]}\n\n`.
pub fn content_event(text: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]})
    )
}

/// The running fake.
pub struct FakeLlm {
    /// `http://127.0.0.1:<port>` (use as `LLM_BASE_URL`).
    pub base: String,
    /// Request bodies received.
    pub requests: Arc<Mutex<Vec<Value>>>,
    /// Authorization headers received.
    pub authorizations: Arc<Mutex<Vec<String>>>,
    /// Set when a stream's reader disappeared before the stream ended.
    pub reader_gone: Arc<AtomicBool>,
    /// Streams fully written.
    pub completed: Arc<AtomicUsize>,
    /// Stream pieces written so far (all requests).
    pub written: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLlm {
    /// Serves `reply` to every request.
    pub async fn start(reply: Reply) -> FakeLlm {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let authorizations = Arc::new(Mutex::new(Vec::new()));
        let reader_gone = Arc::new(AtomicBool::new(false));
        let completed = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(AtomicUsize::new(0));
        let (req, auth, gone, done, wrote) = (
            requests.clone(),
            authorizations.clone(),
            reader_gone.clone(),
            completed.clone(),
            written.clone(),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let counters = Counters {
                    requests: req.clone(),
                    authorizations: auth.clone(),
                    reader_gone: gone.clone(),
                    completed: done.clone(),
                    written: wrote.clone(),
                };
                let reply = reply.clone();
                tokio::spawn(async move {
                    serve(socket, reply, counters).await;
                });
            }
        });
        FakeLlm {
            base,
            requests,
            authorizations,
            reader_gone,
            completed,
            written,
            task,
        }
    }

    /// The last request body.
    pub fn last_request(&self) -> Value {
        self.requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request")
    }
}

/// What a connection reports back.
struct Counters {
    requests: Arc<Mutex<Vec<Value>>>,
    authorizations: Arc<Mutex<Vec<String>>>,
    reader_gone: Arc<AtomicBool>,
    completed: Arc<AtomicUsize>,
    written: Arc<AtomicUsize>,
}

async fn serve(socket: TcpStream, reply: Reply, counters: Counters) {
    let Counters {
        requests,
        authorizations,
        reader_gone,
        completed,
        written,
    } = counters;
    let mut reader = BufReader::new(socket);
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization:") {
            authorizations
                .lock()
                .unwrap()
                .push(line[14..].trim().to_owned());
        }
    }
    let mut body = vec![0u8; content_length];
    if reader.read_exact(&mut body).await.is_err() {
        return;
    }
    requests
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    let mut socket = reader.into_inner();
    match reply {
        Reply::Whole {
            status,
            content_type,
            body,
        } => {
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\nx-fake: yes\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        }
        Reply::Stream { pieces, ending } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-fake: yes\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                reader_gone.store(true, Ordering::SeqCst);
                return;
            }
            for (delay, piece) in pieces {
                tokio::time::sleep(delay).await;
                let mut frame = format!("{:x}\r\n", piece.len()).into_bytes();
                frame.extend_from_slice(&piece);
                frame.extend_from_slice(b"\r\n");
                if socket.write_all(&frame).await.is_err() || socket.flush().await.is_err() {
                    reader_gone.store(true, Ordering::SeqCst);
                    return;
                }
                written.fetch_add(1, Ordering::SeqCst);
            }
            if ending == Ending::Complete {
                let _ = socket.write_all(b"0\r\n\r\n").await;
                completed.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    let _ = socket.shutdown().await;
}
