//! The open-file budget: the soft RLIMIT_NOFILE is raised as far as the hard limit allows, and
//! the API's connection cap is lowered when it would not fit beside DNS over TCP, so that a
//! flood of API connections can never take the descriptors DNS needs.

/// Descriptors kept for everything but the connections of the two listeners: the store's
/// database and WAL files, the UDP sockets, transfer and NOTIFY sockets, the runtime, logs.
pub const RESERVE: u64 = 256;

/// Where the soft limit stops when the hard limit is unlimited (Linux's default `nr_open`).
const CEILING: u64 = 1 << 20;

/// Raises the soft open-file limit to the hard limit and answers the soft limit in force.
// `rlim_t` is `u64` here but not on every platform.
#[allow(clippy::unnecessary_cast)]
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let current = as_count(rl.rlim_cur);
    let target = as_count(rl.rlim_max);
    if target <= current {
        return Ok(current);
    }
    let raised = libc::rlimit {
        rlim_cur: target as libc::rlim_t,
        rlim_max: rl.rlim_max,
    };
    // SAFETY: setrlimit only reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        // Some systems refuse the hard limit itself (macOS caps it at OPEN_MAX): keep what
        // we have, the budget below still holds.
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            from = current,
            to = target,
            "cannot raise the open-file limit"
        );
        return Ok(current);
    }
    Ok(target)
}

#[allow(clippy::unnecessary_cast)]
fn as_count(v: libc::rlim_t) -> u64 {
    if v == libc::RLIM_INFINITY {
        CEILING
    } else {
        (v as u64).min(CEILING)
    }
}

/// The API connection cap that fits under `limit` open files beside `dns_tcp` DNS TCP
/// connections and [`RESERVE`]: `api` when it fits, else what is left (at least 1, so the API
/// still answers one client at a time even on a starved system).
pub fn api_cap(limit: u64, dns_tcp: usize, api: usize) -> usize {
    let left = limit.saturating_sub(RESERVE + dns_tcp as u64);
    (api as u64).min(left).max(1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_cap_fits_beside_dns() {
        assert_eq!(api_cap(20_000, 1024, 512), 512, "fits: unchanged");
        assert_eq!(api_cap(1024, 512, 512), 1024 - 512 - RESERVE as usize);
        assert_eq!(api_cap(400, 32, 512), 112);
        assert_eq!(api_cap(100, 1024, 512), 1, "starved: one connection");
    }
}
