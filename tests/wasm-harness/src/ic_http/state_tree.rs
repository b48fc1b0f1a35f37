//! The part of the IC state tree the harness certifies: `time` and
//! `request_status/<request id>/{status, reply | reject_code, reject_message, error_code}` for
//! the update calls it executed, built as an `ic-certification` hash tree and signed by the
//! [`TestRootKey`] into a CBOR certificate.

use std::collections::BTreeMap;

use ic_certification::hash_tree::{empty, fork, label, leaf};
use ic_certification::{Certificate, Label};

/// The hash tree with owned labels and leaves.
type HashTree = ic_certification::hash_tree::HashTree<Vec<u8>>;
use ic_transport_types::{RejectCode, RejectResponse};

use super::root_key::TestRootKey;

/// How an executed update call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// The canister replied with these bytes.
    Replied(Vec<u8>),
    /// The call was rejected.
    Rejected(RejectResponse),
}

/// The outcomes of the update calls executed so far, by request id (the IC keeps them until
/// the ingress expiry; the harness keeps them for its lifetime).
#[derive(Debug, Default)]
pub struct RequestStatuses {
    outcomes: BTreeMap<[u8; 32], CallOutcome>,
}

impl RequestStatuses {
    /// The outcome of `request_id`, when it was executed.
    pub fn get(&self, request_id: &[u8; 32]) -> Option<&CallOutcome> {
        self.outcomes.get(request_id)
    }

    /// Records the outcome of `request_id`.
    pub fn insert(&mut self, request_id: [u8; 32], outcome: CallOutcome) {
        self.outcomes.insert(request_id, outcome);
    }

    /// How many outcomes are kept.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }
}

/// Unsigned LEB128, the encoding of numbers in the state tree.
pub fn leb128(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A node whose children are `entries` under their labels (sorted, as the tree requires).
fn labeled_children(mut entries: Vec<(Vec<u8>, HashTree)>) -> HashTree {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    fn build(entries: &mut Vec<(Vec<u8>, HashTree)>, from: usize, to: usize) -> HashTree {
        match to - from {
            0 => empty(),
            1 => {
                let (name, tree) = std::mem::replace(&mut entries[from], (Vec::new(), empty()));
                label(Label::from(name), tree)
            }
            n => {
                let mid = from + n / 2;
                let left = build(entries, from, mid);
                let right = build(entries, mid, to);
                fork(left, right)
            }
        }
    }
    let len = entries.len();
    build(&mut entries, 0, len)
}

/// The `error_code` the IC gives a reject of `code` (its `IC0xxx` family).
fn error_code(code: RejectCode) -> &'static str {
    match code {
        RejectCode::SysFatal => "IC0101",
        RejectCode::SysTransient => "IC0201",
        RejectCode::DestinationInvalid => "IC0301",
        RejectCode::CanisterReject => "IC0406",
        RejectCode::CanisterError => "IC0503",
    }
}

fn status_node(outcome: &CallOutcome) -> HashTree {
    let entries = match outcome {
        CallOutcome::Replied(reply) => vec![
            (b"status".to_vec(), leaf(b"replied".to_vec())),
            (b"reply".to_vec(), leaf(reply.clone())),
        ],
        CallOutcome::Rejected(reject) => vec![
            (b"status".to_vec(), leaf(b"rejected".to_vec())),
            (
                b"reject_code".to_vec(),
                leaf(leb128(reject.reject_code as u64)),
            ),
            (
                b"reject_message".to_vec(),
                leaf(reject.reject_message.clone().into_bytes()),
            ),
            (
                b"error_code".to_vec(),
                leaf(
                    reject
                        .error_code
                        .clone()
                        .unwrap_or_else(|| error_code(reject.reject_code).to_owned())
                        .into_bytes(),
                ),
            ),
        ],
    };
    labeled_children(entries)
}

/// The certificate of a state tree with `time` (ns since the epoch) and the statuses of
/// `requests` (those unknown are left out, so their absence is provable), CBOR-encoded with the
/// self-describe tag as the IC sends it.
pub fn certificate(
    key: &TestRootKey,
    time_nanos: u64,
    statuses: &RequestStatuses,
    requests: &[[u8; 32]],
) -> Vec<u8> {
    let mut status_entries: Vec<(Vec<u8>, HashTree)> = requests
        .iter()
        .filter_map(|id| statuses.get(id).map(|o| (id.to_vec(), status_node(o))))
        .collect();
    status_entries.dedup_by(|a, b| a.0 == b.0);
    let tree = labeled_children(vec![
        (b"time".to_vec(), leaf(leb128(time_nanos))),
        (b"request_status".to_vec(), labeled_children(status_entries)),
    ]);
    let signature = key.sign_root_hash(&tree.digest()).to_vec();
    let certificate = Certificate {
        tree,
        signature,
        delegation: None,
    };
    let mut serializer = serde_cbor::Serializer::new(Vec::new());
    serializer.self_describe().expect("writing to a Vec");
    serde::Serialize::serialize(&certificate, &mut serializer).expect("a certificate encodes");
    serializer.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_matches_the_spec_examples() {
        assert_eq!(leb128(0), [0]);
        assert_eq!(leb128(127), [0x7f]);
        assert_eq!(leb128(624_485), [0xe5, 0x8e, 0x26]);
    }

    #[test]
    fn children_are_found_by_label_whatever_the_insertion_order() {
        let tree = labeled_children(vec![
            (b"c".to_vec(), leaf(b"3".to_vec())),
            (b"a".to_vec(), leaf(b"1".to_vec())),
            (b"b".to_vec(), leaf(b"2".to_vec())),
        ]);
        for (name, value) in [("a", "1"), ("b", "2"), ("c", "3")] {
            assert_eq!(
                tree.lookup_path([name.as_bytes()]),
                ic_certification::LookupResult::Found(value.as_bytes())
            );
        }
        assert_eq!(
            tree.lookup_path([b"d".as_slice()]),
            ic_certification::LookupResult::Absent
        );
    }
}
