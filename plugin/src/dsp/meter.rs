//! The whole meter for up to [`MAX_CHANNELS`] channels: true peak (both readings), sample peak,
//! display ballistics, max-hold, overs and loudness. One [`MeterFrame`] (plain `Copy` data)
//! describes its state after each block.

use super::ballistics::PeakBallistics;
pub use super::level::SILENCE_DB;
use super::level::{amplitude_to_db, db_to_amplitude};
use super::limits::MAX_CHANNELS;
use super::loudness::{GatedBlocks, Loudness, LoudnessReadings};
use super::overs::{OverDetector, OverEvent};
use super::true_peak::{BlockPeaks, GATE_MARGIN_DB, TruePeak};

/// Chunk the true-peak stage works in; any host block size is split into these.
const CHUNK: usize = 512;
/// Default over threshold, dBTP.
pub const DEFAULT_OVER_THRESHOLD_DBTP: f32 = 0.0;
/// One channel's readings after a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelReadings {
    /// Display values with ballistics (instant rise, [`super::ballistics::PEAK_FALL_DB_PER_S`]
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

/// The complete meter.
pub struct Meter {
    sample_rate_hz: f32,
    channels: Vec<ChannelMeter>,
    loudness: Loudness,
    over_threshold_dbtp: f32,
}

impl Meter {
    pub fn new(sample_rate_hz: f32, channels: usize) -> Self {
        assert!((1..=MAX_CHANNELS).contains(&channels), "1 to 8 channels");
        let threshold = db_to_amplitude(DEFAULT_OVER_THRESHOLD_DBTP);
        Self {
            sample_rate_hz,
            channels: (0..channels)
                .map(|_| ChannelMeter {
                    true_peak: TruePeak::new(sample_rate_hz, CHUNK),
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
        for ch in &mut self.channels {
            ch.overs.restart_clock();
        }
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
        debug_assert_eq!(channels.len(), self.channels.len());
        let len = channels.first().map_or(0, |c| c.len());
        let block_s = len as f32 / self.sample_rate_hz;
        for (index, (ch, input)) in self.channels.iter_mut().zip(channels).enumerate() {
            let mut block_sample = 0.0f32;
            let mut block_precise = 0.0f32;
            for chunk in input.chunks(CHUNK) {
                let peaks = ch.measure(chunk);
                block_sample = block_sample.max(peaks.sample);
                block_precise = block_precise.max(peaks.precise);
            }
            ch.overs
                .close_stale(|event| on_over(event.on_channel(index)));
            ch.sample_display
                .update(amplitude_to_db(block_sample), block_s);
            ch.true_peak_display
                .update(amplitude_to_db(block_precise), block_s);
        }
        self.loudness.process(channels);
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
        // The stream is silent after its end. Feed the true-peak stage only: the silence must not
        // change the loudness readings.
        let silence = [0.0f32; 64];
        for (index, ch) in self.channels.iter_mut().enumerate() {
            ch.measure(&silence);
            ch.overs.close_all(|event| on_over(event.on_channel(index)));
        }
    }
}
