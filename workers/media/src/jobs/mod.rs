//! Music publish jobs: the stored record and its client view ([`model`]), the store and its
//! indexes ([`store`]), idempotency reservations ([`idempotency`]), step leases ([`lease`]),
//! the anchor step ([`anchor`]), the `registering` step of finalize and register
//! ([`registering`]) and the recovery of jobs whose worker died ([`recovery`]).

pub mod anchor;
pub mod idempotency;
pub mod lease;
pub mod model;
pub mod recovery;
pub mod registering;
pub mod store;

pub use model::{JobStatus, JobView, MusicJob, PublishType};
pub use store::{JobStore, StoredJob};
