//! Entitlement windows: a paid (or free) entry lets a wallet watch a room, live or its replay,
//! until an expiry; paying again while entitled extends from the current expiry, otherwise from
//! now (`max(current, now) + window`). Live and replay are separate, per room, not per segment.

use minicbor::{Decode, Encode};

use super::EntitlementKind;
use crate::units::UnixSeconds;

/// What a wallet may watch in one room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Entitlement {
    /// Live viewing until this second.
    #[n(0)]
    pub live_expires_at: Option<UnixSeconds>,
    /// Replay viewing until this second.
    #[n(1)]
    pub replay_expires_at: Option<UnixSeconds>,
}

impl Entitlement {
    /// The expiry of `kind`.
    pub fn expires_at(&self, kind: EntitlementKind) -> Option<UnixSeconds> {
        match kind {
            EntitlementKind::Live => self.live_expires_at,
            EntitlementKind::Replay => self.replay_expires_at,
        }
    }

    /// Whether `kind` is still valid at `now`.
    pub fn is_active(&self, kind: EntitlementKind, now: UnixSeconds) -> bool {
        self.expires_at(kind).is_some_and(|at| at > now)
    }

    /// The expiry after buying `window_seconds` more of `kind` at `now`.
    pub fn extended_expiry(
        &self,
        kind: EntitlementKind,
        now: UnixSeconds,
        window_seconds: u64,
    ) -> UnixSeconds {
        let base = self.expires_at(kind).unwrap_or_default().max(now);
        base.plus(window_seconds)
    }

    /// The entitlement with `kind` valid at least until `expires_at` (never shortened).
    pub fn raised_to(&self, kind: EntitlementKind, expires_at: UnixSeconds) -> Entitlement {
        let raise =
            |current: Option<UnixSeconds>| Some(current.unwrap_or_default().max(expires_at));
        match kind {
            EntitlementKind::Live => Entitlement {
                live_expires_at: raise(self.live_expires_at),
                ..*self
            },
            EntitlementKind::Replay => Entitlement {
                replay_expires_at: raise(self.replay_expires_at),
                ..*self
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_extend_from_the_later_of_expiry_and_now() {
        let none = Entitlement::default();
        assert!(!none.is_active(EntitlementKind::Live, UnixSeconds(0)));
        let day = 1440 * 60;
        let first = none.extended_expiry(EntitlementKind::Live, UnixSeconds(1000), day);
        assert_eq!(first, UnixSeconds(1000 + day));
        let live = none.raised_to(EntitlementKind::Live, first);
        assert!(live.is_active(EntitlementKind::Live, UnixSeconds(2000)));
        assert!(!live.is_active(EntitlementKind::Replay, UnixSeconds(2000)));
        // Paying again while entitled stacks the window.
        assert_eq!(
            live.extended_expiry(EntitlementKind::Live, UnixSeconds(2000), day),
            UnixSeconds(1000 + 2 * day)
        );
        // After expiry it starts from now.
        assert_eq!(
            live.extended_expiry(EntitlementKind::Live, UnixSeconds(1000 + 3 * day), day),
            UnixSeconds(1000 + 4 * day)
        );
        // Raising never shortens.
        assert_eq!(live.raised_to(EntitlementKind::Live, UnixSeconds(5)), live);
    }
}
