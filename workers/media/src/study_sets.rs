//! Study sets already on chain (api-core's `GET /api/study-sets/:trackId`, contracts §1.12):
//! StudySetRegistryV1's `getStudySet` read by `eth_call` (a read, no key), the pack fetched
//! from its ref (`ar://` from the Arweave gateway then the Load gateway, `ls3://` from the
//! Load gateway) and accepted only when its SHA-256 is the registry's hash.

use std::time::Duration;

use heaven_eth::abi::{SolCall, getStudySetCall, getStudySetReturn};
use heaven_eth::rpc::{BlockTag, eth_call_params, parse_data, parse_result, request_body};
use heaven_eth::{Address, B256};
use http_common::OrderedJson;
use sha2::{Digest, Sha256};

use crate::config::StudySetsConfig;

/// How long one read or fetch may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// The registry's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryEntry {
    /// `ar://…` or `ls3://…`.
    pub study_set_ref: String,
    /// `0x` + 64 lowercase hex.
    pub study_set_hash: String,
    /// EIP-55.
    pub submitter: String,
    /// Seconds.
    pub created_at: u64,
    /// Whether a set is registered.
    pub exists: bool,
}

/// A fetched, verified pack.
#[derive(Clone, Debug)]
pub struct FetchedPack {
    /// The document (a JSON object, members in order).
    pub pack: OrderedJson,
    /// The URL it came from.
    pub fetched_from: String,
    /// Its size.
    pub bytes: usize,
}

/// Why a study set could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum StudySetError {
    /// The fetched bytes are not the registered ones.
    #[error("study_set_hash_mismatch:{expected}:{actual}")]
    HashMismatch {
        /// The registry's hash.
        expected: String,
        /// The fetched bytes' hash.
        actual: String,
    },
    /// Anything else, with the original's message.
    #[error("{0}")]
    Failed(String),
}

/// Reads and fetches study sets.
#[derive(Clone, Debug)]
pub struct StudySets {
    http: reqwest::Client,
    config: StudySetsConfig,
}

impl StudySets {
    /// Over `config`.
    pub fn new(config: StudySetsConfig) -> Self {
        Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(TIMEOUT)
                .build()
                .unwrap_or_default(),
            config,
        }
    }

    /// `getStudySet(trackId, language, version)` on `registry`.
    pub async fn entry(
        &self,
        registry: Address,
        track_id: B256,
        language: &str,
        version: u8,
    ) -> Result<RegistryEntry, StudySetError> {
        let call = getStudySetCall {
            trackId: track_id,
            lang: language.to_owned(),
            version,
        };
        let body = request_body(
            "eth_call",
            eth_call_params(&registry, &call.abi_encode(), BlockTag::Latest),
        );
        let failed = |e: String| StudySetError::Failed(e);
        let response = self
            .http
            .post(&self.config.tempo_rpc_url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let bytes = response.bytes().await.map_err(|e| failed(e.to_string()))?;
        let result = parse_result(&bytes).map_err(|e| failed(e.to_string()))?;
        let data = parse_data(&result).map_err(|e| failed(e.to_string()))?;
        let entry: getStudySetReturn =
            getStudySetCall::abi_decode_returns(&data).map_err(|e| failed(e.to_string()))?;
        Ok(RegistryEntry {
            study_set_ref: entry.studySetRef.trim().to_owned(),
            study_set_hash: heaven_eth::hex32::b256_hex(&entry.studySetHash).to_lowercase(),
            submitter: heaven_eth::address::to_checksum(&entry.submitter),
            created_at: entry.createdAt,
            exists: entry.exists,
        })
    }

    /// The URLs a ref is tried at, in order.
    fn candidates(&self, reference: &str) -> Result<Vec<String>, StudySetError> {
        let id = |scheme: &str| {
            reference
                .trim()
                .strip_prefix(scheme)
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
        };
        let gateway = &self.config.load_gateway_url;
        if let Some(ar) = id("ar://") {
            Ok(vec![
                format!("{}/{ar}", self.config.arweave_url),
                format!("{gateway}/resolve/{ar}"),
            ])
        } else if let Some(ls3) = id("ls3://") {
            Ok(vec![format!("{gateway}/resolve/{ls3}")])
        } else {
            Err(StudySetError::Failed(format!(
                "Unsupported ref scheme: {reference}"
            )))
        }
    }

    /// The pack at `reference`, checked against `expected_hash`.
    pub async fn pack(
        &self,
        reference: &str,
        expected_hash: &str,
    ) -> Result<FetchedPack, StudySetError> {
        let mut last_status: Option<u16> = None;
        for url in self.candidates(reference)? {
            let response = self
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| StudySetError::Failed(e.to_string()))?;
            if !response.status().is_success() {
                last_status = Some(response.status().as_u16());
                continue;
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| StudySetError::Failed(e.to_string()))?;
            if bytes.is_empty() {
                return Err(StudySetError::Failed(format!(
                    "Resolved ref payload is empty at {url}"
                )));
            }
            let actual = format!("0x{}", hex::encode(Sha256::digest(&bytes)));
            if actual != expected_hash.to_lowercase() {
                return Err(StudySetError::HashMismatch {
                    expected: expected_hash.to_owned(),
                    actual,
                });
            }
            let pack = OrderedJson::parse(&bytes)
                .map_err(|_| StudySetError::Failed("study_set_json_parse_failed".into()))?;
            if !matches!(pack, OrderedJson::Object(_)) {
                return Err(StudySetError::Failed("study_set_json_invalid".into()));
            }
            return Ok(FetchedPack {
                pack,
                fetched_from: url,
                bytes: bytes.len(),
            });
        }
        Err(StudySetError::Failed(format!(
            "Failed to fetch ref {reference} (status: {})",
            last_status.map_or_else(|| "unknown".to_owned(), |s| s.to_string())
        )))
    }
}
