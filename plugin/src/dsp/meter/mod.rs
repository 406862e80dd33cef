//! The whole meter for up to [`MAX_CHANNELS`] channels: true peak (both readings), sample peak,
//! display ballistics, max-hold, overs and loudness. One [`MeterFrame`] (plain `Copy` data)
//! describes its state after each block.
//!
//! The meter's room: the true-peak stage ([`true_peak`]), BS.1770 loudness with its K-weighting
//! and gating store ([`loudness`], [`k_weighting`]), overs ([`overs`]), display ballistics
//! ([`ballistics`]) and the loudness history with the feed that makes it off the audio thread
//! ([`history`], [`history_feed`]).

pub mod ballistics;
pub mod history;
pub mod history_feed;
pub mod k_weighting;
pub mod loudness;
pub mod overs;
pub mod true_peak;

use self::ballistics::PeakBallistics;
use self::history::{HistoryPoint, RowClock};
use self::loudness::{GatedBlocks, Loudness, LoudnessReadings, StepReadings};
use self::overs::{OverDetector, OverEvent};
use self::true_peak::{BlockPeaks, GATE_MARGIN_DB, TruePeak};
pub use super::level::SILENCE_DB;
use super::level::{amplitude_to_db, db_to_amplitude};
use super::limits::MAX_CHANNELS;

/// Chunk the true-peak stage works in; any host block size is split into these.
const CHUNK: usize = 512;
/// Default over threshold, dBTP.
pub const DEFAULT_OVER_THRESHOLD_DBTP: f32 = 0.0;
/// The over threshold's range, dBTP: from −12 (a lossy codec's or a transmitter's headroom, and
/// more) to +3 (overs that only a true-peak-aware chain survives). The plugin's parameter and
/// the CLI's `--over-threshold` both take it from here.
pub const OVER_THRESHOLD_DBTP: crate::model::units::Range =
    crate::model::units::Range::new(-12.0, 3.0);
/// One channel's readings after a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelReadings {
    /// Display values with ballistics (instant rise, [`self::ballistics::PEAK_FALL_DB_PER_S`]
    /// fall).
    pub sample_peak_dbfs: f32,
    pub true_peak_dbtp: f32,
    /// Highest values since the last reset.
    pub sample_peak_max_dbfs: f32,
    pub true_peak_max_dbtp: f32,
    pub true_peak_bs1770_max_dbtp: f32,
    /// Over events since the last reset.
    pub overs: u32,
}

impl Default for ChannelReadings {
    fn default() -> Self {
        Self {
            sample_peak_dbfs: SILENCE_DB,
            true_peak_dbtp: SILENCE_DB,
            sample_peak_max_dbfs: SILENCE_DB,
            true_peak_max_dbtp: SILENCE_DB,
            true_peak_bs1770_max_dbtp: SILENCE_DB,
            overs: 0,
        }
    }
}

/// Everything the meter shows, after one block. `Copy`, so it can cross threads in a triple
/// buffer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MeterFrame {
    pub sample_rate_hz: f32,
    pub channels: usize,
    pub channel: [ChannelReadings; MAX_CHANNELS],
    pub loudness: LoudnessReadings,
    pub over_threshold_dbtp: f32,
}

/// Per-channel state.
struct ChannelMeter {
    true_peak: TruePeak,
    sample_display: PeakBallistics,
    true_peak_display: PeakBallistics,
    overs: OverDetector,
    /// Linear max-holds.
    sample_max: f32,
    precise_max: f32,
    bs1770_max: f32,
}

impl ChannelMeter {
    /// True peak of one chunk, updating the max-holds and feeding refined peaks to the over
    /// detector.
    fn measure(&mut self, chunk: &[f32]) -> BlockPeaks {
        // Refine what could raise the max-hold or count as an over.
        let gate = self.precise_max.min(self.overs.threshold()) * db_to_amplitude(-GATE_MARGIN_DB);
        let overs = &mut self.overs;
        let peaks = self
            .true_peak
            .process(chunk, gate, overs.threshold(), |peak| overs.observe(peak));
        self.overs.advance_to(self.true_peak.refined_until());
        self.sample_max = self.sample_max.max(peaks.sample);
        self.precise_max = self.precise_max.max(peaks.precise);
        self.bs1770_max = self.bs1770_max.max(peaks.bs1770);
        peaks
    }
}

/// What the meter hands out as it measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MeterEvent {
    /// An over that has ended.
    Over(OverEvent),
    /// A 100 ms step of the loudness history.
    Point(HistoryPoint),
}

/// Steps whose loudness is known, waiting for every channel to refine past their end (at most
/// one or two: a step closes [`self::true_peak`]'s look-ahead after it ends).
const WAITING_STEPS: usize = 4;

/// The complete meter.
pub struct Meter {
    sample_rate_hz: f32,
    channels: Vec<ChannelMeter>,
    loudness: Loudness,
    over_threshold_dbtp: f32,
    /// The history's step grid since the last reset.
    clock: RowClock,
    /// The step the next sample belongs to, 1-based.
    feeding_step: u64,
    /// Steps measured for loudness, oldest first, waiting for their true peak.
    waiting: [StepReadings; WAITING_STEPS],
    waiting_len: usize,
    /// Whether the history is kept (on unless a caller turns it off).
    history: bool,
}

impl Meter {
    pub fn new(sample_rate_hz: f32, channels: usize) -> Self {
        assert!((1..=MAX_CHANNELS).contains(&channels), "1 to 8 channels");
        let threshold = db_to_amplitude(DEFAULT_OVER_THRESHOLD_DBTP);
        let clock = RowClock {
            origin: 0,
            sample_rate_hz: f64::from(sample_rate_hz),
        };
        Self {
            sample_rate_hz,
            clock,
            feeding_step: 1,
            waiting: [StepReadings::default(); WAITING_STEPS],
            waiting_len: 0,
            history: true,
            channels: (0..channels)
                .map(|_| ChannelMeter {
                    true_peak: {
                        let mut tp = TruePeak::new(sample_rate_hz, CHUNK);
                        tp.track_rows(clock);
                        tp
                    },
                    sample_display: PeakBallistics::default(),
                    true_peak_display: PeakBallistics::default(),
                    overs: OverDetector::new(sample_rate_hz, threshold),
                    sample_max: 0.0,
                    precise_max: 0.0,
                    bs1770_max: 0.0,
                })
                .collect(),
            loudness: Loudness::new(f64::from(sample_rate_hz), channels),
            over_threshold_dbtp: DEFAULT_OVER_THRESHOLD_DBTP,
        }
    }

    pub fn channels(&self) -> usize {
        self.channels.len()
    }

    /// Peaks above this level count as overs (default 0 dBTP; e.g. −1 dBTP for codec or
    /// transmitter headroom).
    pub fn set_over_threshold_dbtp(&mut self, dbtp: f32) {
        if dbtp != self.over_threshold_dbtp {
            self.over_threshold_dbtp = dbtp;
            let threshold = db_to_amplitude(dbtp);
            for ch in &mut self.channels {
                ch.overs.set_threshold(threshold);
            }
        }
    }

    /// The blocks behind integrated loudness and loudness range since the reset.
    pub fn loudness_blocks(&self) -> &GatedBlocks {
        self.loudness.gated_blocks()
    }

    /// Clear max-holds, overs and the loudness measurement (integrated, range, maxima).
    pub fn reset(&mut self) {
        self.reset_peaks();
        self.loudness.reset();
        self.clock.origin = self.position();
        self.feeding_step = 1;
        self.waiting_len = 0;
        for ch in &mut self.channels {
            ch.overs.restart_clock();
            if self.history {
                ch.true_peak.track_rows(self.clock);
            }
        }
    }

    /// Samples measured since the stream began.
    fn position(&self) -> i64 {
        self.channels[0].true_peak.position()
    }

    /// Clear the peak max-holds and the over count, keep the loudness measurement.
    pub fn reset_peaks(&mut self) {
        for ch in &mut self.channels {
            ch.sample_max = 0.0;
            ch.precise_max = 0.0;
            ch.bs1770_max = 0.0;
            ch.overs.reset();
            ch.sample_display = PeakBallistics::default();
            ch.true_peak_display = PeakBallistics::default();
        }
    }

    /// Forget the signal history (filters, pending peaks) without touching the readings: after a
    /// transport jump.
    pub fn clear_history(&mut self) {
        for ch in &mut self.channels {
            ch.true_peak.reset();
        }
    }

    /// Measure one block: one slice per channel (as many as the meter has), equal lengths.
    /// Over events that have ended are handed to `on_over`.
    pub fn process(&mut self, channels: &[&[f32]], mut on_over: impl FnMut(OverEvent)) {
        self.process_events(channels, |event| {
            if let MeterEvent::Over(over) = event {
                on_over(over);
            }
        });
    }

    /// Keep the loudness history (the default) or not: without it the blocks are not split at
    /// the steps and the true-peak stage refines only what the readings need (the plugin's
    /// audio thread, whose history a [`self::history_feed::HistoryFollower`] makes elsewhere;
    /// and the bench). A reset starts the steps again either way.
    pub fn keep_history(&mut self, keep: bool) {
        self.history = keep;
        for ch in &mut self.channels {
            if keep {
                ch.true_peak.track_rows(self.clock);
            } else {
                ch.true_peak.stop_rows();
            }
        }
    }

    /// Seconds of measured time at the next sample, since the measurement began (the time base
    /// of over events, to within the refiner's look-ahead).
    pub fn measured_s(&self) -> f64 {
        (self.position() - self.clock.origin) as f64 / f64::from(self.sample_rate_hz)
    }

    /// Hold the integrated loudness and the loudness range (the transport is stopped and the
    /// user asked to pause integration then): momentary, short-term, peaks and the history go on.
    pub fn hold_integration(&mut self, held: bool) {
        self.loudness.hold_integration(held);
    }

    /// Measure one block, handing out the overs that have ended and the history's points as
    /// their steps close.
    pub fn process_events(&mut self, channels: &[&[f32]], mut on_event: impl FnMut(MeterEvent)) {
        debug_assert_eq!(channels.len(), self.channels.len());
        let len = channels.first().map_or(0, |c| c.len());
        let block_s = len as f32 / self.sample_rate_hz;
        let mut block_sample = [0.0f32; MAX_CHANNELS];
        let mut block_precise = [0.0f32; MAX_CHANNELS];
        let mut start = 0;
        // In pieces that end on the history's steps, so each step's loudness is read at its end
        // and the true-peak stage's per-step gate sees one step at a time.
        while start < len {
            let position = self.position();
            if position >= self.clock.end(self.feeding_step) {
                self.feeding_step += 1;
            }
            let to_step = if self.history {
                (self.clock.end(self.feeding_step) - position) as usize
            } else {
                len
            };
            let end = start + to_step.min(len - start);
            for (index, (ch, input)) in self.channels.iter_mut().zip(channels).enumerate() {
                for chunk in input[start..end].chunks(CHUNK) {
                    let peaks = ch.measure(chunk);
                    block_sample[index] = block_sample[index].max(peaks.sample);
                    block_precise[index] = block_precise[index].max(peaks.precise);
                }
            }
            let mut piece: [&[f32]; MAX_CHANNELS] = [&[]; MAX_CHANNELS];
            for (view, input) in piece.iter_mut().zip(channels) {
                *view = &input[start..end];
            }
            self.loudness.process(&piece[..channels.len()]);
            if let Some(step) = self.loudness.take_step()
                && self.history
                && self.waiting_len < WAITING_STEPS
            {
                self.waiting[self.waiting_len] = step;
                self.waiting_len += 1;
            }
            self.close_steps(&mut on_event);
            start = end;
        }
        for (index, ch) in self.channels.iter_mut().enumerate() {
            ch.overs
                .close_stale(|event| on_event(MeterEvent::Over(event.on_channel(index))));
            ch.sample_display
                .update(amplitude_to_db(block_sample[index]), block_s);
            ch.true_peak_display
                .update(amplitude_to_db(block_precise[index]), block_s);
        }
    }

    /// Hand out the waiting steps every channel has refined past, oldest first.
    fn close_steps(&mut self, on_event: &mut impl FnMut(MeterEvent)) {
        let refined = self
            .channels
            .iter()
            .map(|ch| ch.true_peak.refined_until())
            .fold(f64::INFINITY, f64::min);
        while self.waiting_len > 0 {
            let step = self.waiting[0];
            if (self.clock.end(step.step) as f64) > refined {
                break;
            }
            let mut true_peak = 0.0f32;
            for ch in &mut self.channels {
                if let Some(rows) = ch.true_peak.rows_mut() {
                    debug_assert_eq!(rows.oldest().0, step.step);
                    true_peak = true_peak.max(rows.close_oldest());
                }
            }
            on_event(MeterEvent::Point(HistoryPoint {
                row: step.step,
                momentary_lufs: step.momentary_lufs,
                short_term_lufs: step.short_term_lufs,
                integrated_lufs: step.integrated_lufs,
                true_peak,
            }));
            self.waiting.copy_within(1..self.waiting_len, 0);
            self.waiting_len -= 1;
        }
    }

    pub fn frame(&self) -> MeterFrame {
        let mut frame = MeterFrame {
            sample_rate_hz: self.sample_rate_hz,
            channels: self.channels.len(),
            loudness: self.loudness.readings(),
            over_threshold_dbtp: self.over_threshold_dbtp,
            ..MeterFrame::default()
        };
        for (out, ch) in frame.channel.iter_mut().zip(&self.channels) {
            *out = ChannelReadings {
                sample_peak_dbfs: ch.sample_display.level_db(),
                true_peak_dbtp: ch.true_peak_display.level_db(),
                sample_peak_max_dbfs: amplitude_to_db(ch.sample_max),
                true_peak_max_dbtp: amplitude_to_db(ch.precise_max),
                true_peak_bs1770_max_dbtp: amplitude_to_db(ch.bs1770_max),
                overs: ch.overs.count(),
            };
        }
        frame
    }

    /// End of the stream (offline analysis): let pending peaks through by feeding silence, and
    /// close any over event still open.
    pub fn finish(&mut self, mut on_over: impl FnMut(OverEvent)) {
        self.finish_events(|event| {
            if let MeterEvent::Over(over) = event {
                on_over(over);
            }
        });
    }

    /// End of the stream, handing out the last overs and the history's last points.
    pub fn finish_events(&mut self, mut on_event: impl FnMut(MeterEvent)) {
        // The stream is silent after its end. Feed the true-peak stage only: the silence must not
        // change the loudness readings.
        let silence = [0.0f32; 64];
        for (index, ch) in self.channels.iter_mut().enumerate() {
            ch.measure(&silence);
            ch.overs
                .close_all(|event| on_event(MeterEvent::Over(event.on_channel(index))));
        }
        self.close_steps(&mut on_event);
    }
}
