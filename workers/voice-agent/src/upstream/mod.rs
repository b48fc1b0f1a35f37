//! Clients of the third parties the original calls: the OpenAI-compatible LLM, Agora
//! Conversational AI (and its RTC tokens), Honcho memory and the activity subgraph.
//!
//! One `reqwest::Client` serves them all (connection pooling, a connect timeout); call
//! timeouts are per request because streaming calls must not have an overall deadline.

pub mod activity;
pub mod agora;
pub mod honcho;
pub mod llm;
pub mod rtc_token;

use std::time::Duration;

/// The shared HTTP client.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .expect("a rustls client with default settings always builds")
}
