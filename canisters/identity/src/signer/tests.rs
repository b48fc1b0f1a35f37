//! Tests of the signing roles.

use super::*;
use canister_runtime::native::NativeRuntime;

#[tokio::test]
async fn signature_recovers_to_the_reported_address_and_roles_differ() {
    let dir = tempfile::tempdir().unwrap();
    let rt = NativeRuntime::open(dir.path()).unwrap();
    let signer = address(&rt, Role::PolicySigner).await.unwrap();
    let relayer = address(&rt, Role::Relayer).await.unwrap();
    assert_ne!(signer, relayer);
    assert_eq!(cached_address(Role::PolicySigner), Some(signer));
    // Keys are kept in stable state and their first use is an audit event, once.
    assert_eq!(address(&rt, Role::PolicySigner).await.unwrap(), signer);
    let fetched = state::with(|s| {
        s.events_from(0)
            .filter(|e| matches!(e.payload, EventType::SignerKeyFetched { .. }))
            .count()
    });
    assert_eq!(fetched, 2);
    assert_eq!(state::with(|s| s.signer_keys().len()), 2);

    let digest = heaven_eth::keccak256(b"a digest");
    let sig = sign(&rt, Role::PolicySigner, digest).await.unwrap();
    assert!(sig[64] == 27 || sig[64] == 28);
    let recovered = heaven_eth::signature::recover_prehash(&digest, &sig).unwrap();
    assert_eq!(recovered, signer);
    // low-s: s <= n/2
    let half_n =
        hex::decode("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0").unwrap();
    assert!(sig[32..64] <= half_n[..]);
}
