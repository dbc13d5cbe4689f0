//! Failed sign-ins per client address: past `max` failures within the window, the
//! address is refused without checking (bcrypt is slow on purpose; guessing must be too).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub struct Failures {
    max: u32,
    counts: moka::sync::Cache<IpAddr, Arc<AtomicU32>>,
}

impl Failures {
    pub fn new(max: u32, window: Duration) -> Failures {
        Failures {
            max,
            // Bounded: a flood of addresses evicts old entries, never grows memory.
            counts: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(window)
                .build(),
        }
    }

    /// Whether `addr` may try again.
    pub fn allowed(&self, addr: IpAddr) -> bool {
        self.counts
            .get(&addr)
            .is_none_or(|c| c.load(Ordering::Relaxed) < self.max)
    }

    pub fn record(&self, addr: IpAddr) {
        self.counts
            .get_with(addr, || Arc::new(AtomicU32::new(0)))
            .fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_max_failures_per_address() {
        let f = Failures::new(3, Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(f.allowed(a));
            f.record(a);
        }
        assert!(!f.allowed(a));
        assert!(f.allowed(b));
    }
}
