//! A failing test fails, never hangs: an app dropped while it runs (a test that panics) stops
//! everything it started, so the test's runtime shuts down and the suite goes on.

use crate::helpers::*;
use std::time::{Duration, Instant};

/// Runs a test body that panics with an app running and serving, on its own runtime in its own
/// thread, and re-raises its panic once that runtime has been dropped. The process must go on:
/// a runtime that waits for the app's threads would never report back.
#[test]
#[should_panic(expected = "deliberate failure with an app running")]
fn a_test_that_panics_with_an_app_running_ends() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let port = std::sync::Mutex::new(None);
        let outcome = std::panic::catch_unwind(|| {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                let app = spawn_app(&[]).await;
                *port.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(app.base.clone());
                assert_eq!(app.get("/feeds/all.atom").await.status(), 200);
                panic!("deliberate failure with an app running");
            })
        });
        let message = outcome
            .err()
            .map(|p| p.downcast_ref::<&str>().map(|s| (*s).to_owned()).or_else(|| p.downcast_ref::<String>().cloned()));
        let base = port.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let _ = tx.send((message.flatten(), base));
    });
    let (message, base) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the runtime of a panicked test did not shut down within 60 s: something the app started held it");
    let base = base.expect("the app started");
    assert!(stops_listening(&base, Duration::from_secs(10)), "{base} still answers after its app was dropped");
    panic!("{}", message.unwrap_or_default());
}

/// True once nothing accepts connections at `base` any more.
fn stops_listening(base: &str, within: Duration) -> bool {
    let addr = base.trim_start_matches("http://");
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
