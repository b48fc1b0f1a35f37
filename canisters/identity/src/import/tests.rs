//! Tests of import checks and summaries.

use canister_runtime::native::HostMemory;

use super::*;
use crate::admin;
use crate::state::event::PermitIssuance;
use crate::state::{self, Like, User};
use crate::time::Now;

const A: &str = "0xAaAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn rows() -> ImportRows {
    ImportRows {
        users: vec![User {
            address: A.into(),
            created_at_ms: 1,
            last_active_at_ms: Some(2),
            directory_tier: "verified".into(),
        }],
        likes: vec![Like {
            id: 3,
            liker_address: A.into(),
            target_type: "user".into(),
            target_id: "0xB0000000000000000000000000000000000000bb".into(),
            created_at_ms: 4,
        }],
        permit_issuance: vec![
            PermitIssuance {
                wallet: A.into(),
                ip_hash: Some("ab".into()),
                label_hash: "0x01".into(),
                parent_node: "0x02".into(),
                issued_at: 5,
                ..Default::default()
            };
            2
        ],
        ..Default::default()
    }
}

#[test]
fn rows_are_normalised_and_bad_rows_named() {
    let checked = check_rows(rows()).unwrap();
    assert_eq!(checked.users[0].address, A.to_lowercase());
    // The like's target id stays as sent.
    assert_eq!(
        checked.likes[0].target_id,
        "0xB0000000000000000000000000000000000000bb"
    );
    let mut bad = rows();
    bad.likes[0].target_type = "page".into();
    assert_eq!(
        check_rows(bad).unwrap_err(),
        r#"likes[0]: target_type "page" is not one of ["user", "shadow"]"#
    );
    let mut bad = rows();
    bad.users[0].directory_tier = "gold".into();
    assert!(
        check_rows(bad)
            .unwrap_err()
            .starts_with("users[0]: directory_tier")
    );
    let mut bad = rows();
    bad.permit_issuance[1].wallet = "0x1".into();
    assert!(
        check_rows(bad)
            .unwrap_err()
            .starts_with("name_permit_issuance[1]: wallet_address")
    );
}

#[test]
fn stored_summary_equals_the_sent_one_and_a_changed_row_shows() {
    state::install_memory(HostMemory::volatile());
    let checked = check_rows(rows()).unwrap();
    let sent = summarize(&checked);
    assert_eq!(sent.len(), TABLES.len());
    assert_eq!((sent[0].table.as_str(), sent[0].rows), ("users", 1));
    assert_eq!(
        (sent[9].table.as_str(), sent[9].rows),
        ("name_permit_issuance", 4)
    );
    let outcome = admin::import_batch("r".into(), 0, rows(), Now::from_secs(9)).unwrap();
    assert!(outcome.applied);
    assert_eq!(outcome.summary, sent);
    // Sent again (a resumed run): skipped, same summary.
    let again = admin::import_batch("r".into(), 0, rows(), Now::from_secs(9)).unwrap();
    assert!(!again.applied);
    assert_eq!(again.summary, sent);
    assert_eq!(admin::import_progress("r"), vec![0]);
    // A user whose row then changes no longer matches what was sent.
    crate::dating::tests_support::touch_user(&A.to_lowercase());
    let stored = state::with(|s| summarize_stored(s, &checked));
    assert_ne!(stored[0].sha256, sent[0].sha256);
    assert_eq!(stored[3], sent[3]);
}

#[test]
fn combined_summaries_chain_batches_in_order() {
    let one = summarize(&check_rows(rows()).unwrap());
    let empty = summarize(&ImportRows::default());
    let ab = combine(&[one.clone(), empty.clone()]);
    let ba = combine(&[empty, one]);
    assert_eq!(ab[0].rows, 1);
    assert_ne!(ab[0].sha256, ba[0].sha256);
}
