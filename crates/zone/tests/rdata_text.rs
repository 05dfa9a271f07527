//! RDATA shown as text reads back to the same octets. Found by the `zone_text` and
//! `record_json` fuzz targets: the `domain` crate's presentation of SVCB and HTTPS (RFC 9460)
//! with empty `alpn` ids or a target name holding `,` reads back as other RDATA, and of CAA
//! (RFC 8659) with an empty tag does not read back at all.

use tandem_zone::text::{parse_rdata, rdata_to_text};
use tandem_zone::Name;

#[test]
fn svcb_https_and_caa_text_reads_back_to_the_same_octets() {
    let o = Name::parse("example.test").unwrap();
    for (t, content) in [
        (
            "HTTPS",
            "\\# 20 0001 00 0001 000d 024949 00000000000000000000",
        ),
        ("HTTPS", "\\# 6 0000 027a2c 00"),
        ("SVCB", "\\# 6 0000 027a2c 00"),
        ("HTTPS", "1 . alpn=h2,h3"),
        ("SVCB", "1 sip.example.test. port=8443"),
        ("CAA", "\\# 5 19 00 3876 00"),
        ("CAA", "0 issue \"ca.example.net\""),
    ] {
        let rec =
            parse_rdata(&o, t, 300, content, &o).unwrap_or_else(|e| panic!("{t} {content}: {e}"));
        let shown = rdata_to_text(rec.rtype, &rec.rdata);
        let again = parse_rdata(&o, t, 300, &shown, &o)
            .unwrap_or_else(|e| panic!("{t} {content} shown as {shown}: {e}"));
        assert_eq!(rec.rdata, again.rdata, "{t} {content} -> {shown}");
    }
}
