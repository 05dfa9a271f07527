//! TSIG signing by hand for the fake primary (RFC 8945 §4.3.3 and §5.3.1), for what
//! `domain`'s signer will not do: leave a message of a multi-message answer unsigned and cover
//! it with the next signature, as the RFC describes for intermediate messages.

use domain::base::iana::Rtype;
use domain::base::name::ParsedName;
use domain::base::Message;
use domain::tsig::Key;

/// A TSIG signer of a multi-message answer made by hand (RFC 8945 §4.3.3 and §5.3.1), for
/// what `domain`'s signer will not do: leave a message unsigned and cover it with the next
/// signature, as the RFC describes for intermediate messages.
pub(crate) struct HandSigner {
    key: ring::hmac::Key,
    key_name: Vec<u8>,
    algorithm: Vec<u8>,
    prior_mac: Vec<u8>,
    pending: Vec<u8>,
    first: bool,
}

impl HandSigner {
    /// `algo_secret` is `ALGORITHM:BASE64-SECRET`; `request` the signed request as received.
    pub(crate) fn new(key: &Key, request: &[u8], algo_secret: &str) -> HandSigner {
        use base64::Engine as _;
        let (algo, secret) = algo_secret.split_once(':').expect("algorithm:secret");
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret)
            .expect("base64 secret");
        let algorithm = match algo.trim_end_matches('.') {
            "hmac-sha1" => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            "hmac-sha384" => ring::hmac::HMAC_SHA384,
            "hmac-sha512" => ring::hmac::HMAC_SHA512,
            _ => ring::hmac::HMAC_SHA256,
        };
        HandSigner {
            key: ring::hmac::Key::new(algorithm, &secret),
            key_name: wire_name(&key.name().to_string()),
            algorithm: wire_name(algo),
            prior_mac: request_mac(request).expect("the request carries a TSIG"),
            pending: Vec::new(),
            first: true,
        }
    }

    /// Leaves `message` unsigned; the next signature covers it.
    pub(crate) fn skip(&mut self, message: &[u8]) {
        self.pending.extend_from_slice(message);
    }

    /// Appends a TSIG record to `message`.
    pub(crate) fn sign(&mut self, message: &mut Vec<u8>) {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let time48 = &time.to_be_bytes()[2..];
        let fudge = 300u16.to_be_bytes();
        let mut data = (self.prior_mac.len() as u16).to_be_bytes().to_vec();
        data.extend_from_slice(&self.prior_mac);
        if self.first {
            data.extend_from_slice(message);
            data.extend_from_slice(&self.key_name);
            data.extend_from_slice(&255u16.to_be_bytes());
            data.extend_from_slice(&0u32.to_be_bytes());
            data.extend_from_slice(&self.algorithm);
            data.extend_from_slice(time48);
            data.extend_from_slice(&fudge);
            data.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            data.extend_from_slice(&self.pending);
            data.extend_from_slice(message);
            data.extend_from_slice(time48);
            data.extend_from_slice(&fudge);
        }
        let mac = ring::hmac::sign(&self.key, &data).as_ref().to_vec();
        let mut rdata = self.algorithm.clone();
        rdata.extend_from_slice(time48);
        rdata.extend_from_slice(&fudge);
        rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
        rdata.extend_from_slice(&mac);
        rdata.extend_from_slice(&message[0..2]);
        rdata.extend_from_slice(&[0, 0, 0, 0]);
        message.extend_from_slice(&self.key_name);
        message.extend_from_slice(&Rtype::TSIG.to_int().to_be_bytes());
        message.extend_from_slice(&255u16.to_be_bytes());
        message.extend_from_slice(&0u32.to_be_bytes());
        message.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        message.extend_from_slice(&rdata);
        let arcount = u16::from_be_bytes([message[10], message[11]]) + 1;
        message[10..12].copy_from_slice(&arcount.to_be_bytes());
        self.prior_mac = mac;
        self.pending.clear();
        self.first = false;
    }
}

/// A name in uncompressed, lowercase wire form.
fn wire_name(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in text
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(label.len() as u8);
        out.extend(label.to_ascii_lowercase().bytes());
    }
    out.push(0);
    out
}

/// The MAC of the TSIG record of a request.
fn request_mac(wire: &[u8]) -> Option<Vec<u8>> {
    let msg = Message::from_octets(wire.to_vec()).ok()?;
    for record in msg.additional().ok()? {
        let record = record.ok()?;
        if record.rtype() == Rtype::TSIG {
            let tsig = record
                .to_record::<domain::rdata::Tsig<&[u8], ParsedName<&[u8]>>>()
                .ok()
                .flatten()?;
            return Some(tsig.data().mac().to_vec());
        }
    }
    None
}
