//! The shipped identity wasm's publishing signer, on the harness (and PocketIC when
//! `POCKET_IC_BIN` is set): `finalize_track` computes the track's ids, reads and writes Tempo
//! through HTTP outcalls (forwarded to the fake node, which recovers each transaction's
//! signer) with threshold-ECDSA signatures by the operator and sponsor roles; a retry with the
//! same request id answers the same without a transaction; strangers are refused; the audit
//! log rebuilds the state.

#[path = "../benches/support/identity_gateway.rs"]
mod identity_gateway;

use candid::Principal;
use heaven_eth::abi::{SolCall, registerContentForCall, registerTracksBatchCall};
use heaven_eth::{address, hex32};
use ic_wasm_harness::{Scenario, ScenarioExt, scenario_tests, user};
use identity_canister::endpoints::publishing::{
    FinalizeTrackReply, FinalizeTrackRequest, PublishError, PublisherAddresses,
};
use identity_canister::endpoints::{AdminError, AuditReport};
use identity_canister::publishing::track;
use identity_canister::testing::tempo::{FakeTempo, SAMPLE_USER as USER, sample_finalize};
use identity_gateway::{controller, install_identity};

const CHAIN_ID: u64 = 42431;
const SCROBBLE: &str = "0xe00e82086480E61AaC8d5ad8B05B56A582dD0000";
const CONTENT_REGISTRY: &str = "0x2A3beA895AE5bb4415c436155cbA15a97ACc2C77";

fn request(id: &str) -> FinalizeTrackRequest {
    sample_finalize(id)
}

fn finalize(
    s: &mut dyn Scenario,
    c: Principal,
    caller: Principal,
    request: &FinalizeTrackRequest,
) -> Result<FinalizeTrackReply, PublishError> {
    let bytes = s
        .update_raw(
            c,
            caller,
            "finalize_track",
            candid::encode_one(request).unwrap(),
        )
        .unwrap();
    candid::decode_one(&bytes).unwrap()
}

/// `finalize_track` on the wasm against the fake Tempo node.
fn finalize_track_signs_with_the_operator_and_sponsor_roles(s: &mut dyn Scenario) {
    let c = install_identity(s);
    let admin = controller(s);
    // The fake node runs on its own runtime; the harness forwards outcalls to it.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let node = runtime.block_on(FakeTempo::start(
        CHAIN_ID,
        address::parse(SCROBBLE).unwrap(),
        address::parse(CONTENT_REGISTRY).unwrap(),
    ));
    let config = node.publishing_config();
    let refused: Result<(), AdminError> = s
        .update_as(c, user(), "set_publishing_config", (config.clone(),))
        .unwrap();
    assert_eq!(refused, Err(AdminError::NotController));
    let set: Result<(), AdminError> = s
        .update_as(c, admin, "set_publishing_config", (config,))
        .unwrap();
    assert_eq!(set, Ok(()));

    let addresses: Result<PublisherAddresses, String> =
        s.update_as(c, admin, "publisher_addresses", ()).unwrap();
    let addresses = addresses.unwrap();
    let operator = address::parse(&addresses.tempo_operator).unwrap();
    let sponsor = address::parse(&addresses.tempo_sponsor).unwrap();
    node.authorize(operator, sponsor);

    // Only controllers and listed publishers may publish.
    assert_eq!(
        finalize(s, c, user(), &request("job-1")),
        Err(PublishError::NotAuthorized)
    );

    let reply = finalize(s, c, admin, &request("job-1")).unwrap();
    let sent = node.received();
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[0].from, sent[1].from), (operator, sponsor));
    assert!(sent.iter().all(|t| t.succeeded));
    let register = registerTracksBatchCall::abi_decode(&sent[0].tx.data).unwrap();
    assert_eq!(register.titles, vec!["Song".to_string()]);
    assert_eq!(register.durations, vec![215]);
    let content = registerContentForCall::abi_decode(&sent[1].tx.data).unwrap();
    assert_eq!(content.pieceCid.to_vec(), b"staged-dataitem-id".to_vec());

    let ids = track::meta_track_ids("Song", "Artist", "");
    assert_eq!(reply.track_id, hex32::b256_hex(&ids.track_id));
    assert_eq!(
        reply.content_id,
        hex32::b256_hex(&track::content_id(
            ids.track_id,
            address::parse(USER).unwrap()
        ))
    );
    assert_eq!(reply.scrobble_tx_hash, Some(hex32::b256_hex(&sent[0].hash)));
    assert_eq!(reply.tempo_tx_hash, Some(hex32::b256_hex(&sent[1].hash)));
    assert!(reply.track_registered && reply.content_registered && !reply.cover_set);

    // A retry answers the same, with no transaction.
    assert_eq!(finalize(s, c, admin, &request("job-1")), Ok(reply));
    assert_eq!(node.received().len(), 2);

    let bytes = s
        .query_raw(c, admin, "audit_check", candid::encode_args(()).unwrap())
        .unwrap();
    let report: Result<AuditReport, AdminError> = candid::decode_one(&bytes).unwrap();
    assert!(
        matches!(report, Ok(AuditReport::Consistent { .. })),
        "{report:?}"
    );
    drop(runtime);
}

scenario_tests!(finalize_track_signs_with_the_operator_and_sponsor_roles);
