//! Running programs: echo the command line, run it (inheriting the terminal, capturing, or both
//! at once with [`tee`]) and turn a failure into an [`Error`].

use std::{
    env,
    ffi::OsStr,
    io::{self, Read, Write},
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    thread,
};

use crate::error::{Error, Result};

/// The command line of `cmd`, for messages (`cargo build --release ...`; the toolchain's cargo
/// shows as plain `cargo`).
pub fn display(cmd: &Command) -> String {
    let program = cmd.get_program();
    let program = if Path::new(program).file_name() == Some(OsStr::new("cargo")) {
        OsStr::new("cargo")
    } else {
        program
    };
    std::iter::once(program)
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `Command` for cargo: the cargo running this xtask (`$CARGO`), else `cargo` from `PATH`.
pub fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd` with the terminal inherited, after echoing `$ <command line>`; fails unless it
/// exits successfully.
pub fn run(cmd: &mut Command) -> Result<()> {
    println!("$ {}", display(cmd));
    let status = cmd.status().map_err(|source| Error::Spawn {
        command: display(cmd),
        source,
    })?;
    check(cmd, status, String::new())
}

/// Runs `cmd` quietly and returns its stdout; on failure the error carries its stderr.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            command: display(cmd),
            source,
        })?;
    check(
        cmd,
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `cmd` can be started and exits successfully (output discarded).
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` streaming its stdout and stderr to ours as they come, and also returns both
/// (not interleaved: all stdout text, then all stderr text) with the exit status.
pub fn tee(cmd: &mut Command) -> Result<(ExitStatus, String)> {
    println!("$ {}", display(cmd));
    tee_to(cmd, io::stdout(), io::stderr())
}

/// [`tee`] with the copies going to `out` and `err` instead of our stdout and stderr.
fn tee_to(
    cmd: &mut Command,
    out: impl Write + Send + 'static,
    err: impl Write + Send + 'static,
) -> Result<(ExitStatus, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            command: display(cmd),
            source,
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let out = thread::spawn(move || copy_and_keep(stdout, out));
    let err = thread::spawn(move || copy_and_keep(stderr, err));
    let status = child.wait().map_err(|source| Error::Spawn {
        command: display(cmd),
        source,
    })?;
    let mut captured = out.join().unwrap_or_default();
    captured.push_str(&err.join().unwrap_or_default());
    Ok((status, captured))
}

/// Copies `from` to `to` chunk by chunk (flushing each), returning everything copied.
fn copy_and_keep(mut from: impl Read, mut to: impl Write) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                kept.extend_from_slice(&buf[..n]);
                let _ = to.write_all(&buf[..n]).and_then(|()| to.flush());
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Turns a non-success `status` of `cmd` into [`Error::Command`].
pub fn check(cmd: &Command, status: ExitStatus, detail: String) -> Result<()> {
    if status.success() {
        Ok(())
    } else {
        Err(Error::Command {
            command: display(cmd),
            status,
            detail,
        })
    }
}

/// The path of executable `name` in a `PATH` directory, if any.
pub fn on_path(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tee_captures_both_streams_and_status() {
        // Sinks, not our stdout: libtest does not capture direct writes, and `cargo xtask test`
        // parses this crate's test output too.
        let (status, out) = tee_to(
            Command::new("sh").args(["-c", "echo to-stdout; echo to-stderr >&2; exit 3"]),
            io::sink(),
            io::sink(),
        )
        .unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!(out, "to-stdout\nto-stderr\n");
    }

    #[test]
    fn run_and_output_report_failures() {
        assert!(run(Command::new("sh").args(["-c", "true"])).is_ok());
        let err = output(Command::new("sh").args(["-c", "echo oops >&2; exit 1"])).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("sh -c") && message.contains("oops"),
            "{message}"
        );
        assert!(matches!(
            run(&mut Command::new("/nonexistent/xtask-test-binary")),
            Err(Error::Spawn { .. })
        ));
        assert!(!succeeds(Command::new("sh").args(["-c", "exit 1"])));
    }
}
