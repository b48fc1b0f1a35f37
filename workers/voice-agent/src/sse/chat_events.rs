//! `/chat/stream` events, exactly as the original writes them.
//!
//! Upstream lines are split on `\n`; only lines starting with `data: ` count, their payload
//! trimmed. `[DONE]` produces (after a held partial tag, when outside a block, as one more
//! delta) `data: {"done":true,"message":<all deltas>}`; any other payload is parsed as an
//! OpenAI chunk and `choices[0].delta.content` goes through the think filter, a non-empty
//! result becoming `data: {"delta":..}`. Unparsable lines are skipped. At end of stream an
//! unterminated last line equal to `data: [DONE]` still ends the conversation; an upstream that
//! ends without `[DONE]` produces no `done` event. Every event is `data: <json>\n\n`.

use serde_json::Value;

use super::LineBuffer;
use crate::think_filter::ThinkFilter;

/// Translates upstream bytes into `/chat/stream` events.
#[derive(Debug, Default)]
pub struct ChatEventTranslator {
    lines: LineBuffer,
    filter: ThinkFilter,
    message: String,
}

impl ChatEventTranslator {
    /// A translator at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The text sent so far (all deltas concatenated).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Feeds one upstream chunk and returns the events it completes.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut events = Vec::new();
        for line in self.lines.push(chunk) {
            self.line(&line, &mut events);
        }
        events
    }

    /// Ends the stream: the unterminated last line counts only if it is `data: [DONE]`.
    pub fn finish(&mut self) -> Vec<String> {
        let mut events = Vec::new();
        let rest = self.lines.take_rest();
        if let Some(payload) = rest.strip_prefix("data: ")
            && payload.trim() == "[DONE]"
        {
            self.done(&mut events);
        }
        events
    }

    fn line(&mut self, line: &str, events: &mut Vec<String>) {
        let Some(payload) = line.strip_prefix("data: ") else {
            return;
        };
        let payload = payload.trim();
        if payload == "[DONE]" {
            self.done(events);
            return;
        }
        let Ok(chunk) = serde_json::from_str::<Value>(payload) else {
            return;
        };
        let content = chunk
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
            .unwrap_or("");
        if content.is_empty() {
            return;
        }
        let filtered = self.filter.push(content);
        if !filtered.is_empty() {
            self.message.push_str(&filtered);
            events.push(delta_event(&filtered));
        }
    }

    fn done(&mut self, events: &mut Vec<String>) {
        // As the original: the held partial is flushed but not cleared, so a second [DONE]
        // would send it again.
        if !self.filter.pending_tag().is_empty() && !self.filter.inside_think() {
            let held = self.filter.pending_tag().to_owned();
            self.message.push_str(&held);
            events.push(delta_event(&held));
        }
        events.push(format!(
            "data: {{\"done\":true,\"message\":{}}}\n\n",
            Value::from(self.message.as_str())
        ));
    }
}

/// `data: {"delta":"<text>"}\n\n`.
pub fn delta_event(text: &str) -> String {
    format!("data: {{\"delta\":{}}}\n\n", Value::from(text))
}

/// The final event sent when the upstream fails mid-stream or goes silent: the client shows it
/// instead of waiting forever. (The original has no such event: the stream just stopped.)
pub const STREAM_ERROR_EVENT: &str = "data: {\"error\":\"AI temporarily unavailable\"}\n\n";

/// The comment sent on an idle stream so proxies keep the connection open; SSE parsers ignore it.
pub const KEEPALIVE_COMMENT: &str = ": keep-alive\n\n";

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An upstream OpenAI chunk event carrying `content`.
    pub(crate) fn content_chunk(content: &str) -> String {
        format!(
            "data: {}\n\n",
            serde_json::json!({"choices":[{"index":0,"delta":{"content":content}}]})
        )
    }

    #[test]
    fn deltas_then_done() {
        let mut t = ChatEventTranslator::new();
        let mut events = t.push(content_chunk("Hi").as_bytes());
        events.extend(t.push(content_chunk(" there").as_bytes()));
        events.extend(t.push(b"data: [DONE]\n\n"));
        assert_eq!(
            events.concat(),
            "data: {\"delta\":\"Hi\"}\n\ndata: {\"delta\":\" there\"}\n\ndata: {\"done\":true,\"message\":\"Hi there\"}\n\n"
        );
    }

    #[test]
    fn held_partial_is_sent_before_done_and_done_without_newline_counts() {
        let mut t = ChatEventTranslator::new();
        let mut events = t.push(content_chunk("a <").as_bytes());
        events.extend(t.push(b"data: [DONE]"));
        events.extend(t.finish());
        assert_eq!(
            events,
            [
                "data: {\"delta\":\"a \"}\n\n",
                "data: {\"delta\":\"<\"}\n\n",
                "data: {\"done\":true,\"message\":\"a <\"}\n\n"
            ]
        );
    }

    #[test]
    fn no_done_without_done_line() {
        let mut t = ChatEventTranslator::new();
        let events = t.push(content_chunk("x").as_bytes());
        assert_eq!(events.len(), 1);
        assert!(t.finish().is_empty());
    }

    #[test]
    fn junk_comments_and_other_fields_are_skipped() {
        let mut t = ChatEventTranslator::new();
        let events = t.push(b": ping\nevent: x\ndata: {bad\ndata:{\"choices\":[]}\ndata: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\r\n");
        assert!(events.is_empty());
    }
}
