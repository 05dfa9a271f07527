//! A budget of log lines for traffic an attacker controls (refused NOTIFYs and transfer
//! requests): a few lines per second, then a count of what was left out, so a flood costs
//! neither the disk nor the core that a line per packet would.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Lines let through in one second; the rest are counted.
pub const LINES_PER_SECOND: u64 = 10;

/// One budget: lines in the current second, and lines left out in all.
pub struct LogBudget {
    /// Second (Unix time) and lines used in it, packed: `second << 16 | used`.
    window: AtomicU64,
    suppressed: AtomicU64,
    /// Left out since the last line that said so.
    unreported: AtomicU64,
}

/// What the caller may log.
pub enum Budget {
    /// Log the line; `suppressed` lines were left out since the last one that was logged.
    Log { suppressed: u64 },
    /// Leave it out (it is counted).
    Skip,
}

impl LogBudget {
    pub const fn new() -> Self {
        LogBudget {
            window: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
            unreported: AtomicU64::new(0),
        }
    }

    /// Takes one line from the budget. Lock-free and allocation-free.
    pub fn take(&self) -> Budget {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut current = self.window.load(Ordering::Relaxed);
        loop {
            let (second, used) = (current >> 16, current & 0xffff);
            let next = if second != now {
                now << 16 | 1
            } else if used < LINES_PER_SECOND {
                current + 1
            } else {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                self.unreported.fetch_add(1, Ordering::Relaxed);
                return Budget::Skip;
            };
            match self.window.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    return Budget::Log {
                        suppressed: self.unreported.swap(0, Ordering::Relaxed),
                    }
                }
                Err(seen) => current = seen,
            }
        }
    }

    /// Lines left out since the start (for `/metrics`).
    pub fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }
}

impl Default for LogBudget {
    fn default() -> Self {
        Self::new()
    }
}

/// Refused NOTIFYs.
pub static NOTIFY_REFUSED: LogBudget = LogBudget::new();
/// Refused transfer requests.
pub static TRANSFER_REFUSED: LogBudget = LogBudget::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_logs_at_most_the_budget_and_counts_the_rest() {
        let budget = LogBudget::new();
        let logged = (0..10_000)
            .filter(|_| matches!(budget.take(), Budget::Log { .. }))
            .count() as u64;
        // The burst may straddle one second boundary.
        assert!(
            (LINES_PER_SECOND..=2 * LINES_PER_SECOND).contains(&logged),
            "{logged}"
        );
        assert_eq!(budget.suppressed(), 10_000 - logged);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        match budget.take() {
            Budget::Log { suppressed } => assert!(suppressed > 0, "the next line says so"),
            Budget::Skip => panic!("a new second has a new budget"),
        }
    }
}
