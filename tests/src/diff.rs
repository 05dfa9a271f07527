//! Section-by-section comparison of two responses to the same query, for differential tests
//! against a reference server: RCODE, AA and TC, the question as sent, whether an OPT record is
//! present (not its contents), and the answer, authority and additional sections as sets of
//! (lowercased owner, type, class, TTL, RDATA bytes), ignoring order.

use std::collections::BTreeSet;

use crate::dns::{Response, Rr, RrKey};

/// The differences between `reference` and `tested`, one line each; empty when they agree.
pub fn compare(reference: &Response, tested: &Response) -> Vec<String> {
    let mut out = Vec::new();
    if reference.rcode() != tested.rcode() {
        out.push(format!(
            "rcode: reference {}, tested {}",
            reference.rcode_name(),
            tested.rcode_name()
        ));
    }
    if reference.aa() != tested.aa() {
        out.push(format!(
            "AA: reference {}, tested {}",
            reference.aa(),
            tested.aa()
        ));
    }
    if reference.tc() != tested.tc() {
        out.push(format!(
            "TC: reference {}, tested {}",
            reference.tc(),
            tested.tc()
        ));
    }
    if reference.question_as_sent() != tested.question_as_sent() {
        out.push(format!(
            "question: reference {:?}, tested {:?}",
            reference.question_as_sent(),
            tested.question_as_sent()
        ));
    }
    if reference.opt().is_some() != tested.opt().is_some() {
        out.push(format!(
            "OPT present: reference {}, tested {}",
            reference.opt().is_some(),
            tested.opt().is_some()
        ));
    }
    for (name, a, b) in [
        ("answer", reference.answer(), tested.answer()),
        ("authority", reference.authority(), tested.authority()),
        ("additional", reference.additional(), tested.additional()),
    ] {
        out.extend(compare_section(name, a, b));
    }
    out
}

/// Set difference of two sections, both ways.
pub fn compare_section(name: &str, reference: &[Rr], tested: &[Rr]) -> Vec<String> {
    let ref_keys: BTreeSet<RrKey> = reference.iter().map(Rr::key).collect();
    let test_keys: BTreeSet<RrKey> = tested.iter().map(Rr::key).collect();
    let mut out = Vec::new();
    for rr in reference.iter().filter(|r| !test_keys.contains(&r.key())) {
        out.push(format!("{name}: only in reference: {rr}"));
    }
    for rr in tested.iter().filter(|r| !ref_keys.contains(&r.key())) {
        out.push(format!("{name}: only in tested:    {rr}"));
    }
    if reference.len() != ref_keys.len() || tested.len() != test_keys.len() {
        out.push(format!(
            "{name}: duplicate records (reference {} records / {} distinct, tested {} / {})",
            reference.len(),
            ref_keys.len(),
            tested.len(),
            test_keys.len()
        ));
    }
    out
}
