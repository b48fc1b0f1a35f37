//! ANS-104 data items signed with an Ethereum key (signature type 3), as Irys accepts them.
//!
//! Layout (all integers little-endian): signature type (u16), signature (65 bytes: r, s, v
//! with v = 27/28), owner (65-byte uncompressed secp256k1 public key), target flag (+32 bytes),
//! anchor flag (+32 bytes), tag count (u64), tag bytes length (u64), tags (Avro array of
//! `{name: string, value: string}` records), then the data. The signed message is the
//! SHA-384 "deep hash" of `["dataitem", "1", "3", owner, target, anchor, tags, data]`, signed
//! as an Ethereum personal message (`keccak256("\x19Ethereum Signed Message:\n48" ‖ hash)`).
//! The item's id is `base64url(sha256(signature))`.
//!
//! The data is hashed incrementally ([`DataHasher`]), so a 1 GB item is signed without holding
//! it in memory: only the header is built here; the data is streamed after it.

use base64::Engine as _;
use k256::ecdsa::signature::hazmat::PrehashVerifier;
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use portability::{BlobTag, PortabilityError, Result};
use sha2::{Digest, Sha256, Sha384};
use tiny_keccak::{Hasher, Keccak};

/// The ANS-104 signature type of Ethereum (secp256k1, personal-message) signatures.
pub const ETHEREUM_SIGNATURE_TYPE: u16 = 3;
const SIGNATURE_LEN: usize = 65;
const OWNER_LEN: usize = 65;

fn invalid(message: impl Into<String>) -> PortabilityError {
    PortabilityError::InvalidInput(message.into())
}

fn sha384(parts: &[&[u8]]) -> [u8; 48] {
    let mut h = Sha384::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// The deep hash of one byte string (`blob` node).
fn deep_hash_blob(data: &[u8]) -> [u8; 48] {
    blob_node(data.len() as u64, sha384(&[data]))
}

fn blob_node(len: u64, data_sha384: [u8; 48]) -> [u8; 48] {
    let tag = sha384(&[format!("blob{len}").as_bytes()]);
    sha384(&[&tag, &data_sha384])
}

/// Incremental deep hash of an item's data: feed every chunk, then [`DataHasher::finish`].
#[derive(Default, Clone)]
pub struct DataHasher {
    sha: Sha384,
    len: u64,
}

impl DataHasher {
    /// A hasher for empty data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next chunk of data.
    pub fn update(&mut self, chunk: &[u8]) {
        self.sha.update(chunk);
        self.len += chunk.len() as u64;
    }

    /// The deep hash of all data fed so far.
    pub fn finish(self) -> [u8; 48] {
        blob_node(self.len, self.sha.finalize().into())
    }
}

/// The message an item's signature covers, from its fields and its data's deep hash.
fn signature_message(
    owner: &[u8],
    target: &[u8],
    anchor: &[u8],
    tags: &[u8],
    data: [u8; 48],
) -> [u8; 48] {
    let items: [[u8; 48]; 8] = [
        deep_hash_blob(b"dataitem"),
        deep_hash_blob(b"1"),
        deep_hash_blob(ETHEREUM_SIGNATURE_TYPE.to_string().as_bytes()),
        deep_hash_blob(owner),
        deep_hash_blob(target),
        deep_hash_blob(anchor),
        deep_hash_blob(tags),
        data,
    ];
    let mut acc = sha384(&[format!("list{}", items.len()).as_bytes()]);
    for item in items {
        acc = sha384(&[&acc, &item]);
    }
    acc
}

fn personal_message_hash(message: &[u8; 48]) -> [u8; 32] {
    let mut k = Keccak::v256();
    k.update(b"\x19Ethereum Signed Message:\n48");
    k.update(message);
    let mut out = [0u8; 32];
    k.finalize(&mut out);
    out
}

fn zigzag(value: i64, out: &mut Vec<u8>) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn read_zigzag(bytes: &[u8], pos: &mut usize) -> Result<i64> {
    let mut n: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes
            .get(*pos)
            .ok_or_else(|| invalid("truncated Avro varint"))?;
        *pos += 1;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((n >> 1) as i64 ^ -((n & 1) as i64));
        }
    }
    Err(invalid("Avro varint too long"))
}

/// Encodes tags as the Avro array ANS-104 uses (empty tags encode as no bytes at all).
pub fn encode_tags(tags: &[BlobTag]) -> Vec<u8> {
    let mut out = Vec::new();
    if tags.is_empty() {
        return out;
    }
    zigzag(tags.len() as i64, &mut out);
    for tag in tags {
        for s in [&tag.name, &tag.value] {
            zigzag(s.len() as i64, &mut out);
            out.extend_from_slice(s.as_bytes());
        }
    }
    zigzag(0, &mut out);
    out
}

/// Decodes the Avro tag array written by [`encode_tags`] (or any Avro writer using blocks).
pub fn decode_tags(bytes: &[u8]) -> Result<Vec<BlobTag>> {
    let mut tags = Vec::new();
    if bytes.is_empty() {
        return Ok(tags);
    }
    let mut pos = 0;
    let string = |pos: &mut usize| -> Result<String> {
        let len =
            usize::try_from(read_zigzag(bytes, pos)?).map_err(|_| invalid("negative length"))?;
        let end = pos.checked_add(len).filter(|e| *e <= bytes.len());
        let end = end.ok_or_else(|| invalid("truncated Avro string"))?;
        let s = std::str::from_utf8(&bytes[*pos..end]).map_err(|_| invalid("tag is not UTF-8"))?;
        *pos = end;
        Ok(s.to_owned())
    };
    loop {
        let mut count = read_zigzag(bytes, &mut pos)?;
        if count == 0 {
            break;
        }
        if count < 0 {
            count = -count;
            read_zigzag(bytes, &mut pos)?; // block size in bytes
        }
        for _ in 0..count {
            let name = string(&mut pos)?;
            let value = string(&mut pos)?;
            tags.push(BlobTag { name, value });
        }
    }
    if pos != bytes.len() {
        return Err(invalid("trailing bytes after the Avro tag array"));
    }
    Ok(tags)
}

/// An Ethereum (secp256k1) key that signs data items.
#[derive(Clone)]
pub struct EthereumSigner {
    key: SigningKey,
}

impl std::fmt::Debug for EthereumSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthereumSigner")
            .field("owner", &hex::encode(self.owner()))
            .finish()
    }
}

impl EthereumSigner {
    /// A signer from a 32-byte private key in hex (with or without `0x`).
    pub fn from_hex(private_key: &str) -> Result<Self> {
        let raw = hex::decode(private_key.trim().trim_start_matches("0x"))
            .map_err(|_| invalid("the Irys private key is not hex"))?;
        let key = SigningKey::from_slice(&raw)
            .map_err(|_| invalid("the Irys private key is not a valid secp256k1 key"))?;
        Ok(Self { key })
    }

    /// The 65-byte uncompressed public key (the item's owner).
    pub fn owner(&self) -> [u8; OWNER_LEN] {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = [0u8; OWNER_LEN];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// Signs a data item whose data has the deep hash `data_hash` and returns its header.
    pub fn sign(
        &self,
        tags: &[BlobTag],
        anchor: Option<[u8; 32]>,
        data_hash: [u8; 48],
    ) -> Result<DataItemHeader> {
        let owner = self.owner();
        let tag_bytes = encode_tags(tags);
        let anchor_bytes = anchor.map(|a| a.to_vec()).unwrap_or_default();
        let message = signature_message(&owner, &[], &anchor_bytes, &tag_bytes, data_hash);
        let (sig, recovery) = self
            .key
            .sign_prehash_recoverable(&personal_message_hash(&message))
            .map_err(|e| PortabilityError::Backend {
                backend: "irys",
                message: format!("signing failed: {e}"),
            })?;
        let mut signature = [0u8; SIGNATURE_LEN];
        signature[..64].copy_from_slice(&sig.to_bytes());
        signature[64] = 27 + recovery.to_byte();
        Ok(DataItemHeader {
            signature,
            owner,
            target: None,
            anchor,
            tags: tags.to_vec(),
        })
    }
}

/// Everything of a data item but its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataItemHeader {
    /// r ‖ s ‖ v.
    pub signature: [u8; SIGNATURE_LEN],
    /// The signer's uncompressed public key.
    pub owner: [u8; OWNER_LEN],
    /// Optional target address.
    pub target: Option<[u8; 32]>,
    /// Optional anchor (nonce).
    pub anchor: Option<[u8; 32]>,
    /// The item's tags.
    pub tags: Vec<BlobTag>,
}

impl DataItemHeader {
    /// The item's id: base64url (no padding) of the SHA-256 of its signature.
    pub fn id(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(self.signature))
    }

    /// The header's bytes; the data follows them unchanged.
    pub fn to_bytes(&self) -> Vec<u8> {
        let tags = encode_tags(&self.tags);
        let mut out = Vec::with_capacity(2 + SIGNATURE_LEN + OWNER_LEN + 82 + tags.len());
        out.extend_from_slice(&ETHEREUM_SIGNATURE_TYPE.to_le_bytes());
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&self.owner);
        for field in [self.target, self.anchor] {
            match field {
                Some(bytes) => {
                    out.push(1);
                    out.extend_from_slice(&bytes);
                }
                None => out.push(0),
            }
        }
        out.extend_from_slice(&(self.tags.len() as u64).to_le_bytes());
        out.extend_from_slice(&(tags.len() as u64).to_le_bytes());
        out.extend_from_slice(&tags);
        out
    }

    /// Parses a whole data item into its header and the offset where its data starts.
    pub fn parse(item: &[u8]) -> Result<(Self, usize)> {
        let take = |pos: &mut usize, n: usize| -> Result<&[u8]> {
            let end = pos
                .checked_add(n)
                .filter(|e| *e <= item.len())
                .ok_or_else(|| invalid("truncated data item"))?;
            let slice = &item[*pos..end];
            *pos = end;
            Ok(slice)
        };
        let mut pos = 0;
        let sig_type = u16::from_le_bytes(take(&mut pos, 2)?.try_into().expect("2 bytes"));
        if sig_type != ETHEREUM_SIGNATURE_TYPE {
            return Err(invalid(format!(
                "signature type {sig_type} is not Ethereum (3)"
            )));
        }
        let signature: [u8; SIGNATURE_LEN] =
            take(&mut pos, SIGNATURE_LEN)?.try_into().expect("65 bytes");
        let owner: [u8; OWNER_LEN] = take(&mut pos, OWNER_LEN)?.try_into().expect("65 bytes");
        let optional = |pos: &mut usize| -> Result<Option<[u8; 32]>> {
            match take(pos, 1)?[0] {
                0 => Ok(None),
                1 => Ok(Some(take(pos, 32)?.try_into().expect("32 bytes"))),
                other => Err(invalid(format!("presence byte {other} is neither 0 nor 1"))),
            }
        };
        let target = optional(&mut pos)?;
        let anchor = optional(&mut pos)?;
        let count = u64::from_le_bytes(take(&mut pos, 8)?.try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(take(&mut pos, 8)?.try_into().expect("8 bytes"));
        let len = usize::try_from(len).map_err(|_| invalid("tag bytes too long"))?;
        let tags = decode_tags(take(&mut pos, len)?)?;
        if tags.len() as u64 != count {
            return Err(invalid(format!(
                "{count} tags announced, {} encoded",
                tags.len()
            )));
        }
        Ok((
            Self {
                signature,
                owner,
                target,
                anchor,
                tags,
            },
            pos,
        ))
    }

    /// Checks the signature against `data` (the bytes after the header): the owner must have
    /// signed exactly these fields and data.
    pub fn verify(&self, data: &[u8]) -> Result<()> {
        let mut hasher = DataHasher::new();
        hasher.update(data);
        let message = signature_message(
            &self.owner,
            self.target.as_ref().map_or(&[][..], |t| &t[..]),
            self.anchor.as_ref().map_or(&[][..], |a| &a[..]),
            &encode_tags(&self.tags),
            hasher.finish(),
        );
        let prehash = personal_message_hash(&message);
        let key = VerifyingKey::from_sec1_bytes(&self.owner)
            .map_err(|_| invalid("owner is not a secp256k1 public key"))?;
        let sig = Signature::from_slice(&self.signature[..64])
            .map_err(|_| invalid("malformed signature"))?;
        key.verify_prehash(&prehash, &sig)
            .map_err(|_| invalid("data item signature does not verify"))?;
        let recovery = RecoveryId::from_byte(self.signature[64].wrapping_sub(27))
            .ok_or_else(|| invalid("signature v is not 27 or 28"))?;
        let recovered = VerifyingKey::recover_from_prehash(&prehash, &sig, recovery)
            .map_err(|_| invalid("public key cannot be recovered from the signature"))?;
        if recovered != key {
            return Err(invalid("signature recovers another key than the owner"));
        }
        Ok(())
    }
}
