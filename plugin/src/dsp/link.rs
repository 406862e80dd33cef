//! The lock-free link between the audio thread and the editor: meter frames through a triple
//! buffer, over events through an SPSC ring, the loudness history through a ring of atomic words
//! that outlives the editor window, reset requests as atomic generation counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::frame::{EngineFrame, MeterSink, PendingRequests};
use super::meter::history::{HistoryPoint, HistoryStore};
use super::meter::overs::OverEvent;

/// Over events buffered between two editor repaints; more are dropped from the log (never from
/// the count).
const OVER_LOG_CAPACITY: usize = 256;

/// What the editor asks of the audio thread. Each field is a generation counter: the editor (GUI
/// thread) increments it, the audio thread acts when it differs from the last value it saw.
#[derive(Debug, Default)]
struct Requests {
    /// Written by the GUI thread: reset the whole measurement (peaks, overs, loudness).
    reset_all: AtomicU32,
    /// Written by the GUI thread: reset peak holds and overs only.
    reset_peaks: AtomicU32,
}

/// Audio-thread end.
pub struct MeterSender {
    frames: triple_buffer::Input<EngineFrame>,
    overs: rtrb::Producer<OverEvent>,
    history: Arc<HistoryStore>,
    requests: Arc<Requests>,
    seen: (u32, u32),
}

/// Editor end.
pub struct MeterReceiver {
    frames: triple_buffer::Output<EngineFrame>,
    overs: rtrb::Consumer<OverEvent>,
    history: Arc<HistoryStore>,
    requests: Arc<Requests>,
}

/// A connected pair.
pub fn meter_link() -> (MeterSender, MeterReceiver) {
    let (frames_in, frames_out) = triple_buffer::triple_buffer(&EngineFrame::default());
    let (overs_in, overs_out) = rtrb::RingBuffer::new(OVER_LOG_CAPACITY);
    let requests = Arc::new(Requests::default());
    let history = Arc::new(HistoryStore::default());
    (
        MeterSender {
            frames: frames_in,
            overs: overs_in,
            history: history.clone(),
            requests: requests.clone(),
            seen: (0, 0),
        },
        MeterReceiver {
            frames: frames_out,
            overs: overs_out,
            history,
            requests,
        },
    )
}

impl MeterSender {
    /// Publish the newest frame (never blocks; the editor sees the latest one).
    pub fn publish(&mut self, frame: EngineFrame) {
        self.frames.write(frame);
    }

    /// Queue an over for the editor's log; dropped if the editor has not drained the ring.
    pub fn push_over(&mut self, event: OverEvent) {
        let _ = self.overs.push(event);
    }

    /// The loudness history's store, for whoever makes the history (the meter, or a
    /// [`super::meter::history_feed::HistoryFollower`] on its own thread).
    pub fn history_store(&self) -> Arc<HistoryStore> {
        self.history.clone()
    }

    /// Requests made since the last call.
    pub fn take_requests(&mut self) -> PendingRequests {
        let all = self.requests.reset_all.load(Ordering::Acquire);
        let peaks = self.requests.reset_peaks.load(Ordering::Acquire);
        let pending = PendingRequests {
            reset_all: all != self.seen.0,
            reset_peaks: peaks != self.seen.1,
        };
        self.seen = (all, peaks);
        pending
    }
}

impl MeterReceiver {
    /// The loudness history (made by the plugin's history thread).
    pub fn history(&self) -> &HistoryStore {
        &self.history
    }

    /// The newest frame the audio thread published.
    pub fn latest(&mut self) -> &EngineFrame {
        self.frames.read()
    }

    /// Move the overs that arrived since the last call into `log`.
    pub fn drain_overs(&mut self, mut on_over: impl FnMut(OverEvent)) {
        while let Ok(event) = self.overs.pop() {
            on_over(event);
        }
    }

    /// Ask for a reset of everything (peaks, overs, loudness).
    pub fn request_reset_all(&self) {
        self.requests.reset_all.fetch_add(1, Ordering::Release);
    }

    /// Ask for a reset of peak holds and overs.
    pub fn request_reset_peaks(&self) {
        self.requests.reset_peaks.fetch_add(1, Ordering::Release);
    }
}

impl MeterSink for MeterSender {
    fn frame(&mut self, frame: &EngineFrame) {
        self.publish(*frame);
    }
    fn over(&mut self, event: OverEvent) {
        self.push_over(event);
    }
    fn history(&mut self, point: HistoryPoint) {
        self.history.push(&point);
    }
    fn requests(&mut self) -> PendingRequests {
        self.take_requests()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_seen_once() {
        let (mut tx, rx) = meter_link();
        assert_eq!(tx.take_requests(), PendingRequests::default());
        rx.request_reset_peaks();
        assert!(tx.take_requests().reset_peaks);
        assert!(!tx.take_requests().reset_peaks);
        rx.request_reset_all();
        assert!(tx.take_requests().reset_all);
    }

    #[test]
    fn frames_and_overs_arrive() {
        let (mut tx, mut rx) = meter_link();
        let mut frame = EngineFrame::default();
        frame.meter.channels = 2;
        tx.publish(frame);
        assert_eq!(rx.latest().meter.channels, 2);
        let event = OverEvent {
            time_s: 1.5,
            channel: 1,
            level_dbtp: 0.3,
            ..OverEvent::default()
        };
        tx.push_over(event);
        let mut log = Vec::new();
        rx.drain_overs(|e| log.push(e));
        assert_eq!(log, vec![event]);
    }
}
