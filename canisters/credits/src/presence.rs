//! Who was in a booked session and when: the worker records each join and leave of a booked
//! room (`/session/join`, `/session/:id/leave`); the attestation reads them. As the original,
//! the attestation looks at a wallet's **first** stay in the room only (repeated joins are not
//! aggregated).

use minicbor::{Decode, Encode};

use crate::units::UnixSeconds;

/// One stay of a wallet in a booked room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Stay {
    /// Joined at.
    #[n(0)]
    pub joined_at: UnixSeconds,
    /// Left at (`None` while still in, or when the leave was never reported).
    #[n(1)]
    pub left_at: Option<UnixSeconds>,
}

/// A wallet's stays in one booked room, in join order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode)]
pub struct Presence {
    /// The stays.
    #[n(0)]
    pub stays: Vec<Stay>,
}

/// Stays kept per wallet and booking (a session is 1:1 and short; this bounds abuse).
pub const MAX_STAYS: usize = 64;

impl Presence {
    /// The first stay, which the attestation uses.
    pub fn first(&self) -> Option<Stay> {
        self.stays.first().copied()
    }

    /// After a join at `at` (a new stay; beyond [`MAX_STAYS`] the join is not kept).
    pub fn joined(&self, at: UnixSeconds) -> Presence {
        let mut stays = self.stays.clone();
        if stays.len() < MAX_STAYS {
            stays.push(Stay {
                joined_at: at,
                left_at: None,
            });
        }
        Presence { stays }
    }

    /// After a leave at `at`: closes the earliest open stay (none open: unchanged).
    pub fn left(&self, at: UnixSeconds) -> Presence {
        let mut stays = self.stays.clone();
        if let Some(open) = stays.iter_mut().find(|s| s.left_at.is_none()) {
            open.left_at = Some(at.max(open.joined_at));
        }
        Presence { stays }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_leaves_pair_up_in_order() {
        let p = Presence::default()
            .joined(UnixSeconds(10))
            .joined(UnixSeconds(20))
            .left(UnixSeconds(30));
        assert_eq!(
            p.first(),
            Some(Stay {
                joined_at: UnixSeconds(10),
                left_at: Some(UnixSeconds(30))
            })
        );
        assert_eq!(p.stays[1].left_at, None);
        let p = p.left(UnixSeconds(5));
        assert_eq!(
            p.stays[1].left_at,
            Some(UnixSeconds(20)),
            "never before the join"
        );
        assert_eq!(
            Presence::default().left(UnixSeconds(1)),
            Presence::default()
        );
    }
}
