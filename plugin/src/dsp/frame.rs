//! What the engine hands out after each block, and to whom: the frame of readings and the sink
//! trait the plugin's editor link, the offline collector and the tests implement.

use super::guard::InputHealth;
use super::meter::MeterFrame;
use super::meter::history::HistoryPoint;
use super::meter::overs::OverEvent;
use super::spl::stage::SplReadings;

/// What the engine publishes after each block: the meters' frame, the SPL readings and the input
/// guard's count. `Copy`, so it crosses threads in a triple buffer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EngineFrame {
    /// True peak, sample peak, loudness and overs of what leaves the plugin.
    pub meter: MeterFrame,
    /// The non-finite input the engine replaced by silence.
    pub input: InputHealth,
    /// Delivered SPL and exposure, per ear.
    pub spl: SplReadings,
}

/// Where the engine's measurements go after each block: the editor link in the plugin, a
/// collector in the CLI and tests, or nowhere (`()`).
pub trait MeterSink {
    fn frame(&mut self, frame: &EngineFrame);
    fn over(&mut self, event: OverEvent);
    /// A 100 ms step of the loudness history, as it closes.
    fn history(&mut self, _point: HistoryPoint) {}
    /// Requests from the user since the last block.
    fn requests(&mut self) -> PendingRequests {
        PendingRequests::default()
    }
}

impl MeterSink for () {
    fn frame(&mut self, _frame: &EngineFrame) {}
    fn over(&mut self, _event: OverEvent) {}
}

/// What the audio thread should do before measuring the next block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingRequests {
    pub reset_all: bool,
    pub reset_peaks: bool,
}

/// A [`MeterSink`] that keeps the newest frame and every over (offline analysis, tests), and the
/// history's points when asked to.
#[derive(Debug, Default, Clone)]
pub struct Collector {
    pub frame: EngineFrame,
    pub overs: Vec<OverEvent>,
    /// `Some`: every history point, in order.
    pub history: Option<Vec<HistoryPoint>>,
}

impl MeterSink for Collector {
    fn frame(&mut self, frame: &EngineFrame) {
        self.frame = *frame;
    }
    fn over(&mut self, event: OverEvent) {
        self.overs.push(event);
    }
    fn history(&mut self, point: HistoryPoint) {
        if let Some(points) = &mut self.history {
            points.push(point);
        }
    }
}
