//! The plugin's designer thread: one per instance, ended with it. (nice-plug's background thread
//! is shared by all instances in a process and stops for good when a task arrives for an instance
//! already destroyed; the next instance to go then cannot stop it and aborts the host.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::designer::Designer;
use super::handoff::{AuditionChains, AuditionRequest};

/// How often an idle designer thread looks for a request.
const POLL: Duration = Duration::from_millis(2);

/// A thread of an instance's own that runs `tick` until it is dropped; dropping it stops and
/// joins it. `tick(stopping)` returns whether it found work (else the thread sleeps up to its
/// period, or until woken); it is called once more with `stopping` set, for a last word.
pub struct Worker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    pub fn spawn(
        name: &str,
        period: Duration,
        mut tick: impl FnMut(bool) -> bool + Send + 'static,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                loop {
                    let last = stopping.load(Ordering::Acquire);
                    let busy = tick(last);
                    if last {
                        break;
                    }
                    if !busy {
                        std::thread::park_timeout(period);
                    }
                }
            })
            .ok();
        Self { stop, handle }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

/// A designer thread; dropping it stops and joins it.
pub struct DesignThread {
    _worker: Worker,
}

impl DesignThread {
    /// Designs what arrives on `requests`, newest first, from the chains `chains` returns at that
    /// moment (the stored chains can change between requests).
    pub fn spawn(
        chains: impl Fn() -> AuditionChains + Send + 'static,
        mut designer: Designer,
        mut requests: rtrb::Consumer<AuditionRequest>,
    ) -> Self {
        let worker = Worker::spawn("earstage-designer", POLL, move |stopping| {
            if stopping {
                return false;
            }
            let mut newest = None;
            while let Ok(request) = requests.pop() {
                newest = Some(request);
            }
            match newest {
                Some(request) => {
                    designer.run(&request, &chains());
                    true
                }
                None => false,
            }
        });
        Self { _worker: worker }
    }
}
