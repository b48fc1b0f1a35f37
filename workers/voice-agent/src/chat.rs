//! Text chat prompts: the "Scarlett" system prompt, the user context (Honcho memory and
//! listening activity), the last ten history turns and the new message.

use serde_json::{Value, json};

use crate::auth::wallet::is_plain_hex_address;

/// The text-chat persona (the original's prompt, verbatim).
pub const CHAT_SYSTEM_PROMPT: &str = "You are Scarlett, a warm and insightful AI lifecoach on Heaven.

Your role:
- Help users improve their dating profiles and approach
- Give honest, constructive feedback
- Coach on conversation skills and first date ideas
- Be supportive but direct - users want real advice, not flattery
- Keep responses concise (2-4 sentences) unless they ask for more detail
- If the user's Recent Activity is provided, reference it naturally when relevant (e.g. noticing sleep patterns, commenting on their music taste, acknowledging their runs or meals)
- Use activity data as conversation starters or to give personalized advice, but don't dump raw stats unless asked
- When music context is present, prioritize one concrete recent listen and (if useful) the user's top artist; keep it natural, not stat-heavy

Remember: Dating is about being authentic. Help users present their best genuine self.";

/// How many history entries are kept.
pub const MAX_HISTORY: usize = 10;

/// The reply used when the provider answers without content.
pub const EMPTY_REPLY: &str = "I'm sorry, I couldn't generate a response.";

/// A validated `/chat/send` or `/chat/stream` request.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The trimmed user message.
    pub message: String,
    /// `history` as sent (an array, else empty).
    pub history: Vec<Value>,
    /// `activityWallet` when it is `0x` + 40 hex.
    pub activity_wallet: Option<String>,
}

impl ChatRequest {
    /// Reads the body as the original does; `None` means 400 `message required`.
    pub fn from_body(body: Option<&Value>) -> Option<Self> {
        let body = body?;
        let message = body.get("message")?.as_str()?.trim();
        if message.is_empty() {
            return None;
        }
        Some(Self {
            message: message.to_owned(),
            history: body
                .get("history")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            activity_wallet: activity_wallet(Some(body)),
        })
    }
}

/// `activityWallet` from a body when it has the `0x` + 40 hex shape.
pub fn activity_wallet(body: Option<&Value>) -> Option<String> {
    body?
        .get("activityWallet")
        .and_then(Value::as_str)
        .filter(|w| is_plain_hex_address(w))
        .map(str::to_owned)
}

/// The context parts joined by a blank line (empty when there is none).
pub fn context_blob(memory: Option<&str>, activity: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(memory) = memory {
        parts.push(format!("=== Personal Memory ===\n{memory}"));
    }
    if let Some(activity) = activity {
        parts.push(format!("=== Recent Activity ===\n{activity}"));
    }
    parts.join("\n\n")
}

/// The messages sent to the LLM for a chat turn.
pub fn chat_messages(request: &ChatRequest, context: &str) -> Vec<Value> {
    let system = if context.is_empty() {
        CHAT_SYSTEM_PROMPT.to_owned()
    } else {
        format!("{CHAT_SYSTEM_PROMPT}\n\n=== User Context ===\n{context}")
    };
    let mut messages = vec![json!({ "role": "system", "content": system })];
    let start = request.history.len().saturating_sub(MAX_HISTORY);
    for entry in &request.history[start..] {
        let role = entry.get("role").and_then(Value::as_str);
        if let Some(role @ ("user" | "assistant")) = role {
            // An absent content stays absent, as JSON.stringify drops `undefined`.
            let mut turn = json!({ "role": role });
            if let Some(content) = entry.get("content") {
                turn["content"] = content.clone();
            }
            messages.push(turn);
        }
    }
    messages.push(json!({ "role": "user", "content": request.message }));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_rules() {
        assert_eq!(ChatRequest::from_body(None), None);
        assert_eq!(
            ChatRequest::from_body(Some(&json!({"message": "  "}))),
            None
        );
        assert_eq!(ChatRequest::from_body(Some(&json!({"message": 5}))), None);
        let request = ChatRequest::from_body(Some(&json!({
            "message": " hi ", "history": "nope", "activityWallet": "0xabc"
        })))
        .unwrap();
        assert_eq!(request.message, "hi");
        assert!(request.history.is_empty());
        assert_eq!(request.activity_wallet, None);
    }

    #[test]
    fn messages_keep_last_ten_user_and_assistant_turns() {
        let history: Vec<Value> = (0..12)
            .map(|i| json!({"role": if i == 11 { "system" } else if i % 2 == 0 { "user" } else { "assistant" }, "content": format!("m{i}")}))
            .collect();
        let request = ChatRequest {
            message: "now".into(),
            history,
            activity_wallet: None,
        };
        let messages = chat_messages(&request, "=== Recent Activity ===\nx");
        assert_eq!(messages.len(), 1 + 9 + 1);
        assert_eq!(messages[1]["content"], "m2");
        assert!(
            messages[0]["content"]
                .as_str()
                .unwrap()
                .ends_with("\n\n=== User Context ===\n=== Recent Activity ===\nx")
        );
        assert_eq!(messages[10], json!({"role": "user", "content": "now"}));
        assert_eq!(
            chat_messages(&request, "")[0]["content"],
            CHAT_SYSTEM_PROMPT
        );
    }

    #[test]
    fn context_parts() {
        assert_eq!(context_blob(None, None), "");
        assert_eq!(
            context_blob(Some("m"), Some("a")),
            "=== Personal Memory ===\nm\n\n=== Recent Activity ===\na"
        );
    }
}
