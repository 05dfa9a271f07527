//! The setup shared by the tests of Tandem as a secondary of the [`FakePrimary`]: a zone at
//! serial [`N`] with a few records (versions N+k change `www`, delete `old`, add `newK`), a
//! Tandem whose secondary zone has had its first transfer, and checks of what it serves.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use domain::base::iana::Rtype;

use crate::fake_primary::{FakePrimary, SoaTimers};
use crate::incoming::{notify_signed, served, wait_served, SecondaryZone, WAIT};
use crate::secondary::{answer, TsigKey};
use crate::Tandem;

pub const ZONE: &str = "example.test";
/// The serial of the first transfer.
pub const N: u32 = 100;
pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Refresh an hour (only NOTIFY makes Tandem look), retry 1 s, expire an hour.
pub fn timers() -> SoaTimers {
    SoaTimers {
        refresh: 3600,
        retry: 1,
        expire: 3600,
        minimum: 300,
    }
}

/// Version N: fourteen records, so that a transfer takes several messages of four.
pub fn v1() -> String {
    let mut z = String::from("@ NS ns1\n@ NS ns2\nns1 A 192.0.2.53\nns2 A 192.0.2.54\nwww A 192.0.2.1\nold A 192.0.2.2\n");
    for i in 0..8 {
        z.push_str(&format!("h{i} TXT \"host {i}\"\n"));
    }
    z
}

/// Version N+k: `www` changed, `old` deleted, `new{k}` added.
pub fn v(k: u32) -> String {
    v1().replace("www A 192.0.2.1", &format!("www A 198.51.100.{k}"))
        .replace("old A 192.0.2.2\n", "")
        + &format!("new{k} A 203.0.113.{k}\n")
}

pub fn key() -> TsigKey {
    TsigKey {
        name: "xfr-in-key.example.".into(),
        algo: "hmac-sha256".into(),
        secret: "dGFuZGVtLXhmci1pbi10ZXN0LWtleS0wMTIzNDU2Nzg5YWI=".into(),
    }
}

pub struct Setup {
    pub t: Tandem,
    pub fake: FakePrimary,
    pub sz: SecondaryZone,
    /// The key of the peer, when it has one (NOTIFYs are then signed with it).
    pub key: Option<TsigKey>,
}

impl Setup {
    /// Tandem (with `args`) secondary of a fake primary of `ZONE` at serial N; returns after
    /// the first transfer is served.
    pub fn start(args: &[&str], ixfr: bool, key: Option<&TsigKey>) -> Setup {
        let fake = FakePrimary::start(ZONE, N, timers(), &v1());
        if let Some(k) = key {
            fake.set_key(k, true);
        }
        let mut all = vec!["--min-refresh-seconds", "1"];
        all.extend_from_slice(args);
        let t = Tandem::start_with(&all);
        let sz = SecondaryZone::create(&t, ZONE, fake.addr(), ixfr, key, 3600);
        let s = Setup {
            t,
            fake,
            sz,
            key: key.cloned(),
        };
        if let Err(e) = wait_served(s.t.dns(), ZONE, N, WAIT) {
            s.fail(&format!("first transfer: {e}"), Instant::now());
        }
        s
    }

    /// Makes the fake primary announce version N+`k` and tells Tandem by NOTIFY from the
    /// peer's address; returns when the NOTIFY was acknowledged.
    pub fn announce(&self, k: u32) -> Instant {
        self.announce_version(k, &v(k))
    }

    /// [`Setup::announce`] of version N+`k` with the records of `zone_text`.
    pub fn announce_version(&self, k: u32, zone_text: &str) -> Instant {
        let since = Instant::now();
        self.fake.set_version(N + k, zone_text);
        match notify_signed(
            LOCALHOST,
            self.t.dns(),
            ZONE,
            self.key.as_ref(),
            Duration::from_secs(3),
        ) {
            Ok(r) if r.rcode_name() == "NOERROR" => {}
            Ok(r) => self.fail(&format!("NOTIFY from the primary's address: {r}"), since),
            Err(e) => self.fail(&format!("NOTIFY from the primary's address: {e}"), since),
        }
        since
    }

    /// What Tandem answers for `www A`.
    pub fn www(&self) -> String {
        answer(self.t.dns(), &format!("www.{ZONE}"), Rtype::A).unwrap_or_else(|e| e)
    }

    pub fn fail(&self, what: &str, since: Instant) -> ! {
        panic!(
            "{what}\n---- fake primary saw ----\n{}\n---- tandem log (tail) ----\n{}",
            self.fake.describe_since(since),
            self.t.log_tail(5000)
        )
    }

    /// Tandem still serves version N exactly: the SOA serial, `www`, `old`, and not the new
    /// name.
    pub fn assert_serves_n(&self, since: Instant) {
        if let Err(why) = self.serves_n() {
            self.fail(&why, since);
        }
    }

    /// Whether Tandem serves version N exactly, and if not, the first answer that differs.
    pub fn serves_n(&self) -> Result<(), String> {
        let got = served(self.t.dns(), ZONE);
        if got != Ok(N) {
            return Err(format!("serial served: {got:?}, expected {N}"));
        }
        let www = self.www();
        if !www.contains("192.0.2.1") || !www.starts_with("NOERROR") {
            return Err(format!("www after a failed transfer: {www}"));
        }
        let new = answer(self.t.dns(), &format!("new1.{ZONE}"), Rtype::A).unwrap_or_else(|e| e);
        if !new.starts_with("NXDOMAIN") {
            return Err(format!("new1 after a failed transfer: {new}"));
        }
        Ok(())
    }

    /// Tandem serves version N+`k`.
    pub fn assert_serves(&self, k: u32, since: Instant) {
        if let Err(e) = wait_served(self.t.dns(), ZONE, N + k, WAIT) {
            self.fail(&e, since);
        }
        let www = self.www();
        let new = answer(self.t.dns(), &format!("new{k}.{ZONE}"), Rtype::A).unwrap_or_else(|e| e);
        let old = answer(self.t.dns(), &format!("old.{ZONE}"), Rtype::A).unwrap_or_else(|e| e);
        if !www.contains(&format!("198.51.100.{k}"))
            || !new.contains(&format!("203.0.113.{k}"))
            || !old.starts_with("NXDOMAIN")
        {
            self.fail(
                &format!(
                    "version N+{k} not served as transferred: www {www}; new{k} {new}; old {old}"
                ),
                since,
            );
        }
    }
}
