//! Text that ends up in a signed message or a published record keeps to its format (issue
//! #23): a profile CID to the CID alphabet (it is served in the DNS TXT record), a nonce to
//! letters, digits, `-` and `_` (it is a line of the signed message); punycode labels are
//! refused.

use super::*;

const CID: &str = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
const FORGED: [&str; 7] = [
    "bafy;pkp=0x0000000000000000000000000000000000000001",
    "bafy\npkp=0x0000000000000000000000000000000000000001",
    "bafy;v=2",
    "bafy cid",
    "bafy/ipfs",
    "bafy=",
    "bafyé",
];

#[test]
fn a_profile_cid_cannot_add_a_field_to_the_dns_txt_record() {
    let k = key(1);
    for bad in FORGED {
        // Signed by the owner, so only the format can refuse it.
        let body = register_body(&k, "alice", Some(bad), NONCE, T0);
        assert_failure(register(&post(&body), at(T0)), 400, "Invalid profileCid");
    }
    assert_eq!(stored("alice"), None);
    register_at(&k, "alice", Some(CID), NONCE, T0).unwrap();
    for bad in FORGED {
        let body = update_body(&k, "alice", json!(bad), &nonce(9), T0);
        assert_failure(update(&post(&body), at(T0)), 400, "Invalid profileCid");
    }
    set_dns_secret(None, true);
    let answer = ok_json(dns(Some("alice"), None, None, at(T0)));
    assert_eq!(
        answer["records"]["TXT"],
        json!([format!("pkp={};cid={CID};v=1", address(&k))])
    );
}

#[test]
fn a_nonce_cannot_add_a_line_to_the_signed_message() {
    let k = key(1);
    for bad in [
        "abcdef0123456789\nissued_at=1",
        "abcdef0123456789\r",
        "abcdef0123456789 x",
        "abcdef012345678;",
        "abcdef0123456789=",
        "äbcdef0123456789",
    ] {
        let body = register_body(&k, "alice", None, bad, T0);
        assert_failure(register(&post(&body), at(T0)), 400, "Invalid nonce");
    }
    // What clients make (crypto.randomUUID(), hex) passes.
    register_at(
        &k,
        "alice",
        None,
        "0f8d4e3a-2b1c-4d5e-8f90-a1b2c3d4e5f6",
        T0,
    )
    .unwrap();
    register_at(&k, "bobby", None, "00112233445566778899aabbccddeeff", T0).unwrap();
    let body = renew_body(&k, "alice", "abcdef0123456789\nx", T0);
    assert_failure(renew(&post(&body), at(T0)), 400, "Invalid nonce");
}

#[test]
fn punycode_labels_are_refused() {
    let k = key(1);
    // "xn--80ak6aa92e" renders as a Cyrillic look-alike of "apple".
    let body = register_body(&k, "xn--80ak6aa92e", None, NONCE, T0);
    assert_failure(
        register(&post(&body), at(T0)),
        400,
        "Invalid label: invalid_chars",
    );
    assert_eq!(
        ok_body(available("XN--80ak6aa92e", at(T0))),
        r#"{"available":false,"reason":"invalid_chars"}"#
    );
    // Other labels with hyphens are fine.
    register_at(&k, "x-n--name", None, NONCE, T0).unwrap();
}
