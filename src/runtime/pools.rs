//! The threads that parse and commit polls. While serving they run at a lower scheduling
//! priority (nice on Linux): readers of the feeds come first, and a 10,000-feed ingest
//! takes whatever CPU they leave instead of starving them. Committing threads rank above
//! parsing ones: commits are serialized, so a committer that loses its core to a parser stalls
//! every poll behind it.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Who else needs the CPU while polls parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuShare {
    /// `serve`: the HTTP server does; poll work runs at a lower priority.
    Serving,
    /// A one-shot `poll`: nothing else does.
    Batch,
}

/// A fixed set of worker threads, started on first use and ended when the pool is dropped.
#[derive(Debug, Clone)]
pub struct CpuPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    threads: usize,
    /// The threads' nice value (0 = the process's own priority).
    nice: i32,
    name: &'static str,
    sender: Mutex<Option<mpsc::Sender<Job>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("poll worker thread unavailable: {0}")]
pub struct PoolError(String);

impl CpuPool {
    /// One thread per core, for parsing.
    pub fn per_core(share: CpuShare) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::with_threads(cores, share)
    }

    /// Commits are serialized by the store; the extra threads start the next commit while
    /// earlier ones wait for their fsync, and the ones waiting share one (`store/flushes.rs`).
    /// A store shared with other instances (PostgreSQL) commits polls in groups, one per thread
    /// waiting, so it gets more of them.
    pub fn for_commits(share: CpuShare, shared_store: bool) -> Self {
        let nice = match share {
            CpuShare::Serving => 5,
            CpuShare::Batch => 0,
        };
        Self::build(if shared_store { 16 } else { 8 }, nice, "newsriver-commit")
    }

    /// One thread, at the parsing threads' priority while serving, for a long pass in the
    /// background (re-routing every stored entry): answers and polls come before it. The
    /// thread ends when the pool is dropped.
    pub fn background(share: CpuShare) -> Self {
        let nice = match share {
            CpuShare::Serving => 10,
            CpuShare::Batch => 0,
        };
        Self::build(1, nice, "newsriver-background")
    }

    /// A parsing pool.
    pub fn with_threads(threads: usize, share: CpuShare) -> Self {
        let nice = match share {
            CpuShare::Serving => 10,
            CpuShare::Batch => 5,
        };
        Self::build(threads, nice, "newsriver-poll")
    }

    fn build(threads: usize, nice: i32, name: &'static str) -> Self {
        Self { inner: Arc::new(Inner { threads: threads.max(1), nice, name, sender: Mutex::new(None) }) }
    }

    /// Runs `f` on a pool thread and waits for its result without blocking the async workers.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, PoolError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic in `f` drops `tx`: the caller gets an error, the thread lives on.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            if let Ok(v) = out {
                let _ = tx.send(v);
            }
        });
        self.sender()?.send(job).map_err(|e| PoolError(e.to_string()))?;
        rx.await.map_err(|_| PoolError("the job panicked".into()))
    }

    fn sender(&self) -> Result<mpsc::Sender<Job>, PoolError> {
        let mut guard = self.inner.sender.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = guard.as_ref() {
            return Ok(s.clone());
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..self.inner.threads {
            let (rx, nice) = (rx.clone(), self.inner.nice);
            std::thread::Builder::new()
                .name(format!("{}-{n}", self.inner.name))
                .spawn(move || worker(&rx, nice))
                .map_err(|e| PoolError(e.to_string()))?;
        }
        *guard = Some(tx.clone());
        Ok(tx)
    }
}

fn worker(rx: &Mutex<mpsc::Receiver<Job>>, nice: i32) {
    if nice > 0 {
        lower_priority(nice);
    }
    loop {
        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(),
            // Every sender is gone: the service is shutting down.
            Err(_) => return,
        }
    }
}

/// Linux keeps a nice value per thread: this lowers only the calling thread.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lower_priority(nice: i32) {
    // SAFETY: setpriority has no memory effects; `0` names the calling thread on Linux.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if rc != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "could not lower poll thread priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_off_the_runtime_and_panics_become_errors() {
        let pool = CpuPool::with_threads(2, CpuShare::Serving);
        let here = std::thread::current().id();
        let (there, name) = pool
            .run(|| (std::thread::current().id(), std::thread::current().name().map(str::to_owned)))
            .await
            .expect("run");
        assert_ne!(there, here);
        assert!(name.is_some_and(|n| n.starts_with("newsriver-poll-")));
        assert!(pool.run(|| panic!("boom")).await.is_err());
        let sums = futures_sum(&pool).await;
        assert_eq!(sums, (0..20u64).map(|i| i * 2).sum::<u64>());
        #[cfg(target_os = "linux")]
        #[allow(unsafe_code)]
        {
            // SAFETY: getpriority only reads the calling thread's nice value.
            let nice = pool.run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }).await.expect("nice");
            assert_eq!(nice, 10, "serving pools run below the HTTP workers");
        }
    }

    #[tokio::test]
    async fn a_background_pass_runs_on_one_thread_of_its_own_below_the_serving_threads() {
        let pool = CpuPool::background(CpuShare::Serving);
        let (name, id) = pool
            .run(|| (std::thread::current().name().map(str::to_owned), std::thread::current().id()))
            .await
            .expect("run");
        assert_eq!(name.as_deref(), Some("newsriver-background-0"));
        assert_eq!(pool.run(move || std::thread::current().id() == id).await.ok(), Some(true), "one thread");
        #[cfg(target_os = "linux")]
        #[allow(unsafe_code)]
        {
            // SAFETY: getpriority only reads the calling thread's nice value.
            let nice = pool.run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }).await.expect("nice");
            assert_eq!(nice, 10, "below the HTTP workers, as parsing is");
        }
    }

    async fn futures_sum(pool: &CpuPool) -> u64 {
        let mut handles = Vec::new();
        for i in 0..20u64 {
            let p = pool.clone();
            handles.push(tokio::spawn(async move { p.run(move || i * 2).await.expect("run") }));
        }
        let mut total = 0;
        for h in handles {
            total += h.await.expect("join");
        }
        total
    }
}
