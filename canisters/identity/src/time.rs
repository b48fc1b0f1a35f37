//! The time of the current message, as every route and event reads it.

/// The time of the current message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Nanoseconds since the Unix epoch.
    pub ns: u64,
}

impl Now {
    /// From nanoseconds.
    pub fn from_ns(ns: u64) -> Self {
        Self { ns }
    }

    /// From whole seconds (tests).
    pub fn from_secs(secs: u64) -> Self {
        Self {
            ns: secs * 1_000_000_000,
        }
    }

    /// Whole seconds.
    pub fn secs(&self) -> u64 {
        self.ns / 1_000_000_000
    }

    /// Whole milliseconds.
    pub fn millis(&self) -> u64 {
        self.ns / 1_000_000
    }
}
