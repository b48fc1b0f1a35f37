//! The original's sessions-timing cases, in our words, plus the outcome and hash rules.

use super::*;

const START: UnixSeconds = UnixSeconds(1_700_000_000);

fn terms() -> SlotTerms {
    SlotTerms {
        start: START,
        duration_mins: 30,
        grace_mins: 5,
        min_overlap_mins: 10,
    }
}

fn at(minutes: u64) -> UnixSeconds {
    START.plus(minutes * 60)
}

fn stay(joined: u64, left: Option<u64>) -> Option<Stay> {
    Some(Stay {
        joined_at: at(joined),
        left_at: left.map(at),
    })
}

#[test]
fn the_no_show_window_is_start_plus_grace_for_one_duration() {
    let w = terms().windows();
    assert_eq!(w.no_show_earliest, at(5));
    assert_eq!(w.no_show_latest, at(35));
}

#[test]
fn the_completed_window_runs_from_the_minimum_overlap_to_two_hours_after_the_end() {
    let w = terms().windows();
    assert_eq!(w.completed_earliest, at(10));
    assert_eq!(w.completed_latest, at(30 + 120));
}

#[test]
fn no_shows_are_refused_before_the_grace_and_after_their_window() {
    let w = terms().windows();
    assert_eq!(
        check_window(Outcome::NoShowHost, at(4), &w),
        Err(TimingError::GraceNotOver)
    );
    assert_eq!(
        check_window(Outcome::NoShowGuest, at(36), &w),
        Err(TimingError::NoShowTooLate)
    );
    assert_eq!(check_window(Outcome::NoShowHost, at(20), &w), Ok(()));
    assert_eq!(
        check_window(Outcome::Completed, at(9), &w),
        Err(TimingError::OverlapNotMet)
    );
    assert_eq!(
        check_window(Outcome::Completed, at(151), &w),
        Err(TimingError::CompletedTooLate)
    );
}

#[test]
fn timing_errors_split_into_retry_later_and_never() {
    assert!(TimingError::GraceNotOver.is_retryable());
    assert!(TimingError::OverlapNotMet.is_retryable());
    assert!(!TimingError::NoShowTooLate.is_retryable());
    assert!(!TimingError::CompletedTooLate.is_retryable());
}

#[test]
fn booked_status_conflicts_count_as_already_settled() {
    assert!(is_already_settled_error(
        "booking status is Attested, expected Booked"
    ));
    assert!(is_already_settled_error(
        "execution reverted: status is not booked"
    ));
    assert!(!is_already_settled_error("rpc timeout"));
}

#[test]
fn outcomes_follow_the_presence() {
    let now = at(40);
    // Both there for 20 minutes.
    assert_eq!(
        derive_outcome(&terms(), stay(0, Some(25)), stay(5, None), now),
        Outcome::Completed
    );
    // The host left early, the guest stayed: the host did not show.
    assert_eq!(
        derive_outcome(&terms(), stay(0, Some(3)), stay(1, Some(30)), now),
        Outcome::NoShowHost
    );
    // The guest left first.
    assert_eq!(
        derive_outcome(&terms(), stay(0, Some(30)), stay(1, Some(3)), now),
        Outcome::NoShowGuest
    );
    assert_eq!(
        derive_outcome(&terms(), None, None, now),
        Outcome::NoShowHost
    );
    assert_eq!(
        derive_outcome(&terms(), stay(0, None), None, now),
        Outcome::NoShowGuest
    );
}

#[test]
fn the_metrics_hash_is_keccak_of_the_originals_json() {
    let m = Metrics::of("17", stay(0, Some(30)), stay(5, Some(30)), at(40));
    assert_eq!(
        m.json(),
        format!(
            "{{\"bookingId\":\"17\",\"hostJoinedAt\":{},\"hostLeftAt\":{},\"guestJoinedAt\":{},\"guestLeftAt\":{},\"overlapSeconds\":1500}}",
            START.0,
            at(30).0,
            at(5).0,
            at(30).0
        )
    );
    let absent = Metrics::of("9", None, stay(1, None), at(40));
    assert_eq!(
        (
            absent.host_joined_at,
            absent.host_left_at,
            absent.overlap_seconds
        ),
        (0, at(40).0, 0)
    );
}
