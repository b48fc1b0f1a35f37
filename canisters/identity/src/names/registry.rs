//! The legacy off-chain `.heaven` registry (api-core's `/api/names` lookups and signed
//! register/renew/update): free names for a year plus a 30-day grace period, resolved for the DNS
//! server. Whether a name is active, in grace or lapsed is computed from its stored times.
//!
//! Schema drift, fixed on purpose: the original's code used a `pkp_address` column that its own
//! schema had already renamed to `owner_address`, so on a fresh database most of these routes
//! failed. We store the owner ([`HeavenName::owner`]) and keep the names clients already use on
//! the wire: `pkpAddress` in requests, `pkp_address` in responses, `pkp=` in the signed messages
//! and in TXT records.
//!
//! Registrations are limited per owner and per client IP over an hour (ours: the original had
//! no limit; docs/adr/0010-permit-wallet-limit.md).
//!
//! Every signed request is checked completely first; then one `state::mutate` call checks the
//! nonce and state and processes the event. Nothing awaits between the checks and the writes,
//! so the original's "Name was just taken" / "not updated" races cannot happen here, and an
//! error changes nothing.

mod lookup;
mod signed;

pub use lookup::{available, details, dns_resolve, reverse};
pub use signed::{register, register_with_client_ip, renew, update};

use crate::api::Now;
use crate::names::label;
use crate::state::audit::process_event;
use crate::state::event::EventType;
use crate::state::{self, Cbor, HeavenName, State};

/// How long a registration or renewal lasts.
const REGISTRATION_SECS: u64 = 365 * 24 * 60 * 60;
/// How long after expiry only the owner can renew.
const GRACE_SECS: u64 = 30 * 24 * 60 * 60;
/// Largest allowed distance between a signed request's timestamp and now, and the lifetime
/// written into the signed message.
const SIGNATURE_WINDOW_SECS: i64 = 120;
/// The sliding window of the registration limits (ours; the original had none).
pub const REGISTER_WINDOW_SECONDS: u64 = 60 * 60;
/// Registrations one owner (who signs them) may make per window.
pub const REGISTER_OWNER_LIMIT: u64 = 3;
/// Registrations one client IP may make per window.
pub const REGISTER_IP_LIMIT: u32 = 20;
/// The only TLD this registry serves.
const TLD: &str = "heaven";
/// The gateway every active name's A record points at.
const GATEWAY_IP: &str = "144.126.205.242";
/// DNS TTL for an answer with records.
const TTL_POSITIVE: u64 = 300;
/// DNS TTL for a negative answer (new registrations show up quickly).
const TTL_NEGATIVE: u64 = 60;

// ---------------------------------------------------------------------------------------------
// Lifecycle of a stored name
// ---------------------------------------------------------------------------------------------

/// Where a stored name stands at a given second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    /// Not yet expired.
    Active,
    /// Expired, but the owner can still renew; nobody else can register it.
    InGrace,
    /// Past the grace period: treated as unregistered and open to anyone.
    Lapsed,
}

impl Standing {
    fn of(name: &HeavenName, now_secs: u64) -> Self {
        if now_secs > name.grace_ends_at {
            Self::Lapsed
        } else if now_secs > name.expires_at {
            Self::InGrace
        } else {
            Self::Active
        }
    }

    /// The `status` responses show for a name that is not lapsed.
    fn wire_status(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::InGrace | Self::Lapsed => "expired",
        }
    }
}

fn stored_name(s: &State, label: &str) -> Option<HeavenName> {
    s.names().get(&label.to_string()).map(|Cbor(name)| name)
}

// ---------------------------------------------------------------------------------------------
// Controller and sweep
// ---------------------------------------------------------------------------------------------

/// Controller: reserve a label with a reason, or release it (None). The label is trimmed and
/// lowercased, as lookups are. Records an event only when something changes.
pub fn set_reserved(label: &str, reason: Option<String>, now: Now) {
    let label = label::normalize(label);
    state::mutate(|s| {
        if s.reserved().get(&label) != reason {
            process_event(s, now, EventType::ReservedChanged { label, reason });
        }
    });
}

/// The names whose certified GET /api/names/:label response may change at `now`, i.e. labels
/// whose grace ended (`grace_ends_at < now`), for the expiry sweep.
pub fn past_grace(now: Now) -> Vec<String> {
    let at = now.secs();
    state::with(|s| {
        s.names()
            .iter()
            .filter(|entry| entry.value().0.grace_ends_at < at)
            .map(|entry| entry.key().clone())
            .collect()
    })
}

#[cfg(test)]
mod tests;
