//! The public signals of Self's vc-and-disclose circuits (passport and biometric ID card), read
//! as `@selfxyz/core` reads them (the nullifier's index is [`super::nullifier`]'s): where each
//! value sits per attestation id, the revealed-data
//! bytes packed 31 to a field element (little-endian), the forbidden-countries list, the
//! circuit's current date, and the disclosed nationality, date of birth, `olderThan` and OFAC
//! results.

use heaven_eth::U256;

use super::age::Date;

/// Where the values sit in the public signals of one attestation type (Self's
/// `discloseIndices`).
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Revealed-data field elements and how many bytes each carries.
    revealed_bytes: &'static [usize],
    forbidden_countries: usize,
    attestation_id: usize,
    merkle_root: usize,
    current_date: usize,
    scope: usize,
    user_identifier: usize,
    nationality: (usize, usize),
    date_of_birth: (usize, usize),
    older_than: (usize, usize),
    ofac: (usize, usize),
}

/// Passport (attestation id 1).
const PASSPORT: Layout = Layout {
    revealed_bytes: &[31, 31, 31],
    forbidden_countries: 3,
    attestation_id: 8,
    merkle_root: 9,
    current_date: 10,
    scope: 19,
    user_identifier: 20,
    nationality: (54, 56),
    date_of_birth: (57, 62),
    older_than: (88, 89),
    ofac: (90, 92),
};

/// Biometric ID card (attestation id 2).
const ID_CARD: Layout = Layout {
    revealed_bytes: &[31, 31, 31, 1],
    forbidden_countries: 4,
    attestation_id: 9,
    merkle_root: 10,
    current_date: 11,
    scope: 19,
    user_identifier: 20,
    nationality: (45, 47),
    date_of_birth: (30, 35),
    older_than: (90, 91),
    ofac: (92, 93),
};

/// Public signals of both circuits (the verifier contracts take `uint256[21]`).
pub const SIGNAL_COUNT: usize = 21;

/// Bytes per forbidden-countries field element (Self's `unpackReveal(_, 'id')`).
const FORBIDDEN_BYTES: [usize; 4] = [31, 31, 31, 27];

/// The layout of `attestation_id`, for the ids this canister verifies (1 and 2).
pub fn layout(attestation_id: u8) -> Option<Layout> {
    match attestation_id {
        1 => Some(PASSPORT),
        2 => Some(ID_CARD),
        _ => None,
    }
}

/// A public signal as Self's verifier reads it: decimal, `0x` hex, or (when it has a hex letter)
/// bare hex; `None` when unreadable or ≥ 2²⁵⁶.
pub fn parse_signal(text: &str) -> Option<U256> {
    let raw = text.trim();
    if let Some(digits) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
        return U256::from_str_radix(digits, 16).ok();
    }
    if raw.bytes().all(|b| b.is_ascii_digit()) && !raw.is_empty() {
        return U256::from_str_radix(raw, 10).ok();
    }
    if raw.bytes().all(|b| b.is_ascii_hexdigit()) && !raw.is_empty() {
        return U256::from_str_radix(raw, 16).ok();
    }
    None
}

/// The disclosed values of one proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disclosed {
    /// Alpha-3 nationality; `None` when not disclosed (NUL bytes).
    pub nationality: Option<String>,
    /// `YYMMDD` date of birth as the document prints it; `None` when not disclosed.
    pub date_of_birth: Option<String>,
    /// The two-character `olderThan` (`"00"` when the age check was not requested).
    pub older_than: String,
    /// Per OFAC check: whether the holder was *not* cleared (Self's `ofac` array).
    pub ofac_flagged: Vec<bool>,
    /// The forbidden-countries list the proof was made against.
    pub forbidden_countries: Vec<String>,
}

/// The signals of one proof, checked to be 21 readable numbers.
#[derive(Clone, Debug)]
pub struct Signals {
    layout: Layout,
    values: Vec<U256>,
}

impl Signals {
    /// Reads `signals` for `attestation_id`; `None` when the id is not 1 or 2, or the signals
    /// are not exactly [`SIGNAL_COUNT`] readable numbers.
    pub fn read(attestation_id: u8, signals: &[Option<String>]) -> Option<Self> {
        let layout = layout(attestation_id)?;
        if signals.len() != SIGNAL_COUNT {
            return None;
        }
        let values = signals
            .iter()
            .map(|s| s.as_deref().and_then(parse_signal))
            .collect::<Option<Vec<_>>>()?;
        Some(Self { layout, values })
    }

    /// All signals, in order.
    pub fn values(&self) -> &[U256] {
        &self.values
    }

    /// The attestation id the circuit committed to.
    pub fn attestation_id(&self) -> U256 {
        self.values[self.layout.attestation_id]
    }

    /// The identity-commitment Merkle root the proof was made against.
    pub fn merkle_root(&self) -> U256 {
        self.values[self.layout.merkle_root]
    }

    /// The scope signal.
    pub fn scope(&self) -> U256 {
        self.values[self.layout.scope]
    }

    /// The user-identifier signal (the hash of the user context data).
    pub fn user_identifier(&self) -> U256 {
        self.values[self.layout.user_identifier]
    }

    /// The circuit's current date (`YYMMDD`, one digit per signal, year 20YY); `None` when a
    /// signal is not a digit or the date is not a calendar day.
    pub fn current_date(&self) -> Option<Date> {
        let start = self.layout.current_date;
        let digits: Vec<u32> = self.values[start..start + 6]
            .iter()
            .map(|v| u32::try_from(*v).ok().filter(|d| *d <= 9))
            .collect::<Option<_>>()?;
        let text = format!(
            "20{}{}-{}{}-{}{}",
            digits[0], digits[1], digits[2], digits[3], digits[4], digits[5]
        );
        Date::parse(&text)
    }

    fn revealed_bytes(&self) -> Vec<u8> {
        unpack(
            &self.values[..self.layout.revealed_bytes.len()],
            self.layout.revealed_bytes,
        )
    }

    /// The disclosed values.
    pub fn disclosed(&self) -> Disclosed {
        let bytes = self.revealed_bytes();
        let range = |(start, end): (usize, usize)| bytes[start..=end].to_vec();
        let text = |(start, end): (usize, usize)| {
            let raw = range((start, end));
            (!raw.iter().all(|b| *b == 0)).then(|| String::from_utf8_lossy(&raw).into_owned())
        };
        let mut ofac_flagged: Vec<bool> = range(self.layout.ofac).iter().map(|b| *b == 0).collect();
        if ofac_flagged.len() < 3 {
            ofac_flagged.insert(0, false);
        }
        let start = self.layout.forbidden_countries;
        let packed: Vec<u8> = unpack(&self.values[start..start + 4], &FORBIDDEN_BYTES)
            .into_iter()
            .filter(|b| *b != 0)
            .collect();
        let forbidden_countries = packed
            .chunks(3)
            .filter(|c| c.len() == 3)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        Disclosed {
            nationality: text(self.layout.nationality),
            date_of_birth: text(self.layout.date_of_birth),
            older_than: String::from_utf8_lossy(&range(self.layout.older_than)).into_owned(),
            ofac_flagged,
            forbidden_countries,
        }
    }
}

/// The low `counts[i]` bytes of each element, least significant first.
fn unpack(elements: &[U256], counts: &[usize]) -> Vec<u8> {
    elements
        .iter()
        .zip(counts)
        .flat_map(|(element, count)| {
            let le = element.to_le_bytes::<32>();
            le[..*count].to_vec()
        })
        .collect()
}

/// Packs bytes 31 (or `counts[i]`) to an element, least significant first: the inverse of
/// [`unpack`], for building test signals.
#[cfg(test)]
pub fn pack(bytes: &[u8], counts: &[usize]) -> Vec<U256> {
    let mut out = Vec::new();
    let mut rest = bytes;
    for count in counts {
        let (chunk, tail) = rest.split_at((*count).min(rest.len()));
        let mut le = [0u8; 32];
        le[..chunk.len()].copy_from_slice(chunk);
        out.push(U256::from_le_bytes(le));
        rest = tail;
    }
    out
}

/// `YYMMDD` as a `YYYY-MM-DD` birth date on or before `today`: 20YY unless that lies after
/// today, else 19YY. `None` when not six digits or not a calendar day.
pub fn birth_date(yymmdd: &str, today: Date) -> Option<Date> {
    if yymmdd.len() != 6 || !yymmdd.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (yy, mmdd) = yymmdd.split_at(2);
    let (mm, dd) = mmdd.split_at(2);
    let recent = Date::parse(&format!("20{yy}-{mm}-{dd}"))?;
    if recent <= today {
        Some(recent)
    } else {
        Date::parse(&format!("19{yy}-{mm}-{dd}"))
    }
}

/// Test helpers: the signals of a proof with the given disclosures.
#[cfg(test)]
pub mod build {
    use super::*;

    /// What a test proof discloses and commits to.
    pub struct ProofSignals {
        /// 1 or 2.
        pub attestation_id: u8,
        /// Merkle root.
        pub root: U256,
        /// Scope signal.
        pub scope: U256,
        /// User identifier signal.
        pub user_identifier: U256,
        /// Raw nullifier.
        pub nullifier: U256,
        /// `YYMMDD` of the circuit date.
        pub current_date: &'static str,
        /// Alpha-3 (or `None`, not disclosed).
        pub nationality: Option<&'static str>,
        /// `YYMMDD` (or `None`).
        pub date_of_birth: Option<&'static str>,
        /// Two ASCII digits.
        pub older_than: &'static str,
        /// OFAC result bytes (1 = cleared).
        pub ofac: [u8; 3],
        /// Forbidden countries.
        pub forbidden: Vec<&'static str>,
    }

    impl ProofSignals {
        /// The 21 decimal signals.
        pub fn strings(&self) -> Vec<Option<String>> {
            let layout = layout(self.attestation_id).unwrap();
            let total: usize = layout.revealed_bytes.iter().sum();
            let mut revealed = vec![0u8; total];
            let mut put = |(start, end): (usize, usize), value: &[u8]| {
                revealed[start..=end].copy_from_slice(&value[..=end - start]);
            };
            if let Some(n) = self.nationality {
                put(layout.nationality, n.as_bytes());
            }
            if let Some(d) = self.date_of_birth {
                put(layout.date_of_birth, d.as_bytes());
            }
            put(layout.older_than, self.older_than.as_bytes());
            let ofac_len = layout.ofac.1 - layout.ofac.0 + 1;
            put(layout.ofac, &self.ofac[3 - ofac_len..]);
            let mut values = vec![U256::ZERO; SIGNAL_COUNT];
            for (i, v) in pack(&revealed, layout.revealed_bytes)
                .into_iter()
                .enumerate()
            {
                values[i] = v;
            }
            let forbidden: Vec<u8> = self.forbidden.concat().into_bytes();
            for (i, v) in pack(&forbidden, &FORBIDDEN_BYTES).into_iter().enumerate() {
                values[layout.forbidden_countries + i] = v;
            }
            let nullifier =
                crate::selfxyz::nullifier::nullifier_index(&self.attestation_id.to_string())
                    .unwrap();
            values[nullifier] = self.nullifier;
            values[layout.attestation_id] = U256::from(self.attestation_id);
            values[layout.merkle_root] = self.root;
            for (i, digit) in self.current_date.bytes().enumerate() {
                values[layout.current_date + i] = U256::from(digit - b'0');
            }
            values[layout.scope] = self.scope;
            values[layout.user_identifier] = self.user_identifier;
            values.iter().map(|v| Some(v.to_string())).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::build::ProofSignals;
    use super::*;

    fn passport(attestation_id: u8) -> ProofSignals {
        ProofSignals {
            attestation_id,
            root: U256::from(77u8),
            scope: U256::from(5u8),
            user_identifier: U256::from(6u8),
            nullifier: U256::from(12345u32),
            current_date: "260220",
            nationality: Some("FRA"),
            date_of_birth: Some("950115"),
            older_than: "18",
            ofac: [1, 1, 1],
            forbidden: vec!["PRK", "IRN"],
        }
    }

    #[test]
    fn both_layouts_decode_what_was_packed() {
        for id in [1, 2] {
            let signals = Signals::read(id, &passport(id).strings()).unwrap();
            assert_eq!(signals.attestation_id(), U256::from(id));
            assert_eq!(signals.merkle_root(), U256::from(77u8));
            assert_eq!(signals.scope(), U256::from(5u8));
            assert_eq!(signals.user_identifier(), U256::from(6u8));
            assert_eq!(
                signals.current_date(),
                Some(Date {
                    year: 2026,
                    month: 2,
                    day: 20
                })
            );
            let d = signals.disclosed();
            assert_eq!(d.nationality.as_deref(), Some("FRA"));
            assert_eq!(d.date_of_birth.as_deref(), Some("950115"));
            assert_eq!(d.older_than, "18");
            assert_eq!(d.ofac_flagged, vec![false, false, false]);
            assert_eq!(d.forbidden_countries, vec!["PRK", "IRN"]);
        }
    }

    #[test]
    fn undisclosed_fields_and_failed_ofac_read_as_such() {
        let mut p = passport(1);
        p.nationality = None;
        p.date_of_birth = None;
        p.ofac = [1, 0, 1];
        let d = Signals::read(1, &p.strings()).unwrap().disclosed();
        assert_eq!(d.nationality, None);
        assert_eq!(d.date_of_birth, None);
        assert_eq!(d.ofac_flagged, vec![false, true, false]);
        // The ID card has two OFAC bytes (the last two here); Self prepends a cleared check.
        let mut card = passport(2);
        card.ofac = [1, 0, 1];
        let d = Signals::read(2, &card.strings()).unwrap().disclosed();
        assert_eq!(d.ofac_flagged, vec![false, true, false]);
    }

    #[test]
    fn signals_must_be_21_numbers_of_a_known_layout() {
        let mut s = passport(1).strings();
        assert!(Signals::read(3, &s).is_none());
        s[4] = Some("x".into());
        assert!(Signals::read(1, &s).is_none());
        assert!(Signals::read(1, &passport(1).strings()[..20]).is_none());
        assert_eq!(parse_signal("ff"), Some(U256::from(255u16)));
        assert_eq!(parse_signal("0x10"), Some(U256::from(16u8)));
        assert_eq!(parse_signal("-1"), None);
    }

    #[test]
    fn birth_years_take_the_latest_century_not_in_the_future() {
        let today = Date {
            year: 2026,
            month: 2,
            day: 20,
        };
        let d = |y, m, day| Date {
            year: y,
            month: m,
            day,
        };
        assert_eq!(birth_date("950115", today), Some(d(1995, 1, 15)));
        assert_eq!(birth_date("080220", today), Some(d(2008, 2, 20)));
        assert_eq!(birth_date("260221", today), Some(d(1926, 2, 21)));
        assert_eq!(birth_date("951315", today), None);
        assert_eq!(birth_date("95011", today), None);
    }
}
