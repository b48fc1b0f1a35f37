//! The Heaven blob store: [`ContentAddressedBlobStore`](portability::ContentAddressedBlobStore)
//! adapters for the storage decision of the migration plan.
//!
//! - [`BlobStore`] over a [`BlobBackend`]: spools puts to disk while hashing them, deduplicates
//!   identical puts through the [`BlobIndex`] (sha256 → id in the StateStore), verifies every
//!   read against the recorded sha256, keeps link/resolve pointers in the StateStore.
//! - Backends: [`LocalDisk`] (embedded default), [`LoadAgent`] (Load S3 agent, primary),
//!   [`IrysBundler`] (fallback bundler, ANS-104 items signed here, see [`ans104`]),
//!   [`FailoverBackend`] (Load first, Irys on outages, with a [`Breaker`]).
//! - [`ArweaveGateway`]: reads and anchor status from Arweave.
//! - [`HotStore`]: the object store for pipeline intermediates (`object_store`: local disk by
//!   default, S3-compatible by URL).
//! - [`anchor_service`]: `POST /internal/anchor`, where the credits canister's outcall has a
//!   signed batch of receipts uploaded once per `Idempotency-Key` (ADR 0025).
//! - [`open_blob_store`]: everything from environment variables ([`BlobStoreConfig`]).
//!
//! This crate is separate from `portability` so that the HTTP multipart, secp256k1 and
//! `object_store` dependencies stay out of workers that only need the traits.

#![warn(missing_docs)]

pub mod anchor_service;
pub mod ans104;
pub mod arweave;
pub mod config;
pub mod failover;
pub mod hot;
pub mod http;
pub mod index;
pub mod irys;
pub mod load;
pub mod local;
pub mod spool;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

pub use arweave::{ArweaveGateway, TxStatus};
pub use config::{BackendKind, BlobStoreConfig, open_blob_store};
pub use failover::{Breaker, BreakerConfig, FailoverBackend};
pub use hot::HotStore;
pub use index::{BlobIndex, BlobRecord};
pub use irys::{IrysBundler, IrysConfig};
pub use load::{LoadAgent, LoadConfig};
pub use local::LocalDisk;
pub use store::{BlobBackend, BlobStore, Uploaded};
