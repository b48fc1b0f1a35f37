//! The OpenAI-compatible chat-completions provider (`LLM_BASE_URL`, `LLM_API_KEY`).
//!
//! The endpoint is the base without trailing slashes plus `/chat/completions` when the base
//! already ends in `/v1`, else plus `/v1/chat/completions`; the body is posted as JSON with the
//! key as Bearer. No retry: a completion is not idempotent.

use std::time::Duration;

use serde::Serialize;

use crate::config::LlmConfig;

/// Model used by the chat routes when `LLM_MODEL` is empty.
pub const CHAT_FALLBACK_MODEL: &str = "anthropic/claude-sonnet-4";

/// Why no upstream response could be had.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// `LLM_API_KEY` is not set.
    #[error("LLM_API_KEY is not configured")]
    NotConfigured,
    /// The request did not get a response.
    #[error("LLM request failed: {0}")]
    Transport(#[from] reqwest::Error),
}

/// Posts chat completions to the configured provider.
#[derive(Clone, Debug)]
pub struct LlmClient {
    http: reqwest::Client,
    endpoint: String,
    api_key: Option<String>,
    model: String,
}

impl LlmClient {
    /// A client for `config`.
    pub fn new(http: reqwest::Client, config: &LlmConfig) -> Self {
        Self {
            http,
            endpoint: completions_endpoint(&config.base_url),
            api_key: config.api_key.clone(),
            model: config.model.clone(),
        }
    }

    /// The full chat-completions URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `LLM_MODEL` as configured (may be empty).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The model the chat routes ask for.
    pub fn chat_model(&self) -> &str {
        if self.model.is_empty() {
            CHAT_FALLBACK_MODEL
        } else {
            &self.model
        }
    }

    /// Sends `body`; the response head is returned whatever its status. `deadline` bounds the
    /// whole call (use `None` for streams: their idle time is watched while relaying).
    pub async fn post(
        &self,
        body: &impl Serialize,
        deadline: Option<Duration>,
    ) -> Result<reqwest::Response, LlmError> {
        let api_key = self.api_key.as_deref().ok_or(LlmError::NotConfigured)?;
        let mut request = self
            .http
            .post(&self.endpoint)
            .bearer_auth(api_key)
            .json(body);
        if let Some(deadline) = deadline {
            request = request.timeout(deadline);
        }
        Ok(request.send().await?)
    }
}

/// The chat-completions URL for a provider base URL.
pub fn completions_endpoint(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/chat/completions")
    } else {
        format!("{base}/v1/chat/completions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_normalisation() {
        assert_eq!(
            completions_endpoint("https://api.groq.com/openai/v1"),
            "https://api.groq.com/openai/v1/chat/completions"
        );
        assert_eq!(
            completions_endpoint("https://api.groq.com/openai/v1//"),
            "https://api.groq.com/openai/v1/chat/completions"
        );
        assert_eq!(
            completions_endpoint("http://127.0.0.1:9"),
            "http://127.0.0.1:9/v1/chat/completions"
        );
    }
}
