//! The test zone shared by the end-to-end and differential tests: one of every shape the query
//! path has to handle (PRODUCT.md §2), written as an RFC 1035 zone file.

/// The zone's apex, without the trailing dot.
pub const ORIGIN: &str = "example.test";
/// SOA serial in the file; an import keeps it because it is newer than a new zone's serial 1.
pub const SERIAL: u32 = 2024010101;
/// TTL of the SOA record and its MINIMUM field: negative answers use the smaller (RFC 2308 §3).
pub const SOA_TTL: u32 = 3600;
pub const SOA_MINIMUM: u32 = 300;
/// Number of TXT records at `big`: together more than 512 bytes, less than 1232.
pub const BIG_TXT_COUNT: usize = 16;

/// A 64-byte signature / key in base64, syntactically valid for algorithm 13.
const B64_64: &str =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
/// 32 bytes in hex, for digests.
const HEX_32: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The zone file of `example.test`.
pub fn example_zone() -> String {
    let mut z = format!(
        "$ORIGIN example.test.\n\
         $TTL 3600\n\
         @ {SOA_TTL} IN SOA ns1.example.test. hostmaster.example.test. {SERIAL} 7200 3600 1209600 {SOA_MINIMUM}\n\
         @ RRSIG SOA 13 2 3600 20300101000000 20200101000000 12345 example.test. {B64_64}\n\
         @ NS ns1\n\
         @ NS ns2.other.test.\n\
         @ MX 10 mail\n\
         @ MX 20 mail.other.test.\n\
         @ TXT \"v=spf1 -all\"\n\
         @ CAA 0 issue \"ca.example.net\"\n\
         @ DNSKEY 257 3 13 {B64_64}\n\
         ns1 A 192.0.2.53\n\
         ns1 AAAA 2001:db8::53\n\
         mail A 192.0.2.25\n\
         www A 192.0.2.1\n\
         www AAAA 2001:db8::1\n\
         www SSHFP 4 2 {HEX_32}\n\
         _443._tcp.www TLSA 3 1 1 {HEX_32}\n\
         c1 CNAME c2\n\
         c2 CNAME c3\n\
         c3 CNAME www\n\
         ext CNAME www.other.test.\n\
         dangling CNAME nothere\n\
         *.wild A 192.0.2.100\n\
         *.wild TXT \"wildcard\"\n\
         explicit.wild A 192.0.2.101\n\
         a.b.c A 192.0.2.102\n\
         sub NS ns.sub\n\
         sub NS ns.other.test.\n\
         sub DS 12345 13 2 {HEX_32}\n\
         sub RRSIG DS 13 3 3600 20300101000000 20200101000000 12345 example.test. {B64_64}\n\
         ns.sub A 192.0.2.54\n\
         unknown TYPE65534 \\# 3 abcdef\n\
         signed A 192.0.2.7\n\
         signed RRSIG A 13 3 3600 20300101000000 20200101000000 12345 example.test. {B64_64}\n\
         _sip._tcp SRV 10 60 5060 sip\n\
         sip A 192.0.2.60\n\
         https HTTPS 1 . alpn=h2,h3\n\
         svc SVCB 1 sip port=8443\n\
         naptr NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._tcp.example.test.\n\
         ptr PTR www.example.test.\n"
    );
    for i in 0..BIG_TXT_COUNT {
        z.push_str(&format!(
            "big TXT \"record {i:02} of the big txt rrset, padded to be long enough\"\n"
        ));
    }
    z
}

/// Every owner name in the zone, relative to the origin (`@` is the apex), plus the empty
/// non-terminals the file creates.
pub const NAMES: &[&str] = &[
    "@",
    "ns1",
    "mail",
    "www",
    "_443._tcp.www",
    "_tcp.www",
    "c1",
    "c2",
    "c3",
    "ext",
    "dangling",
    "*.wild",
    "wild",
    "explicit.wild",
    "a.b.c",
    "b.c",
    "c",
    "sub",
    "ns.sub",
    "unknown",
    "signed",
    "_sip._tcp",
    "_tcp",
    "sip",
    "https",
    "svc",
    "naptr",
    "ptr",
    "big",
];

/// Makes a relative name absolute below the test zone (`@` is the apex).
pub fn fqdn(relative: &str) -> String {
    if relative == "@" {
        format!("{ORIGIN}.")
    } else {
        format!("{relative}.{ORIGIN}.")
    }
}

/// Parses zone-file lines (relative to the test zone, default TTL 3600) into comparable
/// records, so tests state expected answers in presentation form.
pub fn rrs(lines: &str) -> Vec<crate::dns::Rr> {
    use domain::zonefile::inplace::{Entry, Zonefile};
    let text = format!("$ORIGIN {ORIGIN}.\n$TTL 3600\n{lines}\n");
    let mut zone = Zonefile::load(&mut text.as_bytes()).expect("read zone text");
    zone.set_default_class(domain::base::iana::Class::IN);
    let mut out = Vec::new();
    loop {
        match zone.next_entry() {
            Ok(Some(Entry::Record(r))) => out.push(crate::dns::Rr::from_record(
                r.owner(),
                r.class(),
                r.ttl().as_secs(),
                r.data(),
            )),
            Ok(Some(other)) => panic!("unexpected zone entry {other:?}"),
            Ok(None) => return out,
            Err(e) => panic!("bad expected records {lines:?}: {e}"),
        }
    }
}
