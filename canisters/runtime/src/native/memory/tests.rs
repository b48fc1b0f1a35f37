//! Tests of message atomicity on host memories, the undo hook, and the memory file's lock and
//! permissions.

use std::cell::Cell;

use super::*;

fn memory_with(bytes: &[u8]) -> HostMemory {
    let memory = HostMemory::volatile();
    assert_eq!(memory.grow(1), 0);
    memory.write(0, bytes);
    memory
}

fn first_bytes(memory: &HostMemory) -> [u8; 4] {
    let mut out = [0; 4];
    memory.read(0, &mut out);
    out
}

#[test]
fn a_panicking_segment_is_undone_newest_write_first() {
    let memory = memory_with(b"abcd");
    let result = run_segment(|| {
        memory.write(0, b"xx");
        memory.write(1, b"yy");
        panic!("trap");
    });
    assert!(result.is_err());
    assert_eq!(&first_bytes(&memory), b"abcd");
    // Writes outside any segment are not logged and stay.
    memory.write(0, b"z");
    assert_eq!(&first_bytes(&memory), b"zbcd");
}

#[test]
fn a_segment_that_ends_normally_keeps_its_writes() {
    let memory = memory_with(b"abcd");
    let value = run_segment(|| {
        memory.write(2, b"CD");
        run_segment(|| memory.write(0, b"A")).unwrap();
        7
    });
    assert_eq!(value.unwrap(), 7);
    assert_eq!(&first_bytes(&memory), b"AbCD");
}

thread_local! {
    static UNDONE: Cell<u32> = const { Cell::new(0) };
}

fn count_undo() {
    UNDONE.with(|u| u.set(u.get() + 1));
}

#[test]
fn the_undo_hook_runs_after_a_panic_only() {
    after_undo(count_undo);
    let memory = memory_with(b"abcd");
    run_segment(|| memory.write(0, b"x")).unwrap();
    assert_eq!(UNDONE.with(Cell::get), 0);
    assert!(run_segment(|| panic!("trap")).is_err());
    assert_eq!(UNDONE.with(Cell::get), 1);
}

#[tokio::test]
async fn a_panic_after_an_await_undoes_only_the_stretch_since_that_await() {
    let memory = memory_with(b"abcd");
    let writer = memory.clone();
    let message = Segmented::new(async move {
        writer.write(0, b"1");
        tokio::task::yield_now().await;
        writer.write(1, b"2");
        panic!("trap after the await");
    });
    assert!(message.await.is_err());
    assert_eq!(&first_bytes(&memory), b"1bcd");
}

#[test]
fn a_memory_file_opens_once_at_a_time_and_names_the_canister() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.stable");
    let first = HostMemory::open_file(&path, "credits").unwrap();
    let err = HostMemory::open_file(&path, "credits").err().unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    assert!(
        err.to_string()
            .starts_with("the file is in use by another credits canister"),
        "{err}"
    );
    drop(first);
    HostMemory::open_file(&path, "credits").unwrap();
}

#[cfg(unix)]
#[test]
fn the_memory_file_and_a_new_state_dir_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data").join("canisters");
    create_private_dir(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&root.path().join("data")), 0o700);
    let path = dir.join("state.stable");
    drop(HostMemory::open_file(&path, "identity").unwrap());
    assert_eq!(mode(&path), 0o600);
    // A file left readable by others (an older build, a copy) is made private when opened.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(HostMemory::open_file(&path, "identity").unwrap());
    assert_eq!(mode(&path), 0o600);
}
