//! Serial number arithmetic (RFC 1982 §3, with SERIAL_BITS = 32).

use std::cmp::Ordering;

/// `s + n` for `n` in 0..=2^31-1 (RFC 1982 §3.1).
pub fn add(s: u32, n: u32) -> u32 {
    debug_assert!(n <= 0x7fff_ffff);
    s.wrapping_add(n)
}

/// Compares two serials (RFC 1982 §3.2); `None` when the comparison is undefined
/// (the two are exactly 2^31 apart).
pub fn compare(a: u32, b: u32) -> Option<Ordering> {
    if a == b {
        return Some(Ordering::Equal);
    }
    let d = b.wrapping_sub(a);
    match d.cmp(&0x8000_0000) {
        Ordering::Less => Some(Ordering::Less),
        Ordering::Greater => Some(Ordering::Greater),
        Ordering::Equal => None,
    }
}

/// True when `a` is newer than `b`.
pub fn is_newer(a: u32, b: u32) -> bool {
    compare(a, b) == Some(Ordering::Greater)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1982_examples() {
        assert!(is_newer(1, 0));
        assert!(is_newer(0, u32::MAX), "wraps");
        assert!(!is_newer(0, 1));
        assert_eq!(compare(0, 0x8000_0000), None);
        assert_eq!(add(u32::MAX, 1), 0);
        assert!(is_newer(add(0xffff_fff0, 0x20), 0xffff_fff0));
    }
}
