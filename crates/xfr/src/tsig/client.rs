//! The client side of TSIG, for our own SOA queries, transfer requests and NOTIFYs: signing a
//! request (RFC 8945 §5.1) and verifying its answer, one message or a whole transfer (§5.3,
//! §5.3.1, §5.4).

use super::wire::{
    digest_mac, digest_signed_message, digest_timers, digest_variables, find_tsig, mac_matches,
    sign_message, u16_at, TsigRr, Variables,
};
use super::{error_code, Algorithm, FormErr, SignError, TsigKey};
use ring::hmac;

/// How many unsigned messages in a row a transfer may hold (RFC 8945 §5.3.1).
const MAX_UNSIGNED_IN_A_ROW: usize = 99;

/// Why an answer to a signed request is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("not a response (QR clear, or shorter than a header)")]
    NotAResponse,
    /// A misplaced or unreadable TSIG RR, or a MAC whose size is out of bounds
    /// (CVE-2020-8622).
    #[error("malformed TSIG: {0}")]
    Malformed(FormErr),
    /// RFC 8945 §5.4: the first (or only) message must be signed.
    #[error("the answer is not signed (rcode {rcode})")]
    Unsigned { rcode: u16 },
    /// RFC 8945 §5.3.1: at most 99 unsigned messages in a row.
    #[error("more than {MAX_UNSIGNED_IN_A_ROW} unsigned messages in a row")]
    TooManyUnsigned,
    /// RFC 8945 §5.3.1: the last message must be signed.
    #[error("the last message of the answer is not signed")]
    LastUnsigned,
    #[error("no signed message of the answer was received")]
    NoAnswer,
    #[error("signed with another key or algorithm than the request")]
    WrongKey,
    #[error("the MAC does not verify")]
    BadSig,
    #[error("a MAC of {len} octets, the key wants at least {min}")]
    BadTrunc { len: usize, min: usize },
    #[error("signed at {time_signed} ± {fudge}, our time is {now}")]
    BadTime {
        time_signed: u64,
        fudge: u16,
        now: u64,
    },
    /// The server answered with a TSIG error (RFC 8945 §5.2). `authenticated`: its MAC
    /// verified (BADTIME, BADTRUNC); BADKEY and BADSIG come unsigned and may be forged.
    /// `server_time` is the Other Data of a BADTIME answer.
    #[error("the server answered {} (authenticated: {authenticated})", error_code::name(*.error))]
    Server {
        error: u16,
        authenticated: bool,
        server_time: Option<u64>,
    },
}

/// A message that [`RequestState::verify_response`] accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    /// Signed; `&msg[..tsig_start]` is the message without its TSIG RR (ARCOUNT still counts
    /// it).
    Signed { tsig_start: usize },
    /// An unsigned message inside a transfer, covered by the next signed one.
    Unsigned,
}

/// Signs a finished request with `key` at Unix time `now` (RFC 8945 §5.1) and returns what
/// verifying its answers needs.
pub fn sign_request(msg: &mut Vec<u8>, key: &TsigKey, now: u64) -> Result<RequestState, SignError> {
    let mac = sign_message(key.context(), key, msg, &Variables::now(now), true)?;
    let mut prior = key.context();
    digest_mac(&mut prior, mac.as_ref());
    Ok(RequestState {
        key: key.clone(),
        prior,
        signed: 0,
        unsigned: 0,
    })
}

/// A signed request waiting for its answer: feed every message of the answer, in order, to
/// [`RequestState::verify_response`], then call [`RequestState::finish`].
#[derive(Clone)]
pub struct RequestState {
    key: TsigKey,
    /// The digest so far: the request MAC, then the last verified MAC and the unsigned
    /// messages since.
    prior: hmac::Context,
    signed: usize,
    unsigned: usize,
}

impl RequestState {
    pub fn key(&self) -> &TsigKey {
        &self.key
    }

    /// Verifies the next message of the answer at Unix time `now`. A message that fails
    /// leaves the state as it was, so a forged UDP answer can be dropped while waiting for
    /// the real one; within a transfer any error is the end of it.
    pub fn verify_response(&mut self, msg: &[u8], now: u64) -> Result<Checked, ResponseError> {
        let flags = u16_at(msg, 2).unwrap_or(0);
        if msg.len() < 12 || flags & 0x8000 == 0 {
            return Err(ResponseError::NotAResponse);
        }
        let rr = match find_tsig(msg).tsig {
            Err(e) => return Err(ResponseError::Malformed(e)),
            Ok(Some(rr)) => rr,
            Ok(None) if self.signed == 0 => {
                return Err(ResponseError::Unsigned {
                    rcode: flags & 0x000F,
                })
            }
            Ok(None) if self.unsigned >= MAX_UNSIGNED_IN_A_ROW => {
                return Err(ResponseError::TooManyUnsigned)
            }
            Ok(None) => {
                self.prior.update(msg);
                self.unsigned += 1;
                return Ok(Checked::Unsigned);
            }
        };
        // RFC 8945 §5.3.2: BADKEY and BADSIG come back without a MAC; they cannot be
        // verified, only reported.
        if rr.mac.is_empty() && rr.error != error_code::NOERROR {
            return Err(server_error(&rr, false));
        }
        self.check_signature(msg, &rr)?;
        if rr.error != error_code::NOERROR {
            return Err(server_error(&rr, true));
        }
        let v = rr.variables();
        if !v.fresh_at(now) {
            return Err(ResponseError::BadTime {
                time_signed: v.time_signed,
                fudge: v.fudge,
                now,
            });
        }
        if rr.mac.len() < self.key.min_mac_len() {
            return Err(ResponseError::BadTrunc {
                len: rr.mac.len(),
                min: self.key.min_mac_len(),
            });
        }
        self.prior = self.key.context();
        digest_mac(&mut self.prior, &rr.mac);
        self.signed += 1;
        self.unsigned = 0;
        Ok(Checked::Signed {
            tsig_start: rr.start,
        })
    }

    /// Checks the answer is complete as far as TSIG goes: something was signed, and the last
    /// message was (RFC 8945 §5.3.1).
    pub fn finish(&self) -> Result<(), ResponseError> {
        if self.signed == 0 {
            Err(ResponseError::NoAnswer)
        } else if self.unsigned > 0 {
            Err(ResponseError::LastUnsigned)
        } else {
            Ok(())
        }
    }

    /// Key, MAC length bounds (§5.2.2.1) and MAC: all variables for the first signed
    /// message (§5.3), only the timers for later ones (§5.3.1).
    fn check_signature(&self, msg: &[u8], rr: &TsigRr) -> Result<(), ResponseError> {
        let algorithm = self.key.algorithm();
        if rr.key_name != self.key.name().as_wire()
            || Algorithm::from_wire(&rr.algorithm) != Some(algorithm)
        {
            return Err(ResponseError::WrongKey);
        }
        let (min, max) = (algorithm.min_truncated_len(), algorithm.mac_len());
        let len = rr.mac.len();
        if !(min..=max).contains(&len) {
            return Err(ResponseError::Malformed(FormErr::MacSize { len, min, max }));
        }
        let mut ctx = self.prior.clone();
        digest_signed_message(&mut ctx, msg, rr);
        if self.signed == 0 {
            let name = self.key.name().as_wire();
            digest_variables(&mut ctx, name, algorithm.wire(), &rr.variables());
        } else {
            digest_timers(&mut ctx, &rr.variables());
        }
        if mac_matches(ctx.sign().as_ref(), &rr.mac) {
            Ok(())
        } else {
            Err(ResponseError::BadSig)
        }
    }
}

fn server_error(rr: &TsigRr, authenticated: bool) -> ResponseError {
    let server_time = (rr.other.len() == 6).then(|| {
        rr.other
            .iter()
            .fold(0u64, |acc, &o| (acc << 8) | u64::from(o))
    });
    ResponseError::Server {
        error: rr.error,
        authenticated,
        server_time,
    }
}

impl std::fmt::Debug for RequestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestState")
            .field("key", &self.key)
            .field("signed", &self.signed)
            .field("unsigned", &self.unsigned)
            .finish_non_exhaustive()
    }
}
