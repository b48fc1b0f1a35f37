//! A native canister on its own thread, as single-threaded as it is on the IC.
//!
//! Stable structures are `!Send`, so a canister's state lives on one dedicated thread with a
//! current-thread tokio runtime and a `LocalSet`. Requests reach it through a channel: a
//! query is answered in order on the thread, an update runs as a local task (a slow outcall
//! does not hold up other requests, as on the IC), periodic jobs run there too. Every stretch
//! of work between two awaits is a [`run_segment`]: a panic undoes its writes, as a trap does.
//!
//! The canister crate says what a query, an update and a trap answer are
//! ([`NativeCanister`]); [`CanisterThread`] is the handle the local stack keeps.

use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::memory::{Segmented, run_segment};

/// Requests waiting for the canister thread before senders wait in turn.
const QUEUE_DEPTH: usize = 1024;

/// What a canister served by a [`CanisterThread`] answers. Built on the thread (by the `open`
/// function given to [`CanisterThread::start`]), so it need not be `Send`.
pub trait NativeCanister: 'static {
    /// A request from outside (e.g. an HTTP request).
    type Request: Send + 'static;
    /// Its answer.
    type Response: Send + 'static;

    /// Answers `request` read-only when it can, as a query; `None` sends it on as an update.
    fn query(&self, request: &Self::Request) -> Option<Self::Response>;

    /// The update answering `request`, polled on the canister thread.
    fn update(&self, request: Self::Request) -> impl Future<Output = Self::Response> + 'static;

    /// Names `request` in the log line of a trap (e.g. method and path).
    fn describe(request: &Self::Request) -> String;

    /// The answer to a request whose query or update panicked.
    fn trapped(&self) -> Self::Response;

    /// Jobs to run periodically on the thread (timers), each run as one segment.
    fn periodic(&self) -> Vec<Periodic> {
        Vec::new()
    }
}

/// A job run every `interval` on the canister thread, first after one interval; missed runs
/// are skipped, never run concurrently.
pub struct Periodic {
    /// Names the job in the log line when it panics.
    pub name: &'static str,
    /// Time between runs.
    pub interval: Duration,
    /// The job.
    pub job: Box<dyn Fn()>,
}

/// Why a [`CanisterThread`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError<E> {
    /// The thread or its tokio runtime could not be created.
    #[error("cannot start the canister thread: {0}")]
    Thread(std::io::Error),
    /// The canister's `open` function failed.
    #[error(transparent)]
    Open(E),
    /// The thread ended before saying whether the canister opened.
    #[error("the canister thread stopped while starting")]
    Stopped,
}

/// Why a message to a running [`CanisterThread`] got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ThreadError {
    /// The thread is gone (it stopped or failed to start).
    #[error("the canister thread has stopped")]
    Stopped,
    /// A job run with [`CanisterThread::run`] panicked (its writes were undone).
    #[error("a job panicked on the canister thread")]
    Panicked,
}

/// A message to the canister thread.
enum Message<Req, Resp> {
    /// A request to answer.
    Request {
        request: Req,
        reply: oneshot::Sender<Resp>,
    },
    /// A closure to run on the thread (imports, tests).
    Run(Box<dyn FnOnce() + Send>),
}

/// Owns the thread: dropping the last handle closes the channel and joins it.
struct Shared<Req, Resp> {
    sender: Option<mpsc::Sender<Message<Req, Resp>>>,
    thread: Option<JoinHandle<()>>,
}

impl<Req, Resp> Drop for Shared<Req, Resp> {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; in-flight updates are dropped with it.
        self.sender.take();
        if let Some(thread) = self.thread.take() {
            let name = thread.thread().name().unwrap_or("canister").to_string();
            if thread.thread().id() != std::thread::current().id() && thread.join().is_err() {
                crate::print(&format!("the {name} thread panicked"));
            }
        }
    }
}

/// Handle to a canister running on its own thread. Cheap to clone; the thread stops when the
/// last clone is dropped.
pub struct CanisterThread<C: NativeCanister> {
    shared: Arc<Shared<C::Request, C::Response>>,
}

impl<C: NativeCanister> Clone for CanisterThread<C> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<C: NativeCanister> std::fmt::Debug for CanisterThread<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CanisterThread").finish_non_exhaustive()
    }
}

impl<C: NativeCanister> CanisterThread<C> {
    /// Starts the thread `name`; on it, `open` lays the canister out (installs or upgrades it)
    /// and this returns once it did, or with its error.
    pub fn start<E: Send + 'static>(
        name: &str,
        open: impl FnOnce() -> Result<C, E> + Send + 'static,
    ) -> Result<Self, StartError<E>> {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || thread_body(open, ready_tx, receiver))
            .map_err(StartError::Thread)?;
        let shared = Arc::new(Shared {
            sender: Some(sender),
            thread: Some(thread),
        });
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self { shared }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(StartError::Stopped),
        }
    }

    async fn send(&self, message: Message<C::Request, C::Response>) -> Result<(), ThreadError> {
        let sender = self.shared.sender.as_ref().ok_or(ThreadError::Stopped)?;
        sender.send(message).await.map_err(|_| ThreadError::Stopped)
    }

    /// Answers `request`: read-only on the thread when the canister can, else as an update
    /// task. A request whose handler panicked is answered with [`NativeCanister::trapped`];
    /// `Err` only when the thread is gone.
    pub async fn call(&self, request: C::Request) -> Result<C::Response, ThreadError> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::Request { request, reply }).await?;
        answer.await.map_err(|_| ThreadError::Stopped)
    }

    /// Runs `f` on the canister thread, as one segment, and returns what it returned.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ThreadError> {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(move || {
            let _ = reply.send(run_segment(f).ok());
        });
        self.send(Message::Run(job)).await?;
        answer
            .await
            .map_err(|_| ThreadError::Stopped)?
            .ok_or(ThreadError::Panicked)
    }
}

type Ready<E> = std::sync::mpsc::SyncSender<Result<(), StartError<E>>>;

/// The body of the canister thread: a current-thread runtime and a `LocalSet` (update futures
/// hold `!Send` state only through the runtime, never across threads).
fn thread_body<C: NativeCanister, E>(
    open: impl FnOnce() -> Result<C, E>,
    ready: Ready<E>,
    receiver: mpsc::Receiver<Message<C::Request, C::Response>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(StartError::Thread(e)));
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let canister = match open() {
            Ok(canister) => Arc::new(canister),
            Err(e) => {
                let _ = ready.send(Err(StartError::Open(e)));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        let timers: Vec<_> = canister
            .periodic()
            .into_iter()
            .map(|periodic| tokio::task::spawn_local(run_periodically(periodic)))
            .collect();
        serve(&canister, receiver).await;
        for timer in timers {
            timer.abort();
        }
    });
}

/// Answers messages until every handle is dropped.
async fn serve<C: NativeCanister>(
    canister: &Arc<C>,
    mut receiver: mpsc::Receiver<Message<C::Request, C::Response>>,
) {
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Request { request, reply } => match run_segment(|| canister.query(&request)) {
                Ok(Some(response)) => {
                    let _ = reply.send(response);
                }
                Ok(None) => {
                    let description = C::describe(&request);
                    // Each stretch between awaits commits on its own; a panic undoes the
                    // stretch it happened in, as a trap does on the IC.
                    let update = Segmented::new(canister.update(request));
                    let canister = canister.clone();
                    tokio::task::spawn_local(async move {
                        let response = update.await.unwrap_or_else(|_| {
                            crate::print(&format!("update {description} panicked"));
                            canister.trapped()
                        });
                        let _ = reply.send(response);
                    });
                }
                Err(_) => {
                    crate::print(&format!("query {} panicked", C::describe(&request)));
                    let _ = reply.send(canister.trapped());
                }
            },
            Message::Run(job) => job(),
        }
    }
}

/// Runs `periodic`'s job every interval, each run one segment.
async fn run_periodically(periodic: Periodic) {
    let start = tokio::time::Instant::now() + periodic.interval;
    let mut ticks = tokio::time::interval_at(start, periodic.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        if run_segment(&periodic.job).is_err() {
            crate::print(&format!("the periodic job {} panicked", periodic.name));
        }
    }
}

#[cfg(test)]
mod tests;
