//! fal's queue API (https://queue.fal.run), for the anime grid (contracts/api-core.md §3.3):
//! submit a request, read its status until `COMPLETED`, read its result, download the image.
//! The original called the synchronous `fal.run` endpoint inside the request; the queue lets
//! a job survive a restart: the request id is stored and the status read again.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::config::FAL_MODEL;

/// The prompt of the original (`routes/photos.ts` of `fac3e76^`), in substance: one seamless
/// 2×2 canvas, one photo per panel, no separators.
pub const GRID_PROMPT: &str = "Create a single 2048x2048 anime artwork composed of exactly 4 \
equally-sized panels arranged in a 2x2 layout. Each panel is exactly 1024x1024 pixels. The panels \
touch edge-to-edge with absolutely zero gaps, zero borders, zero lines, zero separators, and zero \
padding between them. The image is one seamless canvas where the four panels share edges \
directly. Convert each input photo to high-quality anime style, preserving the pose, facial \
features, expression, and composition. Panel layout: top-left=photo1, top-right=photo2, \
bottom-left=photo3, bottom-right=photo4.";

/// A fal call that failed.
#[derive(Debug, thiserror::Error)]
pub enum FalError {
    /// No answer, or an unreadable one.
    #[error("fal request failed: {0}")]
    Transport(String),
    /// fal answered an error status.
    #[error("fal.ai seedream error: {status} {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The body, as text.
        body: String,
    },
    /// The request ended without an image.
    #[error("No images returned from fal")]
    NoImages,
}

/// A submitted request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Submitted {
    /// fal's id.
    pub request_id: String,
    /// Where its status is read.
    #[serde(default)]
    pub status_url: Option<String>,
    /// Where its result is read.
    #[serde(default)]
    pub response_url: Option<String>,
}

/// Where a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueStatus {
    /// Waiting or running.
    Pending(String),
    /// Done: the result can be read.
    Completed,
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

#[derive(Deserialize)]
struct ResultBody {
    #[serde(default)]
    images: Vec<ResultImage>,
}

#[derive(Deserialize)]
struct ResultImage {
    url: String,
}

/// The queue client of one key.
#[derive(Clone)]
pub struct FalClient {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl std::fmt::Debug for FalClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FalClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn transport(err: reqwest::Error) -> FalError {
    FalError::Transport(err.to_string())
}

async fn checked(response: reqwest::Response) -> Result<reqwest::Response, FalError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(FalError::Status {
        status: status.as_u16(),
        body,
    })
}

impl FalClient {
    /// A client of the queue at `base` with `key`.
    pub fn new(base: &str, key: &str) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
        }
    }

    fn auth(&self) -> String {
        format!("Key {}", self.key)
    }

    /// Submits the grid request for the four source URLs.
    pub async fn submit(&self, image_urls: &[String]) -> Result<Submitted, FalError> {
        let body = json!({
            "prompt": GRID_PROMPT,
            "image_urls": image_urls,
            "image_size": { "width": 2048, "height": 2048 },
            "num_images": 1,
            "max_images": 1,
            "enable_safety_checker": false,
        });
        let response = self
            .http
            .post(format!("{}/{FAL_MODEL}", self.base))
            .header("authorization", self.auth())
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        checked(response).await?.json().await.map_err(transport)
    }

    fn request_url(&self, submitted: &Submitted, status: bool) -> String {
        let given = if status {
            &submitted.status_url
        } else {
            &submitted.response_url
        };
        given.clone().unwrap_or_else(|| {
            let base = format!(
                "{}/{FAL_MODEL}/requests/{}",
                self.base, submitted.request_id
            );
            if status {
                format!("{base}/status")
            } else {
                base
            }
        })
    }

    /// The request's status.
    pub async fn status(&self, submitted: &Submitted) -> Result<QueueStatus, FalError> {
        let response = self
            .http
            .get(self.request_url(submitted, true))
            .header("authorization", self.auth())
            .send()
            .await
            .map_err(transport)?;
        let body: StatusBody = checked(response).await?.json().await.map_err(transport)?;
        Ok(if body.status == "COMPLETED" {
            QueueStatus::Completed
        } else {
            QueueStatus::Pending(body.status)
        })
    }

    /// The URL of the first image of a completed request.
    pub async fn result_image(&self, submitted: &Submitted) -> Result<String, FalError> {
        let response = self
            .http
            .get(self.request_url(submitted, false))
            .header("authorization", self.auth())
            .send()
            .await
            .map_err(transport)?;
        let body: ResultBody = checked(response).await?.json().await.map_err(transport)?;
        body.images
            .into_iter()
            .next()
            .map(|image| image.url)
            .ok_or(FalError::NoImages)
    }

    /// Downloads `url` (fal's CDN; no key sent).
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, FalError> {
        let response = self.http.get(url).send().await.map_err(transport)?;
        let response = checked(response).await.map_err(|err| match err {
            FalError::Status { status, .. } => {
                FalError::Transport(format!("Failed to download grid: {status}"))
            }
            other => other,
        })?;
        Ok(response.bytes().await.map_err(transport)?.to_vec())
    }
}
