//! `attest_scrobble_batch` (contracts §1.6 and §3.6, the original's `lib/eas.ts`): one EAS
//! attestation of an uploaded scrobble batch, signed by the scrobble-attester role. Its data
//! is the ABI encoding of `(uint64 startTs, uint64 endTs, uint32 count, string cid)` under the
//! scrobble schema, recipient the user, no expiry, revocable, no reference, no value; the UID
//! is read from the receipt's `Attested` log. An attestation is not idempotent on chain, so
//! the request id (and the transaction kept for it) is what prevents a second one.

use canister_runtime::Runtime;
use heaven_eth::abi::{
    AttestationRequest, AttestationRequestData, Attested, SolCall, SolEvent, SolValue,
    easAttestCall,
};
use heaven_eth::{Address, B256, U256, address, hex32};
use heaven_evm::chain::{Chain, Log};

use super::ledger::Ticket;
use super::request::ValidAttestation;
use super::transact::{Step, Writer};
use crate::endpoints::publishing::{AttestScrobbleBatchReply, PublishError};
use crate::signer::Role;
use crate::state::publishing::EasConfig;

/// The step name of the attestation's transaction.
pub(super) const ATTEST: &str = "attest";
/// How long the attestation's receipt is waited for.
const WAIT_TIMEOUT_SECS: u64 = 45;

/// The configured EAS contract and schema.
pub(super) struct Eas {
    config: EasConfig,
    eas: Address,
    schema: B256,
}

impl Eas {
    /// The settings, when attestations may be sent.
    pub(super) fn load(config: EasConfig) -> Result<Self, PublishError> {
        let not_configured =
            || PublishError::NotConfigured("Scrobble attestation is not configured".to_string());
        if !config.enabled {
            return Err(not_configured());
        }
        Ok(Self {
            eas: address::parse(&config.eas).ok_or_else(not_configured)?,
            schema: hex32::parse_b256(&config.schema).ok_or_else(not_configured)?,
            config,
        })
    }
}

/// The schema data: `abi.encode(uint64 startTs, uint64 endTs, uint32 count, string cid)`.
pub fn batch_data(start_ts: u64, end_ts: u64, count: u32, cid: &str) -> Vec<u8> {
    (start_ts, end_ts, count, cid.to_string()).abi_encode_params()
}

/// The `attest` calldata for the batch.
pub fn attest_calldata(schema: B256, batch: &ValidAttestation) -> Vec<u8> {
    easAttestCall {
        request: AttestationRequest {
            schema,
            data: AttestationRequestData {
                recipient: batch.user,
                expirationTime: 0,
                revocable: true,
                refUID: B256::ZERO,
                data: batch_data(batch.start_ts, batch.end_ts, batch.count, &batch.cid).into(),
                value: U256::ZERO,
            },
        },
    }
    .abi_encode()
}

/// The UID of the first `Attested` log (zero when there is none, as the original).
pub fn attestation_uid(logs: &[Log]) -> B256 {
    logs.iter()
        .find(|l| l.topics.first() == Some(&Attested::SIGNATURE_HASH) && l.data.len() >= 32)
        .map(|l| B256::from_slice(&l.data[..32]))
        .unwrap_or(B256::ZERO)
}

/// Sends the attestation and reads its UID.
pub(super) async fn run<R: Runtime>(
    rt: &R,
    ticket: &Ticket,
    eas: &Eas,
    batch: &ValidAttestation,
) -> Result<AttestScrobbleBatchReply, PublishError> {
    let writer = Writer {
        rt,
        chain: Chain::new(rt, eas.config.rpc_url.clone()),
        chain_id: eas.config.chain_id,
        receipt_polls: eas.config.receipt_polls,
        wait_timeout_ns: WAIT_TIMEOUT_SECS * 1_000_000_000,
    };
    let step = Step {
        name: ATTEST,
        role: Role::ScrobbleAttester,
        to: eas.eas,
        data: attest_calldata(eas.schema, batch),
        gas_limit: eas.config.gas_limit,
    };
    let mined = writer
        .transact(ticket, step)
        .await
        .map_err(PublishError::Failed)?;
    Ok(AttestScrobbleBatchReply {
        attestation_uid: hex32::b256_hex(&attestation_uid(&mined.logs)),
        tx_hash: hex32::b256_hex(&mined.hash),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_data_is_the_originals_hand_encoding() {
        // Four head words (start, end, count, offset 0x80), the length, the padded bytes.
        let data = batch_data(1_700_000_000, 1_700_000_600, 3, "abc");
        let word = |i: usize| hex::encode(&data[i * 32..(i + 1) * 32]);
        assert_eq!(data.len(), 6 * 32);
        assert_eq!(word(0), format!("{:064x}", 1_700_000_000u64));
        assert_eq!(word(1), format!("{:064x}", 1_700_000_600u64));
        assert_eq!(word(2), format!("{:064x}", 3));
        assert_eq!(word(3), format!("{:064x}", 0x80));
        assert_eq!(word(4), format!("{:064x}", 3));
        assert_eq!(word(5), format!("616263{}", "0".repeat(58)));
    }

    #[test]
    fn the_uid_comes_from_the_first_attested_log() {
        let uid = B256::from([7; 32]);
        let other = Log {
            address: Address::ZERO,
            topics: vec![B256::from([1; 32])],
            data: vec![9; 32],
        };
        let attested = Log {
            address: Address::ZERO,
            topics: vec![Attested::SIGNATURE_HASH],
            data: uid.to_vec(),
        };
        assert_eq!(attestation_uid(&[other.clone(), attested]), uid);
        assert_eq!(attestation_uid(&[other]), B256::ZERO);
    }
}
