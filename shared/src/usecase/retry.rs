//! The optimistic loop every write to a licence runs: read, decide, commit
//! under the version read; when another request committed first, back off
//! and go again. Written once here.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::store::{Store, TxError, Write};

/// How often an operation re-reads and retries when another request changed
/// the same licence between its read and its commit.
pub const MAX_ATTEMPTS: u32 = 40;

/// The end of one attempt.
pub enum Step<T> {
    Done(T),
    /// Another writer came first (or a half-done batch was just finished):
    /// read again.
    Again,
}

impl<T> Step<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Step<U> {
        match self {
            Step::Done(value) => Step::Done(f(value)),
            Step::Again => Step::Again,
        }
    }
}

/// Runs `attempt` until it is done, backing off between tries; after
/// [`MAX_ATTEMPTS`] the caller gets a 503 (`what` names it in the log).
pub async fn retry_on_conflict<T, F, Fut>(what: &str, attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>>>,
{
    retry_at_most(MAX_ATTEMPTS, what, attempt).await
}

async fn retry_at_most<T, F, Fut>(attempts: u32, what: &str, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Step<T>>>,
{
    for n in 0..attempts {
        match attempt().await? {
            Step::Done(value) => return Ok(value),
            Step::Again => backoff(n).await,
        }
    }
    Err(Error::Unavailable(format!("{what} kept conflicting with concurrent requests")))
}

/// Commits `writes`, again on a conflict; `false` when a condition refused
/// them (for writes whose condition failing means "someone else did it").
pub async fn commit_unless_refused(store: &Store, writes: &[Write]) -> Result<bool> {
    retry_on_conflict("commit", || async {
        match store.transact(writes).await {
            Ok(()) => Ok(Step::Done(true)),
            Err(TxError::Condition(_)) => Ok(Step::Done(false)),
            Err(TxError::Busy) => Ok(Step::Again),
            Err(TxError::Failed(e)) => Err(e),
        }
    })
    .await
}

/// A transaction's result as a step: a failed condition or a conflict means
/// "read again".
pub fn committed(result: std::result::Result<(), TxError>) -> Result<Step<()>> {
    match result {
        Ok(()) => Ok(Step::Done(())),
        Err(TxError::Condition(_)) | Err(TxError::Busy) => Ok(Step::Again),
        Err(TxError::Failed(e)) => Err(e),
    }
}

/// A short, jittered pause before retrying a conflicting commit.
/// Exponential backoff with "equal jitter" (half fixed, half random, capped
/// at 160 ms): under a crowd of writers on one licence the retries spread out
/// instead of arriving together and conflicting again.
async fn backoff(attempt: u32) {
    let cap = 5u64 << attempt.min(5);
    let random = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    let wait = cap / 2 + random % (cap / 2 + 1);
    tokio::time::sleep(Duration::from_millis(wait)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[tokio::test]
    async fn retries_until_done_and_gives_up_as_unavailable() {
        let tries = Cell::new(0);
        let value = retry_on_conflict("test", || {
            tries.set(tries.get() + 1);
            let n = tries.get();
            async move { Ok(if n < 3 { Step::Again } else { Step::Done(n) }) }
        })
        .await;
        assert_eq!(value, Ok(3));
        let never: Result<()> = retry_at_most(3, "never", || async { Ok(Step::Again) }).await;
        assert!(matches!(never, Err(Error::Unavailable(m)) if m.contains("never")));
    }
}
