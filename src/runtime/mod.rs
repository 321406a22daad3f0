//! Where work runs: the thread pools that parse and commit polls (at a lower priority while
//! serving), the serving threads, one single-threaded runtime per core on one socket, and work
//! split over every core for one call.

mod lane;
mod parallel;
mod pools;
pub mod sendfile;
mod serving;
mod site;
mod spread;
mod watch;

pub use lane::head_lines;
pub use parallel::{par_chunks, par_map};
pub use pools::{CpuPool, CpuShare, PoolError};
pub use serving::{default_threads, serve, Connections};
pub use site::{Direct, Site};
