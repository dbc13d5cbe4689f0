//! Admission control: a bounded number of expensive requests of each kind run at
//! once; more wait briefly in line, then are refused with a 503 and `Retry-After`,
//! so a burst of heavy requests cannot starve everyone else (or `/healthz`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::LimitsConfig;
use crate::service::WorkClass;

pub struct Admission {
    reads: Arc<Semaphore>,
    renders: Arc<Semaphore>,
    queries: Arc<Semaphore>,
    wait: Duration,
}

impl Admission {
    pub fn new(limits: &LimitsConfig) -> Admission {
        Admission {
            reads: Arc::new(Semaphore::new(limits.concurrent_reads.max(1))),
            renders: Arc::new(Semaphore::new(limits.concurrent_renders.max(1))),
            queries: Arc::new(Semaphore::new(limits.concurrent_queries.max(1))),
            wait: Duration::from_millis(limits.admission_wait_ms),
        }
    }

    fn semaphore(&self, class: WorkClass) -> &Arc<Semaphore> {
        match class {
            WorkClass::Read => &self.reads,
            WorkClass::Render => &self.renders,
            WorkClass::Query => &self.queries,
        }
    }

    /// A permit for one request of `class`, or `None` when none frees up in time.
    pub async fn admit(&self, class: WorkClass) -> Option<OwnedSemaphorePermit> {
        let semaphore = self.semaphore(class).clone();
        tokio::time::timeout(self.wait, semaphore.acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// Seconds a refused client is told to wait.
    pub fn retry_after_secs(&self) -> u64 {
        self.wait.as_secs().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_past_the_bound_after_waiting() {
        let limits = LimitsConfig {
            concurrent_reads: 1,
            admission_wait_ms: 50,
            ..LimitsConfig::default()
        };
        let a = Admission::new(&limits);
        let first = a.admit(WorkClass::Read).await;
        assert!(first.is_some());
        assert!(
            a.admit(WorkClass::Read).await.is_none(),
            "second read waits, then is refused"
        );
        assert!(
            a.admit(WorkClass::Render).await.is_some(),
            "other kinds are not held up"
        );
        drop(first);
        assert!(a.admit(WorkClass::Read).await.is_some());
    }
}
