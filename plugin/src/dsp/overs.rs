//! Over detection on refined true peaks: an over is a stretch of signal whose true peak exceeds
//! the threshold; peaks closer together than [`OVER_MERGE_MS`] belong to the same over.

use super::level::amplitude_to_db;
use super::true_peak::Peak;

/// Peaks above the threshold less than this far apart are one over, milliseconds.
pub const OVER_MERGE_MS: f64 = 10.0;

/// One over, for the log: when it began, on which channel, how high it went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverEvent {
    /// Seconds since the measurement was reset (or the stream began), at the first peak above the
    /// threshold.
    pub time_s: f64,
    pub channel: usize,
    /// Highest true peak during the over, dBTP.
    pub level_dbtp: f32,
}

impl OverEvent {
    pub fn on_channel(self, channel: usize) -> Self {
        Self { channel, ..self }
    }
}

/// Open over: first and last peak position (samples) and the highest level.
#[derive(Debug, Clone, Copy)]
struct OpenOver {
    first: f64,
    last: f64,
    level: f32,
}

/// Overs that ended but were not yet handed over; more than this per block are dropped from the
/// log (they are still counted).
const FINISHED_CAPACITY: usize = 32;

/// The over detector of one channel.
#[derive(Debug, Clone)]
pub struct OverDetector {
    sample_rate_hz: f64,
    threshold: f32,
    merge_samples: f64,
    open: Option<OpenOver>,
    finished: [Option<OverEvent>; FINISHED_CAPACITY],
    /// Position (samples) up to which every peak has been observed.
    now: f64,
    /// Position (samples) that over times are counted from: the last measurement reset.
    origin: f64,
    count: u32,
}

impl OverDetector {
    pub fn new(sample_rate_hz: f32, threshold: f32) -> Self {
        let sample_rate_hz = f64::from(sample_rate_hz);
        Self {
            sample_rate_hz,
            threshold,
            merge_samples: OVER_MERGE_MS / 1000.0 * sample_rate_hz,
            open: None,
            finished: [None; FINISHED_CAPACITY],
            now: 0.0,
            origin: 0.0,
            count: 0,
        }
    }

    /// Linear threshold.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn set_threshold(&mut self, threshold: f32) {
        self.threshold = threshold;
    }

    pub fn reset(&mut self) {
        self.open = None;
        self.finished = [None; FINISHED_CAPACITY];
        self.count = 0;
    }

    /// Count over times from now on (a new measurement begins).
    pub fn restart_clock(&mut self) {
        self.origin = self.now;
    }

    /// Every peak before `position` (samples) has been observed.
    pub fn advance_to(&mut self, position: f64) {
        self.now = self.now.max(position);
    }

    /// Overs since the last reset (an over counts when it begins).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// A refined peak; those below the threshold are ignored.
    pub fn observe(&mut self, peak: Peak) {
        if peak.level < self.threshold {
            return;
        }
        if let Some(open) = &mut self.open
            && ((peak.position - open.last).abs() <= self.merge_samples
                || (open.first..=open.last).contains(&peak.position))
        {
            open.first = open.first.min(peak.position);
            open.last = open.last.max(peak.position);
            open.level = open.level.max(peak.level);
            return;
        }
        if let Some(open) = self.open {
            // A new over begins: the open one has ended.
            self.finish(self.event(open));
        }
        self.count += 1;
        self.open = Some(OpenOver {
            first: peak.position,
            last: peak.position,
            level: peak.level,
        });
    }

    fn finish(&mut self, event: OverEvent) {
        if let Some(slot) = self.finished.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(event);
        }
    }

    /// Hand over the overs that have ended: those finished by a newer over, and the open one if
    /// nothing has exceeded the threshold for [`OVER_MERGE_MS`].
    pub fn close_stale(&mut self, mut on_over: impl FnMut(OverEvent)) {
        for slot in &mut self.finished {
            if let Some(event) = slot.take() {
                on_over(event);
            }
        }
        if let Some(open) = self.open
            && self.now - open.last > self.merge_samples
        {
            self.open = None;
            on_over(self.event(open));
        }
    }

    /// Hand over every over, open or not (end of stream).
    pub fn close_all(&mut self, mut on_over: impl FnMut(OverEvent)) {
        self.close_stale(&mut on_over);
        if let Some(open) = self.open.take() {
            on_over(self.event(open));
        }
    }

    fn event(&self, open: OpenOver) -> OverEvent {
        OverEvent {
            time_s: (open.first - self.origin).max(0.0) / self.sample_rate_hz,
            channel: 0,
            level_dbtp: amplitude_to_db(open.level),
        }
    }
}
