//! Running the real `heaven` binary in integration tests: every port 0 (the OS picks), a private
//! data dir, the printed service table parsed, Ctrl-C on drop.

#![allow(dead_code)] // each test file uses a different part of this helper

pub mod d1_dump;
pub mod postgres;
pub mod rooms;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

/// A running `heaven` process and the service table it printed.
pub struct Heaven {
    child: Child,
    /// (service, url, status) rows of the table.
    pub rows: Vec<(String, String, String)>,
}

impl Heaven {
    /// Starts `heaven <args>` on `data_dir` with `env` on top of a clean environment and waits
    /// for its service table. With `capture_stderr`, logs are kept for [`Heaven::stop`].
    pub fn start(
        args: &[&str],
        data_dir: &Path,
        env: &[(&str, &str)],
        capture_stderr: bool,
    ) -> Heaven {
        let mut child = Command::new(env!("CARGO_BIN_EXE_heaven"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HEAVEN_DATA_DIR", data_dir)
            .env("API_PORT", "0")
            .env("METADATA_RESOLVER_PORT", "0")
            .env("VOICE_AGENT_PORT", "0")
            .env("VOICE_ROOMS_PORT", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(if capture_stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("heaven binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut rows = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("readable stdout");
            if line.starts_with("data:") {
                break;
            }
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.first() == Some(&"service") {
                continue;
            }
            assert!(cols.len() >= 3, "unexpected table line {line:?}");
            rows.push((cols[0].to_owned(), cols[1].to_owned(), cols[2..].join(" ")));
        }
        assert!(
            !rows.is_empty(),
            "heaven exited before printing its service table"
        );
        Heaven { child, rows }
    }

    /// The URL the table lists for `service`.
    pub fn url(&self, service: &str) -> String {
        let row = self.rows.iter().find(|r| r.0 == service);
        row.unwrap_or_else(|| panic!("{service} not in {:?}", self.rows))
            .1
            .clone()
    }

    /// Sends Ctrl-C (SIGINT), waits for the exit and returns it with the captured stderr.
    pub fn stop(mut self) -> (ExitStatus, String) {
        interrupt(&self.child);
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut stderr).unwrap();
        }
        (status, stderr)
    }
}

impl Heaven {
    /// The process id, for reading its `/proc` entries.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no shutdown, no drain) and waits for it.
    pub fn kill(mut self) -> ExitStatus {
        self.child.kill().expect("SIGKILL delivered");
        self.child.wait().unwrap()
    }
}

impl Drop for Heaven {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            interrupt(&self.child);
            let _ = self.child.wait();
        }
    }
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -INT failed");
}

/// Runs `heaven <args>` to completion; returns its exit code, stdout and stderr.
pub fn run_to_end(args: &[&str], data_dir: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_heaven"))
        .args(args)
        .env_clear()
        .env("HEAVEN_DATA_DIR", data_dir)
        .env("API_PORT", "0")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A free port on 127.0.0.1 (bound, then released for a child process to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Marks `addresses` Self-verified in the identity canister of `data_dir` (`heaven migrate
/// identity-import`, stack stopped).
pub fn import_identities(data_dir: &Path, addresses: &[&str]) {
    let identities: Vec<serde_json::Value> = addresses
        .iter()
        .map(|address| {
            serde_json::json!({
                "address": address,
                "nullifierHash": format!("0x{}", "cd".repeat(32)),
                "verifiedAt": 1_771_600_000u64,
            })
        })
        .collect();
    let file = data_dir.join("identities.json");
    std::fs::write(
        &file,
        serde_json::json!({ "identities": identities }).to_string(),
    )
    .unwrap();
    let (code, _, stderr) = run_to_end(
        &["migrate", "identity-import", file.to_str().unwrap()],
        data_dir,
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
}
