//! Unit tests of the RDATA checker: every well-formed record of a zone file passes, and each
//! kind of damage the hardening report found is refused.

use super::*;
use crate::text::parse_zonefile;
use crate::Name;

fn parsed(line: &str) -> (u16, Vec<u8>) {
    let origin = Name::parse("example.com").unwrap();
    let mut recs = parse_zonefile(line, &origin, 300).unwrap();
    let r = recs.remove(0).record;
    (r.rtype, r.rdata.to_vec())
}

#[test]
fn well_formed_records_of_many_types_pass() {
    let lines = [
        "a IN A 192.0.2.1",
        "a IN AAAA 2001:db8::1",
        "a IN CNAME www.example.net.",
        "a IN NS ns1",
        "a IN MX 10 mail",
        "a IN PTR host.example.net.",
        "a IN DNAME target.example.net.",
        "a IN TXT \"hello\" \"world\"",
        "a IN TXT \"\"",
        "@ IN SOA ns1 hostmaster 5 7200 3600 1209600 300",
        "_sip._tcp IN SRV 10 20 5060 sip.example.net.",
        "a IN CAA 0 issue \"ca.example.net\"",
        "a IN SSHFP 4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "a IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "a IN HINFO \"cpu\" \"os\"",
        "a IN NAPTR 100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .",
        "a IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "a IN NSEC b.example.com. A RRSIG NSEC",
        "a IN HTTPS 1 . alpn=h2,h3",
        "a IN SVCB 0 svc.example.net.",
        "a IN TYPE65280 \\# 3 010203",
        "a IN TYPE18 \\# 11 0001036166730378797a00",
        "a IN TYPE29 \\# 16 00121616898b1e4f70da5f36000f4240",
        "a IN TYPE108 \\# 6 00005e0053ff",
    ];
    for line in lines {
        let (t, rdata) = parsed(&format!("{line}\n"));
        assert_eq!(check(t, &rdata), Ok(()), "{line}");
    }
}

#[test]
fn wrong_lengths_for_fixed_types_are_refused() {
    for (t, rdata) in [
        (1u16, &[192u8, 0, 2][..]),
        (1, &[192, 0, 2, 1, 5]),
        (28, &[0; 15]),
        (15, &[1]),
        (29, &[0; 15]),
        (29, &[1; 16]),
        (108, &[0; 5]),
        (109, &[0; 9]),
        (16, &[]),
        (16, &[5, b'a']),
        (99, &[3, b'a']),
    ] {
        assert!(check(t, rdata).is_err(), "type {t} {rdata:?} passed");
    }
}

#[test]
fn compression_pointers_are_refused() {
    // CNAME `\# 2 c00c`: a pointer into the message the record would later sit in.
    assert!(check(5, &[0xc0, 0x0c]).is_err());
    // SOA whose RNAME points back at its MNAME: parses, but is not the stored form.
    let mut soa = b"\x03abc\x00\xc0\x00".to_vec();
    soa.extend_from_slice(&[0; 20]);
    assert_eq!(
        check(6, &soa),
        Err(RdataError::Compressed {
            rtype: "SOA".into()
        })
    );
    // MX and AFSDB with a pointer as the exchange.
    assert!(check(15, &[0, 10, 0xc0, 0x00]).is_err());
    assert!(check(18, &[0, 1, 0xc0, 0x00]).is_err());
}

#[test]
fn empty_labels_and_long_names_are_refused() {
    // `bad..name` as the scanner writes it: `bad.` followed by stray octets.
    let rdata = b"\x03bad\x00\x04name\x07example\x03com\x00";
    assert!(matches!(check(5, rdata), Err(RdataError::Trailing { .. })));
    assert!(check(2, b"\x01a\x00\x01b\x00").is_err());
    // A name of 256 octets.
    let mut long = Vec::new();
    for _ in 0..4 {
        long.push(63);
        long.extend_from_slice(&[b'a'; 63]);
    }
    long.push(0);
    assert!(check(5, &long).is_err());
    assert!(check(18, &[&[0u8, 1][..], &long].concat()).is_err());
    // A label length of 64 (an extended label type).
    assert!(check(2, &[0x40, b'a', 0]).is_err());
}

#[test]
fn unknown_types_stay_opaque() {
    assert_eq!(check(65280, &[]), Ok(()));
    assert_eq!(check(65280, &[0xc0, 0x0c]), Ok(()));
    assert_eq!(check(65280, &vec![7; 65535]), Ok(()));
    assert!(matches!(
        check(65280, &vec![7; 65536]),
        Err(RdataError::TooLong { .. })
    ));
}
