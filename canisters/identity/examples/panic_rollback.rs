//! The native identity canister's panic rollback, as a program built with any cargo profile
//! (`cargo xtask test` builds it with the profile deploy/Dockerfile ships `heaven` with).
//!
//! A message that panics after writing must leave no trace, in memory or in the state file,
//! and the canister must go on answering. That needs unwinding: built with `panic = "abort"`
//! this program dies at the first panic instead of printing `panic rollback: ok`.

use std::process::ExitCode;

use identity_canister::api::{ApiRequest, Now};
use identity_canister::names::registry;
use identity_canister::native::{NativeIdentity, NativeIdentityError, NativeSettings};
use identity_canister::state;

async fn check(dir: &std::path::Path) -> Result<(), String> {
    let identity =
        NativeIdentity::start(dir, NativeSettings::default()).map_err(|e| format!("start: {e}"))?;
    let events_before = identity
        .run(|| state::with(|s| s.event_count()))
        .await
        .map_err(|e| format!("reading the log: {e}"))?;
    let outcome = identity
        .run::<()>(|| {
            registry::set_reserved("bob", Some("team".into()), Now::from_secs(1));
            panic!("a message fails after a write (expected by this check)");
        })
        .await;
    if !matches!(outcome, Err(NativeIdentityError::Panicked)) {
        return Err(format!("the panicking job was not reported: {outcome:?}"));
    }
    let (reserved, events) = identity
        .run(|| state::with(|s| (s.reserved().get(&"bob".to_owned()), s.event_count())))
        .await
        .map_err(|e| format!("reading after the panic: {e}"))?;
    if reserved.is_some() || events != events_before {
        return Err("the panicked message's writes are still in the state".into());
    }
    let health = identity
        .handle(ApiRequest::new("GET", "/health", vec![], vec![]))
        .await;
    if health.status != 200 {
        return Err(format!("the canister stopped answering: {}", health.status));
    }
    drop(identity);
    let again = NativeIdentity::start(dir, NativeSettings::default())
        .map_err(|e| format!("restart: {e}"))?;
    let reserved = again
        .run(|| state::with(|s| s.reserved().get(&"bob".to_owned())))
        .await
        .map_err(|e| format!("reading after the restart: {e}"))?;
    if reserved.is_some() {
        return Err("the panicked message's writes reached the state file".into());
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("panic rollback: cannot create a temporary data dir: {e}");
            return ExitCode::FAILURE;
        }
    };
    match check(dir.path()).await {
        Ok(()) => {
            println!("panic rollback: ok");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("panic rollback: FAILED: {problem}");
            ExitCode::FAILURE
        }
    }
}
