//! The totals of a `cargo test` run: the sum over every libtest
//! `test result: ok. 3 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; ...` line
//! (unit tests, integration tests and doc-tests alike), plus how many PocketIC scenarios
//! reported `PocketIC: skipped` because no PocketIC server was configured.

use std::fmt;

/// The marker a PocketIC scenario prints when `POCKET_IC_BIN` is not set and it skips.
pub const POCKET_IC_SKIPPED: &str = "PocketIC: skipped";

/// Totals of a test run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were ignored.
    pub ignored: u64,
    /// Lines reporting a skipped PocketIC scenario.
    pub pocket_ic_skipped: u64,
}

impl Summary {
    /// Parses the (stdout and stderr) output of `cargo test`.
    pub fn parse(output: &str) -> Self {
        let mut summary = Self::default();
        for line in output.lines() {
            let line = strip_ansi(line);
            if line.contains(POCKET_IC_SKIPPED) {
                summary.pocket_ic_skipped += 1;
            }
            let Some((_, rest)) = line.split_once("test result:") else {
                continue;
            };
            let words: Vec<&str> = rest.split_whitespace().collect();
            for pair in words.windows(2) {
                let Ok(n) = pair[0].parse::<u64>() else {
                    continue;
                };
                match pair[1].trim_end_matches([';', ',', '.']) {
                    "passed" => summary.passed += n,
                    "failed" => summary.failed += n,
                    "ignored" => summary.ignored += n,
                    _ => {}
                }
            }
        }
        summary
    }

    /// The note about skipped PocketIC scenarios, when there were any.
    pub fn pocket_ic_note(&self) -> Option<String> {
        (self.pocket_ic_skipped > 0).then(|| {
            format!(
                "xtask: {} PocketIC scenarios skipped (POCKET_IC_BIN not set), not counted as passed",
                self.pocket_ic_skipped
            )
        })
    }

    /// Tests that passed and really ran: libtest reports a skipped PocketIC scenario as
    /// passed, so those are taken out.
    pub fn passed_and_ran(&self) -> u64 {
        self.passed.saturating_sub(self.pocket_ic_skipped)
    }
}

impl fmt::Display for Summary {
    /// `xtask: N passed, M failed, K ignored` (N without skipped PocketIC scenarios).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "xtask: {} passed, {} failed, {} ignored",
            self.passed_and_ran(),
            self.failed,
            self.ignored
        )
    }
}

/// Removes ANSI colour sequences (`ESC [ ... letter`), which cargo adds when forced to colour.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
