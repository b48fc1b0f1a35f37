//! [`AgentPublishing`] against the real identity wasm served by the harness over the IC HTTP
//! interface: the worker's principal is listed as a publisher, `finalize_track` goes through
//! ic-agent, the canister signs with its operator and sponsor roles (the fake Tempo node
//! recovers them), a retry with the same request id answers the same with no transaction, and
//! a worker that is not listed gets the canister's refusal, not a transport error.

mod common;

use candid::{Encode, Principal};
use canister_bridge::{AgentPublishing, PublishingClient, PublishingError};
use common::{connect, identity_harness, serve, worker_principal};
use heaven_eth::address;
use ic_wasm_harness::Harness;
use identity_canister::endpoints::AdminError;
use identity_canister::endpoints::publishing::{
    FinalizeTrackRequest, PublishError, PublisherAddresses,
};
use identity_canister::state::PublishingConfig;
use identity_canister::testing::tempo::{FakeTempo, sample_finalize};

/// The sample request, with a cover.
fn request(id: &str) -> FinalizeTrackRequest {
    FinalizeTrackRequest {
        cover_ref: Some("ls3://cover".into()),
        ..sample_finalize(id)
    }
}

fn controller_update<R: candid::CandidType + for<'de> candid::Deserialize<'de>>(
    harness: &mut Harness,
    c: Principal,
    method: &str,
    arg: Vec<u8>,
) -> R {
    let reply = harness
        .update_call(c, Harness::controller(), method, arg)
        .unwrap();
    candid::decode_one(&reply).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn finalize_track_goes_through_ic_agent_and_is_signed_by_the_roles() {
    let scrobble = address::parse("0xe00e82086480E61AaC8d5ad8B05B56A582dD0000").unwrap();
    let registry = address::parse("0x2A3beA895AE5bb4415c436155cbA15a97ACc2C77").unwrap();
    let node = FakeTempo::start(42431, scrobble, registry).await;

    let (mut harness, c) = identity_harness();
    let config = PublishingConfig {
        publishers: vec![worker_principal(7).to_text()],
        ..node.publishing_config()
    };
    let set: Result<(), AdminError> = controller_update(
        &mut harness,
        c,
        "set_publishing_config",
        Encode!(&config).unwrap(),
    );
    assert_eq!(set, Ok(()));
    let addresses: Result<PublisherAddresses, String> =
        controller_update(&mut harness, c, "publisher_addresses", Encode!().unwrap());
    let addresses = addresses.unwrap();
    let operator = address::parse(&addresses.tempo_operator).unwrap();
    let sponsor = address::parse(&addresses.tempo_sponsor).unwrap();
    node.authorize(operator, sponsor);

    let server = serve(harness).await;
    let publishing = AgentPublishing::new(connect(server.url(), 7).await, c);
    let reply = publishing.finalize_track(request("job-1")).await.unwrap();
    let sent = node.received();
    let signers: Vec<_> = sent.iter().map(|t| t.from).collect();
    assert_eq!(signers, vec![operator, operator, sponsor]);
    assert!(reply.track_registered && reply.content_registered && reply.cover_set);

    let again = publishing.finalize_track(request("job-1")).await.unwrap();
    assert_eq!(again, reply);
    assert_eq!(node.received().len(), 3);

    let stranger = AgentPublishing::new(connect(server.url(), 8).await, c);
    let refused = stranger.finalize_track(request("job-2")).await.unwrap_err();
    assert_eq!(
        refused,
        PublishingError::Canister(PublishError::NotAuthorized)
    );
    assert!(!refused.is_retryable());
}
