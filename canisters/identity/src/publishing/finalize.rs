//! `finalize_track` (contracts §6.7, what Android's finalize uses): the track's ids computed
//! here, then on Tempo — each write only when a read says it is missing, and after a failed
//! write the read again (another request may have done it meanwhile):
//! 1. `isRegistered(trackId)`, else `registerTracksBatch` signed by the operator;
//! 2. with a cover reference, `setTrackCoverBatch` by the operator, best effort (on failure,
//!    `coverSet` says whether `getTrack` shows a cover anyway);
//! 3. `getContent(contentId).active`, else `registerContentFor` signed by the sponsor.

use canister_runtime::Runtime;
use heaven_eth::abi::{
    SolCall, getContentCall, getTrackCall, isRegisteredCall, registerContentForCall,
    registerTracksBatchCall, setTrackCoverBatchCall,
};
use heaven_eth::rpc::BlockTag;
use heaven_eth::{Address, B256, address, hex32};
use heaven_evm::chain::Chain;

use super::ledger::Ticket;
use super::request::ValidFinalize;
use super::track::{META_KIND, content_id, meta_track_ids};
use super::transact::{Step, Writer};
use crate::endpoints::publishing::{FinalizeTrackReply, PublishError};
use crate::signer::Role;
use crate::state::publishing::TempoPublishingConfig;

/// Step names (the keys of a publication's recorded transactions).
pub(super) const REGISTER_TRACK: &str = "register-track";
/// See [`REGISTER_TRACK`].
pub(super) const SET_COVER: &str = "set-cover";
/// See [`REGISTER_TRACK`].
pub(super) const REGISTER_CONTENT: &str = "register-content";

/// The configured contracts.
pub(super) struct Tempo {
    pub config: TempoPublishingConfig,
    pub scrobble: Address,
    pub content_registry: Address,
}

impl Tempo {
    /// The settings, when finalize may run.
    pub(super) fn load(config: TempoPublishingConfig) -> Result<Self, PublishError> {
        let not_configured = |what: &str| PublishError::NotConfigured(what.to_string());
        if !config.enabled {
            return Err(not_configured("Tempo finalize is not configured"));
        }
        Ok(Self {
            scrobble: address::parse(&config.scrobble_v4).ok_or_else(|| {
                not_configured(&format!(
                    "Invalid TEMPO_SCROBBLE_V4 address: {}",
                    config.scrobble_v4
                ))
            })?,
            content_registry: address::parse(&config.content_registry).ok_or_else(|| {
                not_configured(&format!(
                    "Invalid TEMPO_CONTENT_REGISTRY address: {}",
                    config.content_registry
                ))
            })?,
            config,
        })
    }
}

struct Reads<'a, R: Runtime> {
    chain: &'a Chain<'a, R>,
    tempo: &'a Tempo,
}

impl<R: Runtime> Reads<'_, R> {
    async fn block(&self) -> Result<BlockTag, String> {
        Ok(BlockTag::Number(
            self.chain.pinned_block().await.map_err(|e| e.to_string())?,
        ))
    }

    async fn track_registered(&self, track_id: B256) -> Result<bool, String> {
        let block = self.block().await?;
        self.chain
            .call(
                self.tempo.scrobble,
                &isRegisteredCall { trackId: track_id },
                block,
            )
            .await
            .map_err(|e| e.to_string())
    }

    async fn cover_set(&self, track_id: B256) -> bool {
        let Ok(block) = self.block().await else {
            return false;
        };
        self.chain
            .call(
                self.tempo.scrobble,
                &getTrackCall { trackId: track_id },
                block,
            )
            .await
            .is_ok_and(|t| !t.coverCid.trim().is_empty())
    }

    async fn content_active(&self, content_id: B256) -> Result<bool, String> {
        let block = self.block().await?;
        self.chain
            .call(
                self.tempo.content_registry,
                &getContentCall {
                    contentId: content_id,
                },
                block,
            )
            .await
            .map(|c| c.active)
            .map_err(|e| e.to_string())
    }
}

/// Runs the finalize sequence for a checked request.
pub(super) async fn run<R: Runtime>(
    rt: &R,
    ticket: &Ticket,
    tempo: &Tempo,
    request: &ValidFinalize,
) -> Result<FinalizeTrackReply, PublishError> {
    let config = &tempo.config;
    let ids = meta_track_ids(&request.title, &request.artist, &request.album);
    let content = content_id(ids.track_id, request.user);
    let writer = Writer {
        rt,
        chain: Chain::new(rt, config.rpc_url.clone()),
        chain_id: config.chain_id,
        receipt_polls: config.receipt_polls,
        wait_timeout_ns: config.tx_wait_timeout_secs.saturating_mul(1_000_000_000),
    };
    let reads = Reads {
        chain: &writer.chain,
        tempo,
    };
    let failed = PublishError::Failed;

    let mut scrobble_tx = None;
    let mut track_registered = false;
    if reads.track_registered(ids.track_id).await.map_err(failed)? {
        // Registered by an earlier call of this very request, whose answer was lost?
        if let Some(mined) = writer.recorded_success(ticket, REGISTER_TRACK).await {
            scrobble_tx = Some(hex32::b256_hex(&mined.hash));
            track_registered = true;
        }
    } else {
        let register = registerTracksBatchCall {
            kinds: vec![META_KIND],
            payloads: vec![ids.payload],
            titles: vec![request.title.clone()],
            artists: vec![request.artist.clone()],
            albums: vec![request.album.clone()],
            durations: vec![request.duration_s],
        };
        let step = Step {
            name: REGISTER_TRACK,
            role: Role::TempoOperator,
            to: tempo.scrobble,
            data: register.abi_encode(),
            gas_limit: config.track_gas_limit,
        };
        match writer.transact(ticket, step).await {
            Ok(mined) => {
                scrobble_tx = Some(hex32::b256_hex(&mined.hash));
                track_registered = true;
            }
            Err(e) => {
                // Registered meanwhile (another publisher of the same metadata): go on.
                if !reads.track_registered(ids.track_id).await.map_err(failed)? {
                    return Err(failed(e));
                }
            }
        }
    }

    let mut cover_tx = None;
    let mut cover_set = false;
    if let Some(cover_ref) = &request.cover_ref {
        let cover = setTrackCoverBatchCall {
            trackIds: vec![ids.track_id],
            coverCids: vec![cover_ref.clone()],
        };
        let step = Step {
            name: SET_COVER,
            role: Role::TempoOperator,
            to: tempo.scrobble,
            data: cover.abi_encode(),
            gas_limit: config.cover_gas_limit,
        };
        match writer.transact(ticket, step).await {
            Ok(mined) => {
                cover_tx = Some(hex32::b256_hex(&mined.hash));
                cover_set = true;
            }
            Err(e) => {
                canister_runtime::print(&format!("publishing: cover (best effort): {e}"));
                cover_set = reads.cover_set(ids.track_id).await;
            }
        }
    }

    let mut content_tx = None;
    let mut content_registered = false;
    if reads.content_active(content).await.map_err(failed)? {
        if let Some(mined) = writer.recorded_success(ticket, REGISTER_CONTENT).await {
            content_tx = Some(hex32::b256_hex(&mined.hash));
            content_registered = true;
        }
    } else {
        let register = registerContentForCall {
            contentOwner: request.user,
            trackId: ids.track_id,
            datasetOwner: request.dataset_owner,
            pieceCid: request.piece_cid.clone().into(),
            algo: request.algo,
        };
        let step = Step {
            name: REGISTER_CONTENT,
            role: Role::TempoSponsor,
            to: tempo.content_registry,
            data: register.abi_encode(),
            gas_limit: config.content_gas_limit,
        };
        match writer.transact(ticket, step).await {
            Ok(mined) => {
                content_tx = Some(hex32::b256_hex(&mined.hash));
                content_registered = true;
            }
            Err(e) => {
                if !reads.content_active(content).await.map_err(failed)? {
                    return Err(failed(e));
                }
            }
        }
    }

    Ok(FinalizeTrackReply {
        chain_id: config.chain_id,
        track_id: hex32::b256_hex(&ids.track_id),
        track_payload: hex32::b256_hex(&ids.payload),
        content_id: hex32::b256_hex(&content),
        tempo_tx_hash: content_tx.clone().or_else(|| scrobble_tx.clone()),
        scrobble_tx_hash: scrobble_tx,
        content_tx_hash: content_tx,
        cover_tx_hash: cover_tx,
        track_registered,
        content_registered,
        cover_set,
    })
}
