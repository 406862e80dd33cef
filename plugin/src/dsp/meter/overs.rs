//! Over detection on refined true peaks: an over is a stretch of signal whose true peak exceeds
//! the threshold; peaks at most [`OVER_MERGE_MS`] apart belong to the same over.

use super::true_peak::Peak;
use crate::dsp::level::amplitude_to_db;

/// Peaks above the threshold at most this far apart are one over, milliseconds.
pub const OVER_MERGE_MS: f64 = 10.0;

/// One over, for the log: when it began, on which channel, how high it went.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OverEvent {
    /// Seconds since the measurement was reset (or the stream began), at the first peak above the
    /// threshold.
    pub time_s: f64,
    pub channel: usize,
    /// Highest true peak during the over, dBTP.
    pub level_dbtp: f32,
    /// Where it began on the host's timeline, seconds, when the host said where its playhead was
    /// (set by the engine).
    pub timeline_s: Option<f64>,
    /// When it began, seconds since 1970-01-01 UTC (set by the engine in a plugin; `None`
    /// offline).
    pub wall_clock_s: Option<f64>,
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
            ..OverEvent::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peak(position: f64, level: f32) -> Peak {
        Peak { position, level }
    }

    /// A detector at 48 kHz with a threshold of 1.0 (0 dBTP).
    fn detector() -> OverDetector {
        OverDetector::new(48_000.0, 1.0)
    }

    /// Every over the detector hands over at the end of the stream, in order.
    fn close_all(detector: &mut OverDetector) -> Vec<OverEvent> {
        let mut events = Vec::new();
        detector.close_all(|event| events.push(event));
        events
    }

    mod merging {
        use super::*;

        /// 10 ms at 48 kHz is 480 samples and at 44.1 kHz 441: 0.01 is not exact in binary, but
        /// 0.01·48000 and 0.01·44100 round to those integers exactly.
        #[test]
        fn merge_window_is_ten_ms_of_samples() {
            assert_eq!(detector().merge_samples, 480.0);
            assert_eq!(OverDetector::new(44_100.0, 1.0).merge_samples, 441.0);
        }

        /// A peak exactly 480 samples (10 ms) after the last one continues the over; 480.5 samples
        /// after it starts a new one. The first over began at 4800/48000 = 0.1 s and reached 10.0,
        /// +20 dBTP; the second began at 5760.5 samples.
        #[test]
        fn peaks_ten_ms_apart_are_one_over_and_any_further_are_two() {
            let mut d = detector();
            d.observe(peak(4_800.0, 1.0));
            d.observe(peak(5_280.0, 10.0));
            assert_eq!(d.count(), 1);
            d.observe(peak(5_760.5, 1.0));
            assert_eq!(d.count(), 2);
            let first = OverEvent {
                time_s: 0.1,
                channel: 0,
                level_dbtp: 20.0,
                ..OverEvent::default()
            };
            let second = OverEvent {
                time_s: 5_760.5 / 48_000.0,
                channel: 0,
                level_dbtp: 0.0,
                ..OverEvent::default()
            };
            assert_eq!(close_all(&mut d), vec![first, second]);
        }

        /// Peaks 400 samples apart stretch one over over 0…1200 samples; a late-reported peak at
        /// 500 is 700 samples from the last but inside the over, so it joins it.
        #[test]
        fn a_peak_inside_an_open_over_joins_it() {
            let mut d = detector();
            for position in [0.0, 400.0, 800.0, 1_200.0, 500.0] {
                d.observe(peak(position, 1.0));
            }
            assert_eq!(d.count(), 1);
        }

        /// The threshold is inclusive: a peak at it is an over, one just below is not.
        #[test]
        fn a_peak_at_the_threshold_counts_and_one_below_does_not() {
            let mut d = detector();
            d.observe(peak(0.0, 0.999));
            assert_eq!(d.count(), 0);
            d.observe(peak(0.0, 1.0));
            assert_eq!(d.count(), 1);
        }
    }

    mod closing {
        use super::*;

        /// An over closes once nothing has exceeded the threshold for more than 10 ms: the last
        /// peak at 4800, observed up to 5280 (exactly 480 samples) it is still open; up to 5280.5
        /// it is handed over, time 0.1 s.
        #[test]
        fn an_over_closes_when_more_than_ten_ms_have_passed() {
            let mut d = detector();
            d.observe(peak(4_800.0, 10.0));
            let mut events = Vec::new();
            d.advance_to(5_280.0);
            d.close_stale(|event| events.push(event));
            assert!(events.is_empty());
            d.advance_to(5_280.5);
            d.close_stale(|event| events.push(event));
            assert_eq!(
                events,
                vec![OverEvent {
                    time_s: 0.1,
                    channel: 0,
                    level_dbtp: 20.0,
                    ..OverEvent::default()
                }]
            );
        }

        /// Times count from the last restart: with the clock restarted at 48000 samples, an over
        /// at 52800 began at 4800/48000 = 0.1 s; one at 40000, before the restart, reads 0 s
        /// rather than a negative time.
        #[test]
        fn times_count_from_the_last_restart() {
            let mut d = detector();
            d.advance_to(48_000.0);
            d.restart_clock();
            d.observe(peak(52_800.0, 1.0));
            d.observe(peak(40_000.0, 1.0));
            let times: Vec<f64> = close_all(&mut d).iter().map(|e| e.time_s).collect();
            assert_eq!(times, vec![0.1, 0.0]);
        }

        /// 40 overs 1000 samples apart: all 40 are counted; the log keeps the first 32 finished
        /// ones (FINISHED_CAPACITY) and the one still open, so overs 33 to 39 are dropped.
        /// A reset starts the count again.
        #[test]
        fn overs_beyond_the_log_capacity_are_counted_but_not_logged() {
            let mut d = detector();
            for k in 0..40u32 {
                d.observe(peak(f64::from(k) * 1_000.0, 1.0));
            }
            assert_eq!(d.count(), 40);
            let events = close_all(&mut d);
            assert_eq!(events.len(), 33);
            assert_eq!(events[31].time_s, 31_000.0 / 48_000.0);
            assert_eq!(events[32].time_s, 39_000.0 / 48_000.0);
            d.reset();
            assert_eq!(d.count(), 0);
        }
    }

    mod over_event {
        use super::*;

        #[test]
        fn on_channel_changes_only_the_channel() {
            let event = OverEvent {
                time_s: 1.5,
                channel: 0,
                level_dbtp: 0.5,
                ..OverEvent::default()
            };
            let moved = OverEvent {
                time_s: 1.5,
                channel: 3,
                level_dbtp: 0.5,
                ..OverEvent::default()
            };
            assert_eq!(event.on_channel(3), moved);
        }
    }
}
