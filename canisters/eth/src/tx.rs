//! EIP-1559 (type 2) transactions: the signing hash and the signed raw encoding that
//! `eth_sendRawTransaction` takes.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::{Decodable, Encodable, Header};

use crate::{EthError, signature};

#[cfg(test)]
mod tests;

/// The EIP-2718 type byte of EIP-1559 transactions.
const TX_TYPE: u8 = 0x02;
/// RLP of an empty list: the (always empty) access list.
const EMPTY_LIST: u8 = 0xc0;

/// EIP-1559 (type 2) transaction with an empty access list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip1559Tx {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Sender's account nonce.
    pub nonce: u64,
    /// Tip per gas to the block producer, in wei.
    pub max_priority_fee_per_gas: u128,
    /// Upper bound of base fee plus tip per gas, in wei.
    pub max_fee_per_gas: u128,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient (contract creation is not supported).
    pub to: Address,
    /// Wei transferred.
    pub value: U256,
    /// Calldata.
    pub data: Vec<u8>,
}

impl Eip1559Tx {
    /// keccak256(`0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit,
    /// to, value, data, accessList])`).
    pub fn signing_hash(&self) -> B256 {
        let mut out = vec![TX_TYPE];
        Header {
            list: true,
            payload_length: self.fields_length(),
        }
        .encode(&mut out);
        self.encode_fields(&mut out);
        keccak256(&out)
    }

    /// `0x02 || rlp([...9 fields..., yParity, r, s])` from a 65-byte `r || s || v` signature
    /// (`v` 27/28 or 0/1). The signature must be low-s (EIP-2); a high `s` is an error.
    pub fn encode_signed(&self, sig65: &[u8; 65]) -> Result<Vec<u8>, EthError> {
        let y_parity = signature::parity_of_v(sig65[64])?;
        let sig = signature::parse_rs(&sig65[..64])?;
        if sig.normalize_s().is_some() {
            return Err(EthError::HighS);
        }
        let r = U256::from_be_slice(&sig65[..32]);
        let s = U256::from_be_slice(&sig65[32..64]);
        let payload_length = self.fields_length() + y_parity.length() + r.length() + s.length();
        let mut out = Vec::with_capacity(1 + 9 + payload_length);
        out.push(TX_TYPE);
        Header {
            list: true,
            payload_length,
        }
        .encode(&mut out);
        self.encode_fields(&mut out);
        y_parity.encode(&mut out);
        r.encode(&mut out);
        s.encode(&mut out);
        Ok(out)
    }

    /// The transaction hash: keccak256 of [`Self::encode_signed`].
    pub fn hash_signed(&self, sig65: &[u8; 65]) -> Result<B256, EthError> {
        Ok(keccak256(self.encode_signed(sig65)?))
    }

    /// Reads back a signed raw transaction ([`Self::encode_signed`]'s output, e.g. what a fake
    /// node received): the transaction and its 65-byte `r || s || v` signature (`v` 27/28).
    /// Only transactions with an empty access list are accepted.
    pub fn decode_signed(raw: &[u8]) -> Result<(Eip1559Tx, [u8; 65]), EthError> {
        let invalid = |_| EthError::InvalidTransaction;
        let Some((&TX_TYPE, mut rest)) = raw.split_first() else {
            return Err(EthError::InvalidTransaction);
        };
        let header = Header::decode(&mut rest).map_err(invalid)?;
        if !header.list || header.payload_length != rest.len() {
            return Err(EthError::InvalidTransaction);
        }
        let tx = Eip1559Tx {
            chain_id: u64::decode(&mut rest).map_err(invalid)?,
            nonce: u64::decode(&mut rest).map_err(invalid)?,
            max_priority_fee_per_gas: u128::decode(&mut rest).map_err(invalid)?,
            max_fee_per_gas: u128::decode(&mut rest).map_err(invalid)?,
            gas_limit: u64::decode(&mut rest).map_err(invalid)?,
            to: Address::decode(&mut rest).map_err(invalid)?,
            value: U256::decode(&mut rest).map_err(invalid)?,
            data: alloy_primitives::Bytes::decode(&mut rest)
                .map_err(invalid)?
                .to_vec(),
        };
        if rest.first() != Some(&EMPTY_LIST) {
            return Err(EthError::InvalidTransaction);
        }
        rest = &rest[1..];
        let y_parity = u8::decode(&mut rest).map_err(invalid)?;
        let r = U256::decode(&mut rest).map_err(invalid)?;
        let s = U256::decode(&mut rest).map_err(invalid)?;
        if !rest.is_empty() || y_parity > 1 {
            return Err(EthError::InvalidTransaction);
        }
        let mut sig = [0u8; 65];
        sig[..32].copy_from_slice(&r.to_be_bytes::<32>());
        sig[32..64].copy_from_slice(&s.to_be_bytes::<32>());
        sig[64] = 27 + y_parity;
        Ok((tx, sig))
    }

    /// RLP payload length of the nine unsigned fields.
    fn fields_length(&self) -> usize {
        self.chain_id.length()
            + self.nonce.length()
            + self.max_priority_fee_per_gas.length()
            + self.max_fee_per_gas.length()
            + self.gas_limit.length()
            + self.to.length()
            + self.value.length()
            + self.data.as_slice().length()
            + 1
    }

    /// RLP of the nine unsigned fields, without the list header.
    fn encode_fields(&self, out: &mut Vec<u8>) {
        self.chain_id.encode(out);
        self.nonce.encode(out);
        self.max_priority_fee_per_gas.encode(out);
        self.max_fee_per_gas.encode(out);
        self.gas_limit.encode(out);
        self.to.encode(out);
        self.value.encode(out);
        self.data.as_slice().encode(out);
        out.push(EMPTY_LIST);
    }
}
