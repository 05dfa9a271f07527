//! The server side of TSIG: checking a request (RFC 8945 §5.2), answering its failures
//! (§5.2.1–§5.2.4, §5.3.2) and signing the messages of an answer (§5.3, §5.3.1). An error
//! answer echoes the request's question only when its name is uncompressed (RFC 1035 §4.1.4).

use super::wire::{
    append_tsig, digest_mac, digest_signed_message, digest_variables, find_tsig, mac_matches,
    sign_message, time48, u16_at, TsigRr, Variables,
};
use super::{error_code, Algorithm, FormErr, KeyStore, SignError, TsigKey, DEFAULT_FUDGE};
use crate::axfr::XfrConfig;
use ring::hmac;
use std::fmt;

/// Header bits we echo or set (RFC 1035 §4.1.1).
const QR: u16 = 0x8000;
const OPCODE_AND_RD: u16 = 0x7800 | 0x0100;
const RCODE_FORMERR: u16 = 1;
const RCODE_NOTAUTH: u16 = 9;

/// A request that passed [`verify_request`].
#[derive(Debug)]
pub enum Verdict<K> {
    /// No TSIG RR: whether that is acceptable is the access policy's decision.
    Unsigned,
    /// Signed with `key`, MAC and time checked.
    Signed(SignedRequest<K>),
}

/// A request whose TSIG verified: the key and what the answer's signature builds on.
#[derive(Clone, Debug)]
pub struct SignedRequest<K> {
    pub key: K,
    /// The request MAC, digested first by the answer's MAC (RFC 8945 §4.3.1).
    pub mac: Vec<u8>,
    pub time_signed: u64,
    pub fudge: u16,
    /// Offset of the TSIG RR: `&msg[..tsig_start]` is the request without it (ARCOUNT
    /// still counts it).
    pub tsig_start: usize,
}

impl<K: AsRef<TsigKey>> SignedRequest<K> {
    /// A signer for the answer (one message or many).
    pub fn into_signer(self) -> ResponseSigner<K> {
        ResponseSigner::new(self.key, &self.mac)
    }
}

/// What went wrong with a request's TSIG, and so what to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RejectKind {
    /// QR is set (or the message is shorter than a header): a response sent to us as a
    /// request, e.g. a replayed BADTIME answer (CVE-2020-8617). Never answered, never signed.
    #[error("not a request: dropped")]
    NotARequest,
    /// RFC 8945 §5.2, §5.2.2.1: answered FORMERR without a TSIG RR.
    #[error("FORMERR: {0}")]
    FormErr(FormErr),
    /// §5.2.1: unknown key name, or an algorithm we do not know or the key does not use.
    #[error("BADKEY: unknown key or algorithm")]
    BadKey,
    /// §5.2.2: a known key, but the MAC does not verify.
    #[error("BADSIG: the MAC does not verify")]
    BadSig,
    /// §5.2.3: the MAC verified, the time is outside Time Signed ± Fudge.
    #[error("BADTIME: signed at {time_signed} ± {fudge}, our time is {now}")]
    BadTime {
        time_signed: u64,
        fudge: u16,
        now: u64,
    },
    /// §5.2.4: the MAC verified but is truncated below the key's policy.
    #[error("BADTRUNC: a MAC of {len} octets, the key wants at least {min}")]
    BadTrunc { len: usize, min: usize },
}

/// A rejected request, with what its error answer needs.
pub struct Rejection<K> {
    kind: RejectKind,
    question_end: usize,
    /// The request's TSIG RR, echoed in NOTAUTH answers.
    tsig: Option<Box<TsigRr>>,
    /// The key whose MAC verified, for the signed answers of BADTIME and BADTRUNC.
    key: Option<K>,
}

impl<K> Rejection<K> {
    fn new(kind: RejectKind, question_end: usize) -> Self {
        Rejection {
            kind,
            question_end,
            tsig: None,
            key: None,
        }
    }

    pub fn kind(&self) -> RejectKind {
        self.kind
    }

    /// The header RCODE of the answer: FORMERR, NOTAUTH, or `None` for no answer at all.
    pub fn rcode(&self) -> Option<u16> {
        match self.kind {
            RejectKind::NotARequest => None,
            RejectKind::FormErr(_) => Some(RCODE_FORMERR),
            _ => Some(RCODE_NOTAUTH),
        }
    }

    /// The Error field of the answer's TSIG RR (RFC 8945 §3).
    pub fn tsig_error(&self) -> u16 {
        match self.kind {
            RejectKind::BadKey => error_code::BADKEY,
            RejectKind::BadSig => error_code::BADSIG,
            RejectKind::BadTime { .. } => error_code::BADTIME,
            RejectKind::BadTrunc { .. } => error_code::BADTRUNC,
            RejectKind::NotARequest | RejectKind::FormErr(_) => error_code::NOERROR,
        }
    }

    /// The key name the request used (lowercase wire form), for logs.
    pub fn key_name(&self) -> Option<&[u8]> {
        self.tsig.as_ref().map(|t| &t.key_name[..])
    }

    /// The key, when its MAC verified (BADTIME, BADTRUNC).
    pub fn key(&self) -> Option<&K> {
        self.key.as_ref()
    }
}

impl<K: AsRef<TsigKey>> Rejection<K> {
    /// The complete error answer to `request` (the message given to [`verify_request`]):
    /// header echoed with QR and the rcode, the question echoed, and for NOTAUTH a TSIG RR
    /// carrying the error (RFC 8945 §5.3.2): with no MAC for BADKEY and BADSIG, signed for
    /// BADTIME (with our time in Other Data) and BADTRUNC. `None`: send nothing.
    pub fn response(&self, request: &[u8], now: u64) -> Option<Vec<u8>> {
        let rcode = self.rcode()?;
        let flags = u16_at(request, 2)?;
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(request.get(..2)?);
        out.extend_from_slice(&(QR | (flags & OPCODE_AND_RD) | rcode).to_be_bytes());
        let question = request
            .get(12..self.question_end)
            .filter(|q| is_plain_question(q))
            .unwrap_or_default();
        out.extend_from_slice(&u16::from(!question.is_empty()).to_be_bytes());
        out.extend_from_slice(&[0; 6]);
        out.extend_from_slice(question);
        let Some(tsig) = self.tsig.as_deref() else {
            return Some(out);
        };
        let error = self.tsig_error();
        let mut vars = Variables {
            time_signed: now,
            fudge: tsig.fudge,
            error,
            other: &[],
        };
        let ok = match (&self.kind, &self.key) {
            (RejectKind::BadTime { .. }, Some(key)) => {
                // §5.2.3: the client's Time Signed, our time in Other Data, signed.
                let ours = time48(now);
                vars.time_signed = tsig.time_signed;
                vars.other = &ours;
                sign_error(key.as_ref(), &tsig.mac, &mut out, &vars)
            }
            (RejectKind::BadTrunc { .. }, Some(key)) => {
                sign_error(key.as_ref(), &tsig.mac, &mut out, &vars)
            }
            // §5.3.2: key and MAC errors are answered unsigned, never signed.
            _ => append_tsig(&mut out, &tsig.key_name, &tsig.algorithm, &vars, &[]).is_ok(),
        };
        ok.then_some(out)
    }
}

/// Whether a question can be echoed as it is: a name without compression pointers, then
/// type and class. A pointer in the request's question can only lead back into the header
/// (RFC 1035 §4.1.4 allows pointers to earlier octets only), which the answer rewrites, so the
/// copy would name other octets; such a question is left out of the error answer.
fn is_plain_question(q: &[u8]) -> bool {
    tandem_zone::name::wire_len(q).is_ok_and(|n| n + 4 == q.len())
}

/// Signs an error answer as the first message after the request (§5.3.2: the request MAC
/// is digested because it validated).
fn sign_error(key: &TsigKey, request_mac: &[u8], out: &mut Vec<u8>, v: &Variables<'_>) -> bool {
    let mut ctx = key.context();
    digest_mac(&mut ctx, request_mac);
    sign_message(ctx, key, out, v, true).is_ok()
}

impl<K> fmt::Debug for Rejection<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field("key_name", &self.tsig.as_ref().map(|t| &t.key_name))
            .finish_non_exhaustive()
    }
}

impl<K> fmt::Display for Rejection<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl<K> std::error::Error for Rejection<K> {}

/// Checks the TSIG of an incoming request in the order of RFC 8945 §5.2: its place and form
/// (FORMERR), the key (BADKEY), the MAC length (FORMERR) and the MAC (BADSIG), then and only
/// then the time (BADTIME, CVE-2017-11104), then the truncation policy (BADTRUNC). Keys come
/// from `keys`; `now` is the Unix time. Never panics, whatever `msg` holds.
pub fn verify_request<S: KeyStore + ?Sized>(
    msg: &[u8],
    keys: &S,
    now: u64,
) -> Result<Verdict<S::Key>, Rejection<S::Key>> {
    let flags = u16_at(msg, 2).unwrap_or(QR);
    if msg.len() < 12 || flags & QR != 0 {
        return Err(Rejection::new(RejectKind::NotARequest, 0));
    }
    let found = find_tsig(msg);
    let rr = match found.tsig {
        Ok(None) => return Ok(Verdict::Unsigned),
        Ok(Some(rr)) => Box::new(rr),
        Err(e) => return Err(Rejection::new(RejectKind::FormErr(e), found.question_end)),
    };
    let reject = |kind, rr, key| Rejection {
        kind,
        question_end: found.question_end,
        tsig: Some(rr),
        key,
    };

    // §5.2.1: any name that is not one of our algorithms, however odd, is BADKEY
    // (CVE-2025-40775).
    let key = Algorithm::from_wire(&rr.algorithm).and_then(|a| keys.find_key(&rr.key_name, a));
    let Some(key) = key else {
        return Err(reject(RejectKind::BadKey, rr, None));
    };
    let k = key.as_ref();
    let algorithm = k.algorithm();

    // §5.2.2.1: a MAC longer than the hash or shorter than the minimum is FORMERR.
    let (min, max) = (algorithm.min_truncated_len(), algorithm.mac_len());
    let len = rr.mac.len();
    if !(min..=max).contains(&len) {
        let kind = RejectKind::FormErr(FormErr::MacSize { len, min, max });
        return Err(Rejection::new(kind, found.question_end));
    }

    // §5.2.2: the MAC, over §4.3.2 and §4.3.3.
    let mut ctx = k.context();
    digest_signed_message(&mut ctx, msg, &rr);
    digest_variables(
        &mut ctx,
        k.name().as_wire(),
        algorithm.wire(),
        &rr.variables(),
    );
    if !mac_matches(ctx.sign().as_ref(), &rr.mac) {
        return Err(reject(RejectKind::BadSig, rr, None));
    }

    // §5.2.3: only now the time (Time Signed 0 lands here, as BADTIME).
    if !rr.variables().fresh_at(now) {
        let kind = RejectKind::BadTime {
            time_signed: rr.time_signed,
            fudge: rr.fudge,
            now,
        };
        return Err(reject(kind, rr, Some(key)));
    }

    // §5.2.4: truncation allowed by the RFC but not by the key's policy.
    if len < k.min_mac_len() {
        let kind = RejectKind::BadTrunc {
            len,
            min: k.min_mac_len(),
        };
        return Err(reject(kind, rr, Some(key)));
    }

    Ok(Verdict::Signed(SignedRequest {
        key,
        mac: rr.mac,
        time_signed: rr.time_signed,
        fudge: rr.fudge,
        tsig_start: rr.start,
    }))
}

/// Signs the messages of an answer to a signed request, in order: the first with the request
/// MAC and all TSIG variables digested (RFC 8945 §5.3), each later one with the previous MAC
/// and the timers (§5.3.1). Tandem signs every message.
///
/// For AXFR/IXFR streams, give the stream [`ResponseSigner::reserve`]`(cfg)` so that each
/// message leaves room for the TSIG RR, and wrap its `emit` callback with
/// [`ResponseSigner::wrap`]:
///
/// ```
/// # use tandem_xfr::{axfr, XfrConfig};
/// # use tandem_xfr::tsig::{verify_request, TsigKey, Verdict};
/// # fn serve(version: &tandem_zone::ZoneVersion, query: &[u8], question_end: usize,
/// #          keys: &[TsigKey], now: u64, send: impl FnMut(&[u8]) -> bool) {
/// if let Ok(Verdict::Signed(request)) = verify_request(query, keys, now) {
///     let mut signer = request.into_signer();
///     let cfg = signer.reserve(XfrConfig::default());
///     let sent = axfr(version, query, question_end, cfg, signer.wrap(|| now, send));
///     if let Some(e) = signer.take_error() {
///         // `sent` is Err(XfrError::Stopped): the message could not be signed.
///     }
/// }
/// # }
/// ```
pub struct ResponseSigner<K> {
    key: K,
    /// The digest so far: the request MAC, then the previous message's MAC and any messages
    /// passed unsigned since.
    prior: hmac::Context,
    first: bool,
    fudge: u16,
    scratch: Vec<u8>,
    error: Option<SignError>,
}

impl<K: AsRef<TsigKey>> ResponseSigner<K> {
    /// A signer for the answer to a request signed with `key` whose MAC was `request_mac`.
    pub fn new(key: K, request_mac: &[u8]) -> Self {
        let mut prior = key.as_ref().context();
        digest_mac(&mut prior, request_mac);
        ResponseSigner {
            key,
            prior,
            first: true,
            fudge: DEFAULT_FUDGE,
            scratch: Vec::new(),
            error: None,
        }
    }

    pub fn key(&self) -> &K {
        &self.key
    }

    /// Octets the TSIG RR adds to each message.
    pub fn tsig_len(&self) -> usize {
        self.key.as_ref().tsig_rr_len()
    }

    /// `cfg` with its message sizes lowered by the room the TSIG RR needs, so that a signed
    /// message still fits its limit (and 65535 octets, RFC 1035 §4.2.2) with its TSIG RR.
    pub fn reserve(&self, cfg: XfrConfig) -> XfrConfig {
        XfrConfig {
            max_message: cfg.max_message.saturating_sub(self.tsig_len()),
            max_single: cfg.max_single.saturating_sub(self.tsig_len()),
        }
    }

    /// Signs the next message of the answer at time `now` and appends its TSIG RR.
    pub fn sign(&mut self, msg: &mut Vec<u8>, now: u64) -> Result<(), SignError> {
        let key = self.key.as_ref();
        let v = Variables {
            time_signed: now,
            fudge: self.fudge,
            error: 0,
            other: &[],
        };
        let mac = sign_message(self.prior.clone(), key, msg, &v, self.first)?;
        self.prior = key.context();
        digest_mac(&mut self.prior, mac.as_ref());
        self.first = false;
        Ok(())
    }

    /// Lets a later message go unsigned (RFC 8945 §5.3.1 allows up to 99 in a row; the next
    /// signed message covers it). Tandem never does this; it is here so that clients can be
    /// tested against senders that do.
    pub fn pass_unsigned(&mut self, msg: &[u8]) -> Result<(), SignError> {
        if self.first {
            return Err(SignError::FirstUnsigned);
        }
        self.prior.update(msg);
        Ok(())
    }

    /// Wraps the `emit` callback of [`crate::axfr`] / [`crate::ixfr`]: each message is copied,
    /// signed at `clock()` and handed to `emit`. A message that cannot be signed stops the
    /// stream (it then returns `XfrError::Stopped`); [`ResponseSigner::take_error`] says why.
    pub fn wrap<'s>(
        &'s mut self,
        mut clock: impl FnMut() -> u64 + 's,
        mut emit: impl FnMut(&[u8]) -> bool + 's,
    ) -> impl FnMut(&[u8]) -> bool + 's {
        move |msg: &[u8]| {
            let mut buf = std::mem::take(&mut self.scratch);
            buf.clear();
            buf.extend_from_slice(msg);
            let go_on = match self.sign(&mut buf, clock()) {
                Ok(()) => emit(&buf),
                Err(e) => {
                    self.error = Some(e);
                    false
                }
            };
            self.scratch = buf;
            go_on
        }
    }

    /// Why a wrapped stream stopped, if signing stopped it.
    pub fn take_error(&mut self) -> Option<SignError> {
        self.error.take()
    }
}
