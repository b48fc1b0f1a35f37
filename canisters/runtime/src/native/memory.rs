//! Host memories for native canisters, and message atomicity on them.
//!
//! On the IC a message that traps leaves no trace: its writes since its last `await` are
//! discarded. Natively the same holds through [`run_segment`] and [`Segmented`]: while a
//! segment runs, every write to a [`HostMemory`] first saves the bytes it overwrites; a panic
//! puts them back (newest first) before the panic is reported, a normal end forgets them. The
//! hook registered with [`after_undo`] then runs, so the canister can open its state again from
//! the restored memory (on the IC the heap is rolled back with the memory; here the heap
//! handles of the stable structures are rebuilt from it).
//!
//! A memory file holds one canister's stable memory; it is created private (0600) and locked
//! while open, so two canisters (or two processes) never share it.

use std::cell::{Cell, RefCell};
use std::fs::{File, OpenOptions, TryLockError};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use ic_stable_structures::{FileMemory, Memory, VectorMemory};

/// A stable-memory page (64 KiB); a memory file is always a whole number of pages.
const WASM_PAGE_BYTES: u64 = 64 * 1024;

/// Bytes a write replaced: where, in which memory, and what was there.
struct Overwritten {
    memory: HostMemory,
    offset: u64,
    old: Vec<u8>,
}

thread_local! {
    /// The undo log of the segment running on this thread (`None` outside segments).
    static UNDO: RefCell<Option<Vec<Overwritten>>> = const { RefCell::new(None) };
    /// What runs on this thread after a segment's writes were undone.
    static AFTER_UNDO: Cell<Option<fn()>> = const { Cell::new(None) };
}

/// Registers `hook` to run on this thread after a panicked segment's writes were put back
/// (a canister opens its state again from memory there). One hook per thread; a later call
/// replaces it.
pub fn after_undo(hook: fn()) {
    AFTER_UNDO.with(|h| h.set(Some(hook)));
}

/// Runs `f` as one atomic segment of a message: if it panics, every host-memory write it made
/// is undone, the [`after_undo`] hook runs and the panic payload is returned. A segment inside
/// a segment is part of the outer one.
pub fn run_segment<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let nested = UNDO.with_borrow_mut(|undo| {
        let nested = undo.is_some();
        if !nested {
            *undo = Some(Vec::new());
        }
        nested
    });
    if nested {
        return Ok(f());
    }
    let result = catch_unwind(AssertUnwindSafe(f));
    let log = UNDO.with_borrow_mut(Option::take).unwrap_or_default();
    if result.is_err() {
        for entry in log.into_iter().rev() {
            entry.memory.write_raw(entry.offset, &entry.old);
        }
        if let Some(hook) = AFTER_UNDO.with(Cell::get) {
            hook();
        }
    }
    result
}

/// A future whose every poll is a [`run_segment`]: the writes between two `await` points
/// commit together or, on a panic, not at all (the future then ends with the payload and is
/// not polled again), as a canister message's do.
pub struct Segmented<T> {
    inner: Option<Pin<Box<dyn Future<Output = T>>>>,
}

impl<T> Segmented<T> {
    /// Wraps `future`.
    pub fn new(future: impl Future<Output = T> + 'static) -> Self {
        Self {
            inner: Some(Box::pin(future)),
        }
    }
}

impl<T> Future for Segmented<T> {
    type Output = std::thread::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Pending;
        };
        match run_segment(|| inner.as_mut().poll(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => {
                this.inner = None;
                Poll::Ready(Ok(value))
            }
            Err(payload) => {
                this.inner = None;
                Poll::Ready(Err(payload))
            }
        }
    }
}

/// A memory on the host: a file (persistent) or a vector (volatile).
#[derive(Clone)]
pub enum HostMemory {
    /// Lost when the process ends (tests).
    Volatile(VectorMemory),
    /// Written through to a file on every change (the local stack).
    File(FileMemory),
}

impl HostMemory {
    /// A fresh in-memory memory.
    pub fn volatile() -> Self {
        Self::Volatile(VectorMemory::default())
    }

    /// Opens (or creates, private to the user) the memory file of the canister called
    /// `canister` (named in the error when another canister holds the file) at `path`.
    pub fn open_file(path: &Path, canister: &str) -> std::io::Result<Self> {
        let file = open_private(path)?;
        // One canister per state file: a second process (or a second canister thread) on the
        // same file would corrupt it. The lock ends when the memory is dropped.
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    format!(
                        "the file is in use by another {canister} canister (another `heaven` on \
                         the same data dir?)"
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
        let len = file.metadata()?.len();
        if len % WASM_PAGE_BYTES != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{} is {len} bytes, not a whole number of 64 KiB pages",
                    path.display()
                ),
            ));
        }
        Ok(Self::File(FileMemory::new(file)))
    }
}

/// Opens `path` for reading and writing; created with mode 0600, and an existing file is made
/// private too (it holds a canister's whole state).
#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    let mut permissions = file.metadata()?.permissions();
    if permissions.mode() & 0o077 != 0 {
        permissions.set_mode(permissions.mode() & 0o700);
        file.set_permissions(permissions)?;
    }
    Ok(file)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// Creates `dir` (and missing parents) for canister state: a directory this call creates is
/// private to the user (0700); an existing one is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

impl Memory for HostMemory {
    fn size(&self) -> u64 {
        match self {
            Self::Volatile(m) => m.size(),
            Self::File(m) => m.size(),
        }
    }

    fn grow(&self, pages: u64) -> i64 {
        match self {
            Self::Volatile(m) => m.grow(pages),
            Self::File(m) => m.grow(pages),
        }
    }

    fn read(&self, offset: u64, dst: &mut [u8]) {
        match self {
            Self::Volatile(m) => m.read(offset, dst),
            Self::File(m) => m.read(offset, dst),
        }
    }

    fn write(&self, offset: u64, src: &[u8]) {
        self.save_overwritten(offset, src.len());
        self.write_raw(offset, src);
    }
}

impl HostMemory {
    fn write_raw(&self, offset: u64, src: &[u8]) {
        match self {
            Self::Volatile(m) => m.write(offset, src),
            Self::File(m) => m.write(offset, src),
        }
    }

    /// Inside a segment, keeps what `len` bytes at `offset` hold before they are written.
    fn save_overwritten(&self, offset: u64, len: usize) {
        UNDO.with_borrow_mut(|undo| {
            let Some(log) = undo.as_mut() else {
                return;
            };
            let end = offset
                .saturating_add(len as u64)
                .min(self.size().saturating_mul(WASM_PAGE_BYTES));
            if end <= offset {
                return;
            }
            let mut old = vec![0; (end - offset) as usize];
            self.read(offset, &mut old);
            log.push(Overwritten {
                memory: self.clone(),
                offset,
                old,
            });
        });
    }
}

#[cfg(test)]
mod tests;
