//! Where work runs: the thread pools that parse and commit polls (at a lower priority while
//! serving), and the serving threads, one single-threaded runtime per core on one socket.

mod pools;
mod serving;
mod watch;

pub use pools::{CpuPool, CpuShare, PoolError};
pub use serving::{default_threads, serve, Connections};
