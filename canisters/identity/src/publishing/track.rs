//! ScrobbleV4 and ContentRegistry ids of a published track (contracts §6.7): the metadata
//! payload of the normalised title, artist and album, the kind-3 track id over it, and the
//! content id of a (track, owner) pair. The same formulas as the original's ethers code.

use heaven_eth::abi::SolValue;
use heaven_eth::{Address, B256, U256, keccak256};

/// ScrobbleV4's track kind for ids derived from metadata.
pub const META_KIND: u8 = 3;

/// What the original's `normalizeTrackComponent` does: lowercase, trim, every run of
/// whitespace one space.
pub fn normalize(value: &str) -> String {
    value
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A track's metadata payload and its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackIds {
    /// keccak256(abi.encode(string title, string artist, string album)), each normalised.
    pub payload: B256,
    /// keccak256(abi.encode(uint8 3, bytes32 payload)).
    pub track_id: B256,
}

/// The ids of the track `title` / `artist` / `album` (normalised here).
pub fn meta_track_ids(title: &str, artist: &str, album: &str) -> TrackIds {
    let fields = (normalize(title), normalize(artist), normalize(album));
    let payload = keccak256(fields.abi_encode_params());
    // `uint8` is one left-padded word in the ABI, the same as a `uint256` of that value.
    let kind = U256::from(META_KIND);
    let track_id = keccak256((kind, payload).abi_encode_params());
    TrackIds { payload, track_id }
}

/// keccak256(abi.encode(bytes32 trackId, address owner)).
pub fn content_id(track_id: B256, owner: Address) -> B256 {
    keccak256((track_id, owner).abi_encode_params())
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaven_eth::hex32::b256_hex;

    #[test]
    fn the_contract_vectors_hold() {
        let ids = meta_track_ids("Song", "Artist", "");
        assert_eq!(
            b256_hex(&ids.payload),
            "0x73e550ec9fa56c9130d132fc7a2e89e774664e7e83b19a583a1594f5d3872ea4"
        );
        assert_eq!(
            b256_hex(&ids.track_id),
            "0xbe1e239c4f817721fde86c13370ddbe0ae38f99a9eb69f7da4c427712d45a170"
        );
        let owner = Address::from([0xaa; 20]);
        assert_eq!(
            b256_hex(&content_id(ids.track_id, owner)),
            "0x0db39b4ad017c540d4c034530f9e7dc05b0ebcc73d9ae33c982f4a778069021d"
        );
    }

    #[test]
    fn ids_ignore_case_and_spacing() {
        assert_eq!(normalize("  Hello \t  World\n"), "hello world");
        assert_eq!(
            meta_track_ids(" SONG ", "artist", ""),
            meta_track_ids("song", "  Artist", " ")
        );
        assert_ne!(
            meta_track_ids("Song", "Artist", "").track_id,
            meta_track_ids("Song", "Artist", "Album").track_id
        );
    }
}
