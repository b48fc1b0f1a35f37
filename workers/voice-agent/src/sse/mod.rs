//! Server-sent events: turning an upstream OpenAI chunk stream into what our clients read.
//!
//! - [`ChatEventTranslator`]: `/chat/stream`'s `data: {"delta":..}` / `data: {"done":..}` events.
//! - [`CompletionChunkFilter`]: `/v1/chat/completions`' filtered OpenAI chunks for Agora.
//! - [`relay`]: drives either one over the upstream byte stream with backpressure, idle
//!   keep-alive comments, an idle timeout, and cancellation when the client goes away.

pub mod chat_events;
pub mod completion_chunks;
pub mod relay;

pub use chat_events::ChatEventTranslator;
pub use completion_chunks::CompletionChunkFilter;

/// Splits complete `\n`-terminated lines off a byte buffer (the partial tail stays buffered),
/// decoding each line as UTF-8 with replacement characters, as a streaming `TextDecoder` does.
#[derive(Debug, Default)]
pub struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Appends `chunk` and returns the lines it completed, without their `\n`.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let Some(last_newline) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let rest = self.pending.split_off(last_newline + 1);
        let complete = std::mem::replace(&mut self.pending, rest);
        complete[..complete.len() - 1]
            .split(|&b| b == b'\n')
            .map(|line| String::from_utf8_lossy(line).into_owned())
            .collect()
    }

    /// The unterminated tail left at end of stream (empty when none).
    pub fn take_rest(&mut self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_anywhere_including_inside_utf8() {
        let text = "data: é\n\ndata: [DONE]";
        let bytes = text.as_bytes();
        let mut buffer = LineBuffer::default();
        let mut lines = Vec::new();
        for byte in bytes {
            lines.extend(buffer.push(std::slice::from_ref(byte)));
        }
        assert_eq!(lines, ["data: é", ""]);
        assert_eq!(buffer.take_rest(), "data: [DONE]");
    }
}
