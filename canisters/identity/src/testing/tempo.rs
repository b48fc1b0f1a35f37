//! A fake Tempo node holding the two contracts music publishing writes (ScrobbleV4 and
//! ContentRegistry), at JSON-RPC's documented shapes: it decodes every raw transaction it is
//! sent, recovers its signer, applies the call only when that signer holds the contract's role
//! (the operator for ScrobbleV4, the sponsor for ContentRegistry; anyone else's transaction
//! is mined reverted, as `onlyOperator` / `onlySponsor` do), and answers the reads from what
//! was applied. Tests can make it refuse sends and have "another publisher" register the
//! track meanwhile. With [`FakeTempo::with_eas`] the same node also plays Base's EAS
//! predeploy: `attest` is mined with an `Attested` log, as the real contract emits it; with
//! [`FakeTempo::with_story`] it plays Story's workflows, IPAssetRegistry and LicenseRegistry:
//! a mint-and-register emits the SPG collection's ERC-721 mint and attaches terms.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use heaven_eth::abi::{
    Attested, Erc721Transfer, SolCall, SolEvent, easAttestCall, getAttachedLicenseTermsCall,
    getAttachedLicenseTermsCountCall, getAttachedLicenseTermsReturn, getContentCall,
    getContentReturn, getTrackCall, getTrackReturn, ipIdCall, isRegisteredCall,
    mintAndRegisterIpAndAttachPILTermsCall, mintAndRegisterIpAndMakeDerivativeCall,
    registerContentForCall, registerTracksBatchCall, setTrackCoverBatchCall,
};
use heaven_eth::tx::Eip1559Tx;
use heaven_eth::{Address, B256, U256, hex32};
use serde_json::{Value, json};

use crate::endpoints::publishing::FinalizeTrackRequest;
use crate::state::PublishingConfig;
use crate::state::publishing::TempoPublishingConfig;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The user the sample requests publish for.
pub const SAMPLE_USER: &str = "0x1111111111111111111111111111111111111111";

/// A `finalize_track` request for "Song" by "Artist" (no album), 215 s, no cover.
pub fn sample_finalize(request_id: &str) -> FinalizeTrackRequest {
    FinalizeTrackRequest {
        request_id: request_id.into(),
        user: SAMPLE_USER.into(),
        title: "Song".into(),
        artist: "Artist".into(),
        album: String::new(),
        duration_s: 215,
        piece_cid: b"staged-dataitem-id".to_vec(),
        dataset_owner: SAMPLE_USER.into(),
        algo: 1,
        cover_ref: None,
    }
}

/// The head block the node reports.
pub const HEAD: u64 = 1_000;
/// The gas price it reports (1 gwei).
pub const GAS_PRICE: u128 = 1_000_000_000;

/// A transaction the node accepted, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// Its hash.
    pub hash: B256,
    /// The recovered sender.
    pub from: Address,
    /// The transaction.
    pub tx: Eip1559Tx,
    /// Whether it was mined with status 1.
    pub succeeded: bool,
}

/// A track as ScrobbleV4 keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackEntry {
    /// Title, artist, album as sent.
    pub title: String,
    /// Artist.
    pub artist: String,
    /// Album.
    pub album: String,
    /// Payload.
    pub payload: B256,
    /// Duration.
    pub duration: u32,
    /// Cover reference.
    pub cover: String,
}

/// A content entry as ContentRegistry keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentEntry {
    /// Owner.
    pub owner: Address,
    /// Dataset owner.
    pub dataset_owner: Address,
    /// Piece CID bytes.
    pub piece_cid: Vec<u8>,
    /// Algorithm.
    pub algo: u8,
}

/// Story's contracts on the fake node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoryContracts {
    /// The SPG NFT collection.
    pub spg_nft: Address,
    /// LicenseAttachmentWorkflows.
    pub workflows: Address,
    /// DerivativeWorkflows.
    pub derivative_workflows: Address,
    /// IPAssetRegistry.
    pub ip_asset_registry: Address,
    /// LicenseRegistry.
    pub license_registry: Address,
}

/// The license terms id the fake attaches to an original's token `n`.
pub fn attached_terms_id(token: u64) -> U256 {
    U256::from(1000 + token)
}

/// The IP id the fake's registry gives token `token_id` of `collection` on `chain_id`.
pub fn fake_ip_id(chain_id: u64, collection: Address, token_id: U256) -> Address {
    let seed = [
        &chain_id.to_be_bytes()[..],
        collection.as_slice(),
        &token_id.to_be_bytes::<32>(),
    ]
    .concat();
    Address::from_slice(&heaven_eth::keccak256(seed)[12..])
}

#[derive(Default)]
struct Ledger {
    story: Option<StoryContracts>,
    /// Minted tokens so far.
    tokens: u64,
    /// Attached license terms by IP id.
    ips: BTreeMap<Address, Vec<U256>>,
    /// Story mints: the sender and the calldata.
    mints: Vec<(Address, Vec<u8>)>,
    chain_id: u64,
    scrobble: Address,
    content_registry: Address,
    operators: BTreeSet<Address>,
    sponsors: BTreeSet<Address>,
    tracks: BTreeMap<B256, TrackEntry>,
    contents: BTreeMap<B256, ContentEntry>,
    nonces: BTreeMap<Address, u64>,
    eas: Option<Address>,
    attestations: Vec<(Address, easAttestCall)>,
    logs: BTreeMap<B256, Vec<Value>>,
    received: Vec<Received>,
    receipts: BTreeMap<B256, (bool, u64)>,
    /// Sends to refuse (by selector), each entry one refusal.
    refuse: Vec<[u8; 4]>,
    /// Track ids another publisher registers when a send is refused.
    registered_on_refusal: BTreeSet<B256>,
    /// Whether mining is held: accepted transactions wait in the pool, without receipts.
    hold_mining: bool,
    /// Accepted, not yet mined: hash, sender, transaction.
    pool: Vec<(B256, Address, Eip1559Tx)>,
    block: u64,
}

/// The fake node; cheap to clone (one shared ledger).
#[derive(Clone)]
pub struct FakeTempo {
    server: Arc<MockServer>,
    ledger: Arc<Mutex<Ledger>>,
}

impl FakeTempo {
    /// Starts a node of `chain_id` with the two contracts at these addresses.
    pub async fn start(chain_id: u64, scrobble: Address, content_registry: Address) -> Self {
        let server = MockServer::start().await;
        let ledger = Arc::new(Mutex::new(Ledger {
            chain_id,
            scrobble,
            content_registry,
            block: HEAD,
            ..Ledger::default()
        }));
        Mock::given(method("POST"))
            .respond_with(Node(ledger.clone()))
            .mount(&server)
            .await;
        Self {
            server: Arc::new(server),
            ledger,
        }
    }

    /// The node's URL.
    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// Publishing settings with `finalize_track` enabled against this node (its contracts at
    /// the addresses it was started with, 3 receipt reads).
    pub fn publishing_config(&self) -> PublishingConfig {
        let (scrobble, registry) = self.with(|l| (l.scrobble, l.content_registry));
        PublishingConfig {
            tempo: TempoPublishingConfig {
                enabled: true,
                rpc_url: self.url(),
                chain_id: self.with(|l| l.chain_id),
                scrobble_v4: heaven_eth::address::to_checksum(&scrobble),
                content_registry: heaven_eth::address::to_checksum(&registry),
                receipt_polls: 3,
                ..TempoPublishingConfig::default()
            },
            ..PublishingConfig::default()
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Ledger) -> T) -> T {
        f(&mut self.ledger.lock().expect("ledger lock"))
    }

    /// Gives `operator` ScrobbleV4's operator role and `sponsor` ContentRegistry's sponsor role.
    pub fn authorize(&self, operator: Address, sponsor: Address) {
        self.with(|l| {
            l.operators.insert(operator);
            l.sponsors.insert(sponsor);
        });
    }

    /// Serves the EAS contract at `eas` too.
    pub fn with_eas(&self, eas: Address) {
        self.with(|l| l.eas = Some(eas));
    }

    /// Serves Story's contracts too.
    pub fn with_story(&self, contracts: StoryContracts) {
        self.with(|l| l.story = Some(contracts));
    }

    /// Story mints so far: the sender and the calldata.
    pub fn mints(&self) -> Vec<(Address, Vec<u8>)> {
        self.with(|l| l.mints.clone())
    }

    /// The attestations made so far: the attester and the decoded `attest` call.
    pub fn attestations(&self) -> Vec<(Address, easAttestCall)> {
        self.with(|l| l.attestations.clone())
    }

    /// A track registered beforehand (by someone else).
    pub fn register_track(&self, track_id: B256, entry: TrackEntry) {
        self.with(|l| l.tracks.insert(track_id, entry));
    }

    /// Refuses the next send of a transaction whose calldata starts with `selector`.
    pub fn refuse_next(&self, selector: [u8; 4]) {
        self.with(|l| l.refuse.push(selector));
    }

    /// When a send is refused, `track_id` turns out registered by another publisher.
    pub fn register_on_refusal(&self, track_id: B256) {
        self.with(|l| l.registered_on_refusal.insert(track_id));
    }

    /// Holds mining (accepted transactions stay in the pool, pending) or resumes it (the
    /// pool is mined, in order).
    pub fn hold_mining(&self, hold: bool) {
        self.with(|l| {
            l.hold_mining = hold;
            if !hold {
                for (hash, from, tx) in std::mem::take(&mut l.pool) {
                    l.mine(hash, from, tx);
                }
            }
        });
    }

    /// Every transaction mined so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.with(|l| l.received.clone())
    }

    /// The track `track_id`, if registered.
    pub fn track(&self, track_id: &B256) -> Option<TrackEntry> {
        self.with(|l| l.tracks.get(track_id).cloned())
    }

    /// The content `content_id`, if registered.
    pub fn content(&self, content_id: &B256) -> Option<ContentEntry> {
        self.with(|l| l.contents.get(content_id).cloned())
    }

    /// How many JSON-RPC requests of `rpc_method` the node got.
    pub async fn count(&self, rpc_method: &str) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .filter(|r| r["method"] == rpc_method)
            .count()
    }
}

struct Node(Arc<Mutex<Ledger>>);

fn result(v: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "jsonrpc": "2.0", "id": 1, "result": v }))
}

fn error(code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "jsonrpc": "2.0", "id": 1, "error": { "code": code, "message": message }
    }))
}

fn hex_bytes(v: &Value) -> Option<Vec<u8>> {
    hex::decode(v.as_str()?.trim_start_matches("0x")).ok()
}

impl Respond for Node {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return error(-32700, "parse error");
        };
        let mut l = self.0.lock().expect("ledger lock");
        let params = &body["params"];
        match body["method"].as_str().unwrap_or_default() {
            "eth_blockNumber" => result(json!(format!("{:#x}", l.block))),
            "eth_gasPrice" => result(json!(format!("{GAS_PRICE:#x}"))),
            "eth_getTransactionCount" => {
                let from = params[0].as_str().and_then(heaven_eth::address::parse);
                let n = from.and_then(|a| l.nonces.get(&a).copied()).unwrap_or(0);
                result(json!(format!("{n:#x}")))
            }
            "eth_call" => {
                let to = params[0]["to"]
                    .as_str()
                    .and_then(heaven_eth::address::parse);
                match (to, hex_bytes(&params[0]["data"])) {
                    (Some(to), Some(data)) => l.call(to, &data),
                    _ => error(-32602, "invalid params"),
                }
            }
            "eth_sendRawTransaction" => match hex_bytes(&params[0]) {
                Some(raw) => l.send(&raw),
                None => error(-32602, "invalid params"),
            },
            "eth_getTransactionReceipt" => {
                let hash = params[0].as_str().and_then(hex32::parse_b256);
                match hash.and_then(|h| l.receipts.get(&h).copied()) {
                    Some((ok, block)) => result(json!({
                        "transactionHash": params[0],
                        "status": if ok { "0x1" } else { "0x0" },
                        "blockNumber": format!("{block:#x}"),
                        "logs": l.logs.get(&hash.unwrap_or_default()).cloned().unwrap_or_default(),
                    })),
                    _ => result(Value::Null),
                }
            }
            other => error(-32601, &format!("method {other} not found")),
        }
    }
}

impl Ledger {
    /// A Story mint-and-register: an ERC-721 mint log and the attached terms.
    fn mint(&mut self, story: StoryContracts, from: Address, tx: &Eip1559Tx, hash: B256) -> bool {
        let data = tx.data.as_slice();
        let (recipient, terms) = if tx.to == story.workflows {
            let Ok(c) = mintAndRegisterIpAndAttachPILTermsCall::abi_decode(data) else {
                return false;
            };
            if c.spgNftContract != story.spg_nft {
                return false;
            }
            (c.recipient, vec![attached_terms_id(self.tokens + 1)])
        } else {
            let Ok(c) = mintAndRegisterIpAndMakeDerivativeCall::abi_decode(data) else {
                return false;
            };
            if c.spgNftContract != story.spg_nft {
                return false;
            }
            (c.recipient, c.derivData.licenseTermsIds.clone())
        };
        self.tokens += 1;
        let token = U256::from(self.tokens);
        self.ips
            .insert(fake_ip_id(self.chain_id, story.spg_nft, token), terms);
        let word = |a: Address| hex32::b256_hex(&B256::left_padding_from(a.as_slice()));
        let log = json!({
            "address": heaven_eth::address::to_lower_hex(&story.spg_nft),
            "topics": [
                hex32::b256_hex(&Erc721Transfer::SIGNATURE_HASH),
                word(Address::ZERO),
                word(recipient),
                hex32::b256_hex(&B256::from(token.to_be_bytes::<32>())),
            ],
            "data": "0x",
        });
        self.logs.insert(hash, vec![log]);
        self.mints.push((from, tx.data.clone()));
        true
    }

    fn call(&self, to: Address, data: &[u8]) -> ResponseTemplate {
        let story = self.story;
        let encoded = if story.is_some_and(|s| s.ip_asset_registry == to) {
            let Ok(c) = ipIdCall::abi_decode(data) else {
                return error(3, "execution reverted");
            };
            let chain = u64::try_from(c.chainId).unwrap_or_default();
            ipIdCall::abi_encode_returns(&fake_ip_id(chain, c.tokenContract, c.tokenId))
        } else if story.is_some_and(|s| s.license_registry == to) {
            if let Ok(c) = getAttachedLicenseTermsCountCall::abi_decode(data) {
                let n = self.ips.get(&c.ipId).map_or(0, Vec::len);
                getAttachedLicenseTermsCountCall::abi_encode_returns(&U256::from(n))
            } else if let Ok(c) = getAttachedLicenseTermsCall::abi_decode(data) {
                let index = usize::try_from(c.index).unwrap_or(usize::MAX);
                let Some(id) = self.ips.get(&c.ipId).and_then(|t| t.get(index)) else {
                    return error(3, "execution reverted");
                };
                getAttachedLicenseTermsCall::abi_encode_returns(&getAttachedLicenseTermsReturn {
                    licenseTemplate: Address::from([0x2e; 20]),
                    licenseTermsId: *id,
                })
            } else {
                return error(3, "execution reverted");
            }
        } else if to == self.scrobble {
            if let Ok(c) = isRegisteredCall::abi_decode(data) {
                isRegisteredCall::abi_encode_returns(&self.tracks.contains_key(&c.trackId))
            } else if let Ok(c) = getTrackCall::abi_decode(data) {
                let t = self.tracks.get(&c.trackId).cloned().unwrap_or_default();
                getTrackCall::abi_encode_returns(&getTrackReturn {
                    title: t.title,
                    artist: t.artist,
                    album: t.album,
                    kind: 3,
                    payload: t.payload,
                    registeredAt: 0,
                    coverCid: t.cover,
                    durationSec: t.duration,
                })
            } else {
                return error(3, "execution reverted");
            }
        } else if to == self.content_registry {
            let Ok(c) = getContentCall::abi_decode(data) else {
                return error(3, "execution reverted");
            };
            let entry = self.contents.get(&c.contentId);
            let answer = getContentReturn {
                owner: entry.map(|e| e.owner).unwrap_or_default(),
                datasetOwner: entry.map(|e| e.dataset_owner).unwrap_or_default(),
                pieceCid: entry
                    .map(|e| e.piece_cid.clone())
                    .unwrap_or_default()
                    .into(),
                algo: entry.map(|e| e.algo).unwrap_or_default(),
                createdAt: 0,
                active: entry.is_some(),
            };
            getContentCall::abi_encode_returns(&answer)
        } else {
            return error(3, "execution reverted");
        };
        result(json!(format!("0x{}", hex::encode(encoded))))
    }

    fn send(&mut self, raw: &[u8]) -> ResponseTemplate {
        let Ok((tx, sig)) = Eip1559Tx::decode_signed(raw) else {
            return error(-32602, "invalid transaction");
        };
        let Ok(from) = heaven_eth::signature::recover_prehash(&tx.signing_hash(), &sig) else {
            return error(-32602, "invalid signature");
        };
        let hash = heaven_eth::keccak256(raw);
        if self.pool.iter().any(|(h, _, _)| *h == hash) {
            return error(-32000, "already known");
        }
        if tx.chain_id != self.chain_id {
            return error(-32000, "invalid chain id");
        }
        let expected = self.nonces.get(&from).copied().unwrap_or(0);
        if tx.nonce < expected {
            return error(-32000, "nonce too low");
        }
        if tx.nonce > expected {
            return error(-32000, "nonce too high");
        }
        if let Some(i) = self.refuse.iter().position(|s| tx.data.starts_with(s)) {
            self.refuse.remove(i);
            let others: Vec<B256> = self.registered_on_refusal.iter().copied().collect();
            for track_id in others {
                self.tracks.entry(track_id).or_default();
            }
            return error(-32000, "replacement transaction underpriced");
        }
        self.nonces.insert(from, expected + 1);
        if self.hold_mining {
            self.pool.push((hash, from, tx));
        } else {
            self.mine(hash, from, tx);
        }
        result(json!(hex32::b256_hex(&hash)))
    }

    /// Mines an accepted transaction in a block of its own.
    fn mine(&mut self, hash: B256, from: Address, tx: Eip1559Tx) {
        let succeeded = self.apply(from, &tx, hash);
        self.block += 1;
        self.receipts.insert(hash, (succeeded, self.block));
        self.received.push(Received {
            hash,
            from,
            tx,
            succeeded,
        });
    }

    /// Applies the call; `false` when it reverts.
    fn apply(&mut self, from: Address, tx: &Eip1559Tx, hash: B256) -> bool {
        let data = tx.data.as_slice();
        if let Some(story) = self.story
            && (tx.to == story.workflows || tx.to == story.derivative_workflows)
        {
            return self.mint(story, from, tx, hash);
        }
        if Some(tx.to) == self.eas {
            let Ok(call) = easAttestCall::abi_decode(data) else {
                return false;
            };
            let uid = heaven_eth::keccak256([hash.as_slice(), b"uid"].concat());
            let word = |a: Address| hex32::b256_hex(&B256::left_padding_from(a.as_slice()));
            let log = json!({
                "address": heaven_eth::address::to_lower_hex(&tx.to),
                "topics": [
                    hex32::b256_hex(&Attested::SIGNATURE_HASH),
                    word(call.request.data.recipient),
                    word(from),
                    hex32::b256_hex(&call.request.schema),
                ],
                "data": hex32::b256_hex(&uid),
            });
            self.logs.insert(hash, vec![log]);
            self.attestations.push((from, call));
            return true;
        }
        if tx.to == self.scrobble {
            if !self.operators.contains(&from) {
                return false;
            }
            if let Ok(c) = registerTracksBatchCall::abi_decode(data) {
                for i in 0..c.payloads.len() {
                    let ids = crate::publishing::track::meta_track_ids(
                        &c.titles[i],
                        &c.artists[i],
                        &c.albums[i],
                    );
                    if ids.payload != c.payloads[i] || self.tracks.contains_key(&ids.track_id) {
                        return false;
                    }
                    let entry = TrackEntry {
                        title: c.titles[i].clone(),
                        artist: c.artists[i].clone(),
                        album: c.albums[i].clone(),
                        payload: c.payloads[i],
                        duration: c.durations[i],
                        cover: String::new(),
                    };
                    self.tracks.insert(ids.track_id, entry);
                }
                return true;
            }
            if let Ok(c) = setTrackCoverBatchCall::abi_decode(data) {
                for (id, cover) in c.trackIds.iter().zip(&c.coverCids) {
                    match self.tracks.get_mut(id) {
                        Some(t) => t.cover = cover.clone(),
                        None => return false,
                    }
                }
                return true;
            }
            false
        } else if tx.to == self.content_registry {
            if !self.sponsors.contains(&from) {
                return false;
            }
            let Ok(c) = registerContentForCall::abi_decode(data) else {
                return false;
            };
            let id = crate::publishing::track::content_id(c.trackId, c.contentOwner);
            if self.contents.contains_key(&id) || !self.tracks.contains_key(&c.trackId) {
                return false;
            }
            let entry = ContentEntry {
                owner: c.contentOwner,
                dataset_owner: c.datasetOwner,
                piece_cid: c.pieceCid.to_vec(),
                algo: c.algo,
            };
            self.contents.insert(id, entry);
            true
        } else {
            false
        }
    }
}
