//! TSIG, secret key transaction authentication (RFC 8945): keys, verifying requests and
//! answering their failures, signing answers and multi-message transfers, and the client side
//! of the same for our own SOA queries, transfer requests and NOTIFYs. No sockets, no policy:
//! whether a key may be used for a zone is the caller's decision.
//!
//! The MACs are computed here over the digest components of RFC 8945 §4.3 with `ring`'s HMAC
//! (the code `domain`'s `tsig` module uses too) rather than through `domain`'s transactions,
//! because those answer some failures differently from the RFC: a bad MAC gets FORMERR where
//! §5.2.2 wants BADSIG, and a BADTIME answer digests 8 octets of Other Data where §4.3.3 has 6.
//! `domain`'s client and server transactions are used in the tests as an independent signer.
//!
//! Server side: [`verify_request`] checks an incoming request in the order of RFC 8945 §5.2
//! (key, MAC, time, truncation) and either accepts it ([`Verdict`]) or says what to answer
//! ([`Rejection::response`]); [`ResponseSigner`] signs every message of the answer
//! (§5.3, §5.3.1). Client side: [`sign_request`] and [`RequestState`] (§5.1, §5.4).

mod client;
mod server;
mod wire;

#[cfg(test)]
mod tests;

pub use client::{sign_request, Checked, RequestState, ResponseError};
pub use server::{verify_request, RejectKind, Rejection, ResponseSigner, SignedRequest, Verdict};
pub use wire::{FormErr, SignError};

use base64::Engine as _;
use ring::hmac;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use tandem_zone::Name;

/// TSIG error codes carried in the Error field (RFC 8945 §3, §4.2).
pub mod error_code {
    pub const NOERROR: u16 = 0;
    pub const BADSIG: u16 = 16;
    pub const BADKEY: u16 = 17;
    pub const BADTIME: u16 = 18;
    pub const BADTRUNC: u16 = 22;

    /// The mnemonic of a TSIG error code, for logs.
    pub fn name(code: u16) -> &'static str {
        match code {
            NOERROR => "NOERROR",
            BADSIG => "BADSIG",
            BADKEY => "BADKEY",
            BADTIME => "BADTIME",
            BADTRUNC => "BADTRUNC",
            _ => "unknown TSIG error",
        }
    }
}

/// The fudge we put in the TSIG RRs we create: the 300 seconds RFC 8945 §10 recommends.
pub const DEFAULT_FUDGE: u16 = 300;

/// A MAC algorithm of RFC 8945 §6 that Tandem implements (hmac-md5 is refused for now).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    HmacSha1,
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 4] = [
        Algorithm::HmacSha1,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// Parses the algorithm as the API stores it: `hmac-sha256.`, also without the trailing
    /// dot and in any case.
    pub fn parse(text: &str) -> Result<Algorithm, KeyError> {
        let bare = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
        Algorithm::ALL
            .into_iter()
            .find(|a| a.canonical().strip_suffix('.') == Some(bare.as_str()))
            .ok_or_else(|| KeyError::UnsupportedAlgorithm(text.to_string()))
    }

    /// Recognises an algorithm name in uncompressed wire form, case-insensitively.
    pub fn from_wire(name: &[u8]) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.wire().eq_ignore_ascii_case(name))
    }

    /// The canonical presentation form, with the trailing dot (`hmac-sha256.`).
    pub fn canonical(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "hmac-sha1.",
            Algorithm::HmacSha256 => "hmac-sha256.",
            Algorithm::HmacSha384 => "hmac-sha384.",
            Algorithm::HmacSha512 => "hmac-sha512.",
        }
    }

    /// The algorithm name in canonical (lowercase, uncompressed) wire form (RFC 8945 §6).
    pub fn wire(self) -> &'static [u8] {
        match self {
            Algorithm::HmacSha1 => b"\x09hmac-sha1\x00",
            Algorithm::HmacSha256 => b"\x0bhmac-sha256\x00",
            Algorithm::HmacSha384 => b"\x0bhmac-sha384\x00",
            Algorithm::HmacSha512 => b"\x0bhmac-sha512\x00",
        }
    }

    /// Length of the untruncated MAC, in octets.
    pub fn mac_len(self) -> usize {
        self.ring().digest_algorithm().output_len()
    }

    /// The shortest truncated MAC RFC 8945 §5.2.2.1 allows: the larger of 10 octets and half
    /// the hash length.
    pub fn min_truncated_len(self) -> usize {
        (self.mac_len() / 2).max(10)
    }

    fn ring(self) -> hmac::Algorithm {
        match self {
            Algorithm::HmacSha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Algorithm::HmacSha256 => hmac::HMAC_SHA256,
            Algorithm::HmacSha384 => hmac::HMAC_SHA384,
            Algorithm::HmacSha512 => hmac::HMAC_SHA512,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.canonical())
    }
}

/// Why a key could not be built from what the API stores.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("bad key name {0:?}")]
    BadName(String),
    #[error("unsupported TSIG algorithm {0:?} (expected hmac-sha1, hmac-sha256, hmac-sha384 or hmac-sha512)")]
    UnsupportedAlgorithm(String),
    #[error("the secret is not valid base64")]
    BadSecret,
    #[error("the secret is empty")]
    EmptySecret,
    #[error("a minimum MAC length of {len} is outside {min}..={max} for {algorithm} (RFC 8945 §5.2.2.1)")]
    BadMinMacLen {
        len: usize,
        min: usize,
        max: usize,
        algorithm: Algorithm,
    },
}

/// A TSIG key: its name, algorithm and secret, and how short a truncated MAC it accepts.
#[derive(Clone)]
pub struct TsigKey {
    name: Name,
    algorithm: Algorithm,
    secret: hmac::Key,
    min_mac_len: usize,
}

impl TsigKey {
    /// Builds a key from the API's fields: key name (`k1.example.`), algorithm as stored
    /// (`hmac-sha256.`, see [`Algorithm::parse`]) and the secret in base64.
    pub fn new(name: &str, algorithm: &str, secret_base64: &str) -> Result<TsigKey, KeyError> {
        let name = Name::parse(name.trim()).map_err(|_| KeyError::BadName(name.to_string()))?;
        let algorithm = Algorithm::parse(algorithm.trim())?;
        // Padding optional: secrets pasted from other servers' configs come both ways.
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let secret = lenient
            .decode(secret_base64.trim())
            .map_err(|_| KeyError::BadSecret)?;
        TsigKey::from_secret(name, algorithm, &secret)
    }

    /// Builds a key from a secret already decoded.
    pub fn from_secret(
        name: Name,
        algorithm: Algorithm,
        secret: &[u8],
    ) -> Result<TsigKey, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        Ok(TsigKey {
            name,
            algorithm,
            secret: hmac::Key::new(algorithm.ring(), secret),
            min_mac_len: algorithm.mac_len(),
        })
    }

    /// Accepts received MACs truncated down to `len` octets (local policy of RFC 8945
    /// §5.2.4; by default only full-length MACs are accepted and shorter ones get BADTRUNC).
    pub fn with_min_mac_len(mut self, len: usize) -> Result<TsigKey, KeyError> {
        let (min, max) = (self.algorithm.min_truncated_len(), self.algorithm.mac_len());
        if !(min..=max).contains(&len) {
            return Err(KeyError::BadMinMacLen {
                len,
                min,
                max,
                algorithm: self.algorithm,
            });
        }
        self.min_mac_len = len;
        Ok(self)
    }

    pub fn name(&self) -> &Name {
        &self.name
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Shortest received MAC this key accepts without BADTRUNC.
    pub fn min_mac_len(&self) -> usize {
        self.min_mac_len
    }

    /// Octets a TSIG RR signed with this key adds to a message (RFC 8945 §4.2), with room
    /// for the 6 octets of Other Data of a BADTIME answer.
    pub fn tsig_rr_len(&self) -> usize {
        // owner, TYPE CLASS TTL RDLENGTH, algorithm, Time Signed, Fudge, MAC Size, MAC,
        // Original ID, Error, Other Len, Other Data.
        self.name.as_wire().len()
            + 10
            + self.algorithm.wire().len()
            + 6
            + 2
            + 2
            + self.algorithm.mac_len()
            + 2
            + 2
            + 2
            + 6
    }

    fn context(&self) -> hmac::Context {
        hmac::Context::with_key(&self.secret)
    }
}

impl AsRef<TsigKey> for TsigKey {
    fn as_ref(&self) -> &TsigKey {
        self
    }
}

impl fmt::Debug for TsigKey {
    // The secret stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("min_mac_len", &self.min_mac_len)
            .finish_non_exhaustive()
    }
}

/// Where [`verify_request`] finds the key a request names (RFC 8945 §5.2.1: by key name and
/// algorithm). `Key` is whatever the caller wants back with a valid request, for example an
/// `Arc<TsigKey>` or a type that also says which peer owns the key.
pub trait KeyStore {
    type Key: AsRef<TsigKey> + Clone;

    /// The key called `name` (lowercase uncompressed wire form) for `algorithm`, if any.
    fn find_key(&self, name: &[u8], algorithm: Algorithm) -> Option<Self::Key>;
}

impl<K: AsRef<TsigKey> + Clone> KeyStore for [K] {
    type Key = K;

    fn find_key(&self, name: &[u8], algorithm: Algorithm) -> Option<K> {
        self.iter()
            .find(|k| {
                let k = k.as_ref();
                k.algorithm == algorithm && k.name.as_wire() == name
            })
            .cloned()
    }
}

impl<K: AsRef<TsigKey> + Clone> KeyStore for Vec<K> {
    type Key = K;

    fn find_key(&self, name: &[u8], algorithm: Algorithm) -> Option<K> {
        self.as_slice().find_key(name, algorithm)
    }
}

/// Keys by name, for a server that knows many.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: HashMap<Name, Vec<Arc<TsigKey>>>,
}

impl KeyRing {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key, replacing one of the same name and algorithm.
    pub fn insert(&mut self, key: TsigKey) {
        let same = self.keys.entry(key.name.clone()).or_default();
        same.retain(|k| k.algorithm != key.algorithm);
        same.push(Arc::new(key));
    }

    pub fn len(&self) -> usize {
        self.keys.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl FromIterator<TsigKey> for KeyRing {
    fn from_iter<I: IntoIterator<Item = TsigKey>>(iter: I) -> Self {
        let mut ring = KeyRing::new();
        for k in iter {
            ring.insert(k);
        }
        ring
    }
}

impl KeyStore for KeyRing {
    type Key = Arc<TsigKey>;

    fn find_key(&self, name: &[u8], algorithm: Algorithm) -> Option<Arc<TsigKey>> {
        self.keys.get(name)?.find_key(name, algorithm)
    }
}
