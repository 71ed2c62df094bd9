//! Reading what many resources of one host need with one command.
//!
//! Reads of one provider's resources arrive together (the engine refreshes independent
//! resources concurrently). The first read of a round becomes its leader: it lets the
//! others that are ready queue their keys (paths, package names, user names), then runs
//! one read for all of them and hands each its answer. So a plan over 200 files of one
//! host costs one round trip, not 200; the same goes for packages, services and users.

use std::future::Future;
use std::sync::Mutex;

use infra_runtime::provider::{ProviderError, ProviderResult};
use tokio::sync::oneshot;

type Waiting<T> = (String, oneshot::Sender<ProviderResult<T>>);

/// The queue of keys waiting for the next batch; `what` names what is read, for errors.
pub struct Batcher<T> {
    what: &'static str,
    queue: Mutex<Vec<Waiting<T>>>,
}

impl<T: Clone> Batcher<T> {
    pub fn new(what: &'static str) -> Batcher<T> {
        Batcher { what, queue: Mutex::new(Vec::new()) }
    }

    /// The answer for `key`, read by `read` together with whatever other keys are asked
    /// for at the same time. `read` answers every key it is given, in order.
    pub async fn get<F, R>(&self, key: &str, read: F) -> ProviderResult<T>
    where
        F: FnOnce(Vec<String>) -> R,
        R: Future<Output = ProviderResult<Vec<T>>>,
    {
        let (sender, receiver) = oneshot::channel();
        let leader = {
            let mut queue = self.queue.lock().map_err(|_| self.poisoned())?;
            queue.push((key.to_string(), sender));
            queue.len() == 1
        };
        if leader {
            // Let every read that is ready queue its key before the batch is taken.
            for _ in 0..8 {
                tokio::task::yield_now().await;
            }
            let batch = std::mem::take(&mut *self.queue.lock().map_err(|_| self.poisoned())?);
            let (keys, senders): (Vec<String>, Vec<_>) = batch.into_iter().unzip();
            let count = keys.len();
            let answers = read(keys).await.and_then(|answers| {
                if answers.len() == count {
                    Ok(answers)
                } else {
                    Err(ProviderError::new(format!("the batched read of the server's {} gave no answer", self.what)))
                }
            });
            for (index, sender) in senders.into_iter().enumerate() {
                let _ = sender.send(answers.as_ref().map(|a| a[index].clone()).map_err(Clone::clone));
            }
        }
        receiver.await.map_err(|_| {
            ProviderError::new(format!("the batched read of the server's {} was cancelled", self.what)).retryable()
        })?
    }

    fn poisoned(&self) -> ProviderError {
        ProviderError::new(format!("the batched read of the server's {} failed earlier in this run", self.what))
    }
}
