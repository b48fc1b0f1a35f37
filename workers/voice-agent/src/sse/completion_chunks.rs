//! The `/v1/chat/completions` stream filter: OpenAI `chat.completion.chunk` SSE in, the same
//! SSE out with `<think>` blocks removed from `choices[0].delta.content`, as the original does it.
//!
//! - A line not starting with `data: ` passes unchanged (blank separators, `: comments`).
//! - `data: [DONE]` and lines whose JSON does not parse pass unchanged.
//! - A parsed chunk has its content filtered; an empty result deletes `content`. The chunk is
//!   re-serialised compactly (key order kept) when the delta still has content, or has `role`,
//!   `tool_calls` or `function_call`, or the choice a truthy `finish_reason`; otherwise it is
//!   dropped (its blank separator still passes).
//! - At end of stream the unterminated tail is processed (blank lines skipped); a held partial
//!   tag is dropped.

use super::LineBuffer;
use crate::think_filter::ThinkFilter;
use http_common::OrderedJson;

/// Filters one upstream completion stream.
#[derive(Debug, Default)]
pub struct CompletionChunkFilter {
    lines: LineBuffer,
    filter: ThinkFilter,
    content: String,
}

impl CompletionChunkFilter {
    /// A filter at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The filtered assistant text so far.
    pub fn content(&self) -> &str {
        &self.content
    }

    /// Feeds one upstream chunk; returns the bytes to send (possibly empty).
    pub fn push(&mut self, chunk: &[u8]) -> String {
        let mut out = String::new();
        for line in self.lines.push(chunk) {
            if let Some(kept) = self.line(&line) {
                out.push_str(&kept);
            }
        }
        out
    }

    /// Ends the stream; returns the last bytes to send.
    pub fn finish(&mut self) -> String {
        let rest = self.lines.take_rest();
        let mut out = String::new();
        for line in rest.split('\n') {
            if !line.trim().is_empty()
                && let Some(kept) = self.line(line)
            {
                out.push_str(&kept);
            }
        }
        if !self.filter.pending_tag().is_empty() {
            tracing::debug!(
                held = self.filter.pending_tag(),
                "dropping a partial tag at stream end"
            );
        }
        out
    }

    fn line(&mut self, line: &str) -> Option<String> {
        let Some(payload) = line.strip_prefix("data: ") else {
            return Some(format!("{line}\n"));
        };
        if payload == "[DONE]" {
            return Some(format!("{line}\n"));
        }
        let Ok(mut chunk) = serde_json::from_str::<OrderedJson>(payload) else {
            return Some(format!("{line}\n"));
        };
        let keep = {
            let choice = chunk.get_mut("choices").and_then(|c| c.index_mut(0));
            match choice {
                None => false,
                Some(choice) => {
                    let finish = choice
                        .get("finish_reason")
                        .is_some_and(OrderedJson::is_truthy);
                    match choice.get_mut("delta") {
                        None => false,
                        Some(delta) => {
                            self.filter_content(delta);
                            let has_content = match delta.get("content") {
                                Some(OrderedJson::String(s)) => !s.is_empty(),
                                Some(OrderedJson::Array(items)) => !items.is_empty(),
                                _ => false,
                            };
                            let meaningful = delta.is_truthy()
                                && (["role", "tool_calls", "function_call"]
                                    .iter()
                                    .any(|k| delta.get(k).is_some_and(OrderedJson::is_truthy))
                                    || finish);
                            has_content || meaningful
                        }
                    }
                }
            }
        };
        keep.then(|| format!("data: {}\n", chunk.to_compact_string()))
    }

    fn filter_content(&mut self, delta: &mut OrderedJson) {
        let Some(content) = delta.get("content").and_then(OrderedJson::as_str) else {
            return;
        };
        if content.is_empty() {
            return;
        }
        let filtered = self.filter.push(content);
        if filtered.is_empty() {
            delta.remove("content");
        } else {
            self.content.push_str(&filtered);
            if let Some(slot) = delta.get_mut("content") {
                *slot = OrderedJson::String(filtered);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_filtered_and_reserialised_compactly() {
        let mut f = CompletionChunkFilter::new();
        let out = f.push(b"data: {\"id\":\"c1\", \"choices\":[{\"index\":0,\"delta\":{\"content\":\"a<think>x</think>b\"},\"finish_reason\":null}]}\n\n");
        assert_eq!(
            out,
            "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ab\"},\"finish_reason\":null}]}\n\n"
        );
        assert_eq!(f.content(), "ab");
    }

    #[test]
    fn empty_chunks_are_dropped_but_their_separator_passes() {
        let mut f = CompletionChunkFilter::new();
        let out = f.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"<think>hidden\"}}]}\n\n: c\ndata: [DONE]\n\n");
        assert_eq!(out, "\n: c\ndata: [DONE]\n\n");
    }

    #[test]
    fn role_finish_and_usage_chunks() {
        let mut f = CompletionChunkFilter::new();
        let out = f.push(
            concat!(
                "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n",
                "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n",
                "data: {\"choices\":[],\"usage\":{\"total_tokens\":3}}\n",
                "data: not json\n"
            )
            .as_bytes(),
        );
        assert_eq!(
            out,
            concat!(
                "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n",
                "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n",
                "data: not json\n"
            )
        );
    }

    #[test]
    fn tail_without_newline_is_processed_and_partial_tag_dropped() {
        let mut f = CompletionChunkFilter::new();
        let mut out = f.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"ok <\"}}]}\n");
        out.push_str(&f.push(b"data: [DONE]"));
        out.push_str(&f.finish());
        assert_eq!(
            out,
            "data: {\"choices\":[{\"delta\":{\"content\":\"ok \"}}]}\ndata: [DONE]\n"
        );
        assert_eq!(f.content(), "ok ");
    }
}
