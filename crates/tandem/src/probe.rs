//! The live SOA query behind `GET .../peer_serials` ([`tandem_api::SoaProbe`]): the same
//! refresh-check query the secondary role sends (`tandem_server::xfr_in::query_soa`: UDP from
//! `--transfer-source`, TSIG-signed when the peer has a key, TCP when truncated), with tries
//! short enough that two fit in the API's 2 s per peer.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tandem_api::{ProbeKey, ProbeResult, SoaProbe};
use tandem_server::xfr_in::{query_soa, XfrInConfig};
use tandem_xfr::tsig::TsigKey;
use tandem_zone::Name;

/// How long one try waits.
const TRY_TIMEOUT: Duration = Duration::from_millis(800);

/// Asks peers for their SOA serial, from `source` when set.
pub struct UdpSoaProbe {
    pub source: Option<IpAddr>,
}

impl SoaProbe for UdpSoaProbe {
    fn soa_serial(&self, zone: String, addr: SocketAddr, key: Option<ProbeKey>) -> ProbeResult {
        let cfg = XfrInConfig {
            source: self.source,
            soa_timeout: TRY_TIMEOUT,
            soa_tries: 2,
            ..XfrInConfig::default()
        };
        Box::pin(async move {
            let apex = Name::parse(&zone).map_err(|_| format!("{zone:?} is not a domain name"))?;
            let key = key
                .map(|k| TsigKey::new(&k.name, &k.algorithm, &k.secret))
                .transpose()
                .map_err(|e| format!("the peer's TSIG key cannot be used: {e}"))?;
            query_soa(&apex, addr, key.as_ref(), &cfg)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::base::iana::{Class, Rcode};
    use domain::base::{Message, MessageBuilder, Name as DName};
    use domain::rdata::Soa;
    use std::str::FromStr;
    use tokio::net::UdpSocket;

    /// A canned authoritative answer to `request` holding an SOA with `serial`.
    fn answer(request: &[u8], serial: u32, aa: bool) -> Vec<u8> {
        let req = Message::from_octets(request.to_vec()).unwrap();
        let mut b = MessageBuilder::new_vec()
            .start_answer(&req, Rcode::NOERROR)
            .unwrap();
        b.header_mut().set_aa(aa);
        let apex = DName::<Vec<u8>>::from_str("example.test.").unwrap();
        let soa = Soa::new(
            DName::<Vec<u8>>::from_str("ns1.example.test.").unwrap(),
            DName::<Vec<u8>>::from_str("hostmaster.example.test.").unwrap(),
            domain::base::Serial(serial),
            domain::base::Ttl::from_secs(7200),
            domain::base::Ttl::from_secs(3600),
            domain::base::Ttl::from_secs(1_209_600),
            domain::base::Ttl::from_secs(300),
        );
        b.push((apex, Class::IN, 300, soa)).unwrap();
        b.finish()
    }

    #[tokio::test]
    async fn asks_a_real_socket_and_retries_once() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let responder = tokio::spawn(async move {
            let mut buf = vec![0u8; 1500];
            // The first question goes unanswered; the retry gets the answer.
            let _ = server.recv_from(&mut buf).await.unwrap();
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            server
                .send_to(&answer(&buf[..n], 77, true), from)
                .await
                .unwrap();
        });
        let probe = UdpSoaProbe { source: None };
        let got = probe.soa_serial("example.test".into(), addr, None).await;
        assert_eq!(got, Ok(77));
        responder.await.unwrap();
    }

    #[tokio::test]
    async fn a_silent_peer_is_no_answer() {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let probe = UdpSoaProbe { source: None };
        let got = probe.soa_serial("example.test".into(), addr, None).await;
        let err = got.unwrap_err();
        assert!(err.contains("no answer"), "{err}");
        drop(server);
    }
}
