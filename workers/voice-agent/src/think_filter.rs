//! The streaming `<think>` filter shared by `/chat/stream` and `/v1/chat/completions`.
//!
//! It reproduces the original's filter exactly, quirks included, so a client sees the same
//! events for the same upstream stream:
//! - tags are case-sensitive (`<think>`, `</think>`); text inside a block is dropped and the
//!   state carries across chunks;
//! - outside a block, a chunk ending in a prefix of `<think>` holds that prefix for the next
//!   chunk. That check looks at the *whole remaining input first*, so a chunk such as
//!   `a<think>b</think>c<` leaks `a<think>b</think>c` and holds `<` (as the original does);
//! - inside a block, a trailing strict prefix of `</think>` is held.

const OPEN_TAG: &str = "<think>";
const CLOSE_TAG: &str = "</think>";

/// Filter state carried from one chunk to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThinkFilter {
    inside_think: bool,
    pending_tag: String,
}

impl ThinkFilter {
    /// A filter outside any block, holding nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the filter is inside a `<think>` block.
    pub fn inside_think(&self) -> bool {
        self.inside_think
    }

    /// The partial tag held back at the end of the last chunk (empty when none).
    pub fn pending_tag(&self) -> &str {
        &self.pending_tag
    }

    /// Filters one chunk of content and returns the text to emit (possibly empty).
    pub fn push(&mut self, content: &str) -> String {
        let input = std::mem::take(&mut self.pending_tag) + content;
        let mut filtered = String::new();
        let mut i = 0;
        // The original advances one character at a time. Outside a block, the held-suffix
        // check only depends on where the input ends, so once it finds nothing it finds
        // nothing for every later position; that lets the scan jump from '<' to '<'.
        while i < input.len() {
            let rest = &input[i..];
            if self.inside_think {
                if rest.starts_with(CLOSE_TAG) {
                    self.inside_think = false;
                    i += CLOSE_TAG.len();
                    continue;
                }
                if rest.len() < CLOSE_TAG.len() && CLOSE_TAG.starts_with(rest) {
                    self.pending_tag = rest.to_owned();
                    break;
                }
            } else {
                if rest.starts_with(OPEN_TAG) {
                    self.inside_think = true;
                    i += OPEN_TAG.len();
                    continue;
                }
                let held = suffix_prefix_len(rest, OPEN_TAG);
                if held > 0 {
                    filtered.push_str(&rest[..rest.len() - held]);
                    self.pending_tag = rest[rest.len() - held..].to_owned();
                    break;
                }
            }
            // No tag can start before the next '<', and (as argued above the loop) the held-
            // suffix answer cannot change while scanning, so jump there in one step.
            let first = rest.chars().next().map_or(1, char::len_utf8);
            let step = rest[first..]
                .find('<')
                .map_or(rest.len(), |pos| pos + first);
            if !self.inside_think {
                filtered.push_str(&rest[..step]);
            }
            i += step;
        }
        filtered
    }
}

/// Length of the longest suffix of `text` that is a strict prefix of `tag` (0 when none).
fn suffix_prefix_len(text: &str, tag: &str) -> usize {
    let max = text.len().min(tag.len() - 1);
    (1..=max)
        .rev()
        .find(|&len| text.as_bytes().ends_with(&tag.as_bytes()[..len]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&str]) -> (Vec<String>, ThinkFilter) {
        let mut filter = ThinkFilter::new();
        let out = chunks.iter().map(|c| filter.push(c)).collect();
        (out, filter)
    }

    #[test]
    fn whole_block_in_one_chunk_is_removed() {
        assert_eq!(run(&["a<think>b</think>c"]).0, ["ac"]);
    }

    #[test]
    fn tags_split_across_chunks() {
        let (out, filter) = run(&["Hel", "lo <th", "ink>secret</th", "ink> world"]);
        assert_eq!(out, ["Hel", "lo ", "", " world"]);
        assert!(!filter.inside_think());
        let (out, _) = run(&[
            "<", "t", "h", "i", "n", "k", ">", "x", "<", "/", "think>", "y",
        ]);
        assert_eq!(out.concat(), "y");
    }

    #[test]
    fn the_original_quirk_leaks_a_block_before_a_trailing_partial() {
        let (out, filter) = run(&["a<think>b</think>c<"]);
        assert_eq!(out, ["a<think>b</think>c"]);
        assert_eq!(filter.pending_tag(), "<");
    }

    #[test]
    fn case_sensitive_and_false_starts() {
        assert_eq!(run(&["<THINK>x</THINK>"]).0, ["<THINK>x</THINK>"]);
        let (out, filter) = run(&["1 <", "2"]);
        assert_eq!(out, ["1 ", "<2"]);
        assert_eq!(filter.pending_tag(), "");
    }

    #[test]
    fn inside_a_block_a_partial_close_is_held() {
        let (out, filter) = run(&["<think>abc</thi"]);
        assert_eq!(out, [""]);
        assert!(filter.inside_think());
        assert_eq!(filter.pending_tag(), "</thi");
    }

    #[test]
    fn matches_a_char_by_char_reference_on_many_inputs() {
        // The original's algorithm, one character at a time.
        fn reference(state: &mut (bool, String), content: &str) -> String {
            let input: Vec<char> = (std::mem::take(&mut state.1) + content).chars().collect();
            let (open, close): (Vec<char>, Vec<char>) =
                (OPEN_TAG.chars().collect(), CLOSE_TAG.chars().collect());
            let mut out = String::new();
            let mut i = 0;
            while i < input.len() {
                let rest = &input[i..];
                if state.0 {
                    if rest.starts_with(&close) {
                        state.0 = false;
                        i += close.len();
                        continue;
                    }
                    if rest.len() < close.len() && close.starts_with(rest) {
                        state.1 = rest.iter().collect();
                        break;
                    }
                } else {
                    if rest.starts_with(&open) {
                        state.0 = true;
                        i += open.len();
                        continue;
                    }
                    let max = rest.len().min(open.len() - 1);
                    if let Some(k) = (1..=max).rev().find(|&k| rest.ends_with(&open[..k])) {
                        out.extend(&rest[..rest.len() - k]);
                        state.1 = rest[rest.len() - k..].iter().collect();
                        break;
                    }
                    out.push(rest[0]);
                }
                i += 1;
            }
            out
        }
        let alphabet = [
            "<", "think>", "</think>", "<th", "ink", ">", "é", "a", "</", "t", " ",
        ];
        let mut seed = 0x2545F491u32;
        for _ in 0..3000 {
            let mut filter = ThinkFilter::new();
            let mut state = (false, String::new());
            for _ in 0..6 {
                let mut chunk = String::new();
                for _ in 0..(seed % 5) {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    chunk.push_str(alphabet[seed as usize % alphabet.len()]);
                }
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                assert_eq!(
                    filter.push(&chunk),
                    reference(&mut state, &chunk),
                    "{chunk:?}"
                );
                assert_eq!(
                    (filter.inside_think, filter.pending_tag.clone()),
                    state.clone()
                );
            }
        }
    }

    #[test]
    fn multibyte_text_passes() {
        assert_eq!(run(&["héllo <think>ü</think>wörld"]).0, ["héllo wörld"]);
    }
}
