//! The loudness history: one point per 100 ms step since the last reset — the momentary loudness
//! of the 400 ms ending at the step, the short-term loudness of the 3 s ending there, the
//! integrated loudness up to it, and the highest precise true peak of the 100 ms ending there.
//!
//! The steps are the loudness meter's own (BS.1770-5's 100 ms gating steps, on the sample grid of
//! its 5 ms sub-blocks), so the history's readings are the meter's readings at those moments. A
//! true peak is placed by its position on the continuous time axis, not by the block it was
//! refined in, so a peak refined a little late (the refiner reads 24 samples past it) still lands
//! in its own step; a step closes once every channel has refined past its end.

use std::sync::atomic::{AtomicU64, Ordering};

use atomic_float::AtomicF64;

use super::loudness::step_end_sample;

/// Steps kept open for late refinements: a peak is refined at most a chunk and the refiner's
/// look-ahead after its position, far less than a step.
const OPEN_ROWS: usize = 4;

/// Where the history's steps fall on a channel's stream: step `k` (1-based) covers the samples
/// `[origin + end(k − 1), origin + end(k))`, `end` being the loudness meter's step grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowClock {
    /// Stream position (samples since the stream began) where the measurement started.
    pub origin: i64,
    pub sample_rate_hz: f64,
}

impl RowClock {
    /// Stream position where step `row` ends (row 0 ends where the measurement starts).
    pub fn end(&self, row: u64) -> i64 {
        self.origin + step_end_sample(row, self.sample_rate_hz) as i64
    }
}

/// The highest refined true peak of each open step of one channel, linear amplitude.
#[derive(Debug, Clone)]
pub struct RowPeaks {
    clock: RowClock,
    /// The oldest open step, 1-based.
    oldest: u64,
    max: [f32; OPEN_ROWS],
    /// Where the measurement started (peaks before it belong to no step).
    start: i64,
}

impl RowPeaks {
    pub fn new(clock: RowClock) -> Self {
        Self {
            clock,
            oldest: 1,
            max: [0.0; OPEN_ROWS],
            start: clock.origin,
        }
    }

    /// Start again at step 1 on `clock` (a reset of the measurement).
    pub fn restart(&mut self, clock: RowClock) {
        *self = Self::new(clock);
    }

    /// The open step that holds `position`: the oldest whose end is after it (the newest open
    /// step for anything later).
    fn row_of(&self, position: f64) -> u64 {
        let mut row = self.oldest;
        while row < self.oldest + OPEN_ROWS as u64 - 1 && position >= self.clock.end(row) as f64 {
            row += 1;
        }
        row
    }

    /// A refined peak at `position` (samples since the stream began). Peaks before the
    /// measurement started belong to no step.
    pub fn observe(&mut self, position: f64, level: f32) {
        if position < self.start as f64 {
            return;
        }
        let slot = &mut self.max[(self.row_of(position) % OPEN_ROWS as u64) as usize];
        *slot = slot.max(level);
    }

    /// Where the step that holds `position` ends (stream position, samples).
    pub fn end_of_step_at(&self, position: f64) -> i64 {
        self.clock.end(self.row_of(position))
    }

    /// The highest peak so far of the step that holds `position`.
    pub fn level_at(&self, position: f64) -> f32 {
        self.max[(self.row_of(position) % OPEN_ROWS as u64) as usize]
    }

    /// The oldest open step and the stream position where it ends.
    pub fn oldest(&self) -> (u64, i64) {
        (self.oldest, self.clock.end(self.oldest))
    }

    /// Close the oldest open step, returning its highest peak.
    pub fn close_oldest(&mut self) -> f32 {
        let slot = &mut self.max[(self.oldest % OPEN_ROWS as u64) as usize];
        let level = std::mem::take(slot);
        self.oldest += 1;
        level
    }
}

/// One point of the history. Loudness is `None` while its window is not yet full (the first
/// 400 ms for momentary, 3 s for short-term) and, for integrated, while no block has passed the
/// gates; −∞ LUFS is silence.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HistoryPoint {
    /// The step, 1-based since the last reset: the point describes the 100 ms ending at
    /// `row · 0.1` s of measured time.
    pub row: u64,
    pub momentary_lufs: Option<f64>,
    pub short_term_lufs: Option<f64>,
    pub integrated_lufs: Option<f64>,
    /// The highest precise true peak of the step over all channels, linear (0: silence).
    pub true_peak: f32,
}

impl HistoryPoint {
    /// The step's true peak, dBTP (−∞ for silence).
    pub fn true_peak_dbtp(&self) -> f64 {
        if self.true_peak > 0.0 {
            20.0 * f64::from(self.true_peak).log10()
        } else {
            f64::NEG_INFINITY
        }
    }
}

/// Points the shared store keeps: eight hours at 10 a second (2.3 MB).
pub const STORE_POINTS: usize = 288_000;

/// A loudness or level in a store word: hundredths of a dB in an `i16`.
const NOT_MEASURED: i16 = i16::MIN;
const MINUS_INFINITY: i16 = i16::MIN + 1;

fn pack_level(value: Option<f64>) -> u16 {
    let v = match value {
        None => NOT_MEASURED,
        Some(v) if v.is_nan() || v < -327.0 => MINUS_INFINITY,
        Some(v) => (v.min(327.0) * 100.0).round() as i16,
    };
    v as u16
}

fn unpack_level(bits: u16) -> Option<f64> {
    match bits as i16 {
        NOT_MEASURED => None,
        MINUS_INFINITY => Some(f64::NEG_INFINITY),
        v => Some(f64::from(v) / 100.0),
    }
}

/// A history point as the store keeps it: momentary, short-term and integrated loudness and the
/// true peak (dBTP), each to 0.01 dB, in one 64-bit word, so a reader never sees half a point.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StoredPoint {
    pub momentary_lufs: Option<f64>,
    pub short_term_lufs: Option<f64>,
    pub integrated_lufs: Option<f64>,
    /// −∞ for silence.
    pub true_peak_dbtp: f64,
}

impl StoredPoint {
    pub fn of(point: &HistoryPoint) -> Self {
        let peak = point.true_peak_dbtp();
        Self {
            momentary_lufs: point.momentary_lufs,
            short_term_lufs: point.short_term_lufs,
            integrated_lufs: point.integrated_lufs,
            true_peak_dbtp: peak,
        }
    }

    /// Back to a history point of step `row` (the true peak to 0.01 dB).
    pub fn to_history(&self, row: u64) -> HistoryPoint {
        HistoryPoint {
            row,
            momentary_lufs: self.momentary_lufs,
            short_term_lufs: self.short_term_lufs,
            integrated_lufs: self.integrated_lufs,
            true_peak: if self.true_peak_dbtp.is_finite() {
                10f64.powf(self.true_peak_dbtp / 20.0) as f32
            } else {
                0.0
            },
        }
    }

    fn pack(&self) -> u64 {
        u64::from(pack_level(self.momentary_lufs))
            | u64::from(pack_level(self.short_term_lufs)) << 16
            | u64::from(pack_level(self.integrated_lufs)) << 32
            | u64::from(pack_level(Some(self.true_peak_dbtp))) << 48
    }

    pub fn unpack(word: u64) -> Self {
        Self {
            momentary_lufs: unpack_level(word as u16),
            short_term_lufs: unpack_level((word >> 16) as u16),
            integrated_lufs: unpack_level((word >> 32) as u16),
            true_peak_dbtp: unpack_level((word >> 48) as u16).unwrap_or(f64::NEG_INFINITY),
        }
    }
}

/// The history shared by its one writer (the meter that makes it: the plugin's history thread, or
/// the audio thread's meter when it keeps its own) and the editor (any reader), without
/// locks: a ring of atomic words and a count of points written. It outlives the editor window, so
/// closing and reopening the editor keeps the history; a new measurement (a reset, a new
/// activation) starts a new run, which readers see from [`HistoryStore::run_start`].
pub struct HistoryStore {
    words: Box<[AtomicU64]>,
    /// Points written since the store was made.
    written: AtomicU64,
    /// The index of the current run's first point.
    run_start: AtomicU64,
    /// Blocks, and the seconds of audio in them, that the history thread fell too far behind
    /// to take (each gap starts a new run): written by the audio thread's feed, read by the
    /// editor.
    dropped_blocks: AtomicU64,
    dropped_s: AtomicF64,
}

impl Default for HistoryStore {
    fn default() -> Self {
        Self::with_capacity(STORE_POINTS)
    }
}

impl HistoryStore {
    pub fn with_capacity(points: usize) -> Self {
        Self {
            words: (0..points.max(1)).map(|_| AtomicU64::new(0)).collect(),
            written: AtomicU64::new(0),
            run_start: AtomicU64::new(0),
            dropped_blocks: AtomicU64::new(0),
            dropped_s: AtomicF64::new(0.0),
        }
    }

    /// Audio thread: a block of `seconds` was left out of the history.
    pub fn note_dropped(&self, seconds: f64) {
        self.dropped_blocks.fetch_add(1, Ordering::Relaxed);
        self.dropped_s.fetch_add(seconds, Ordering::Relaxed);
    }

    /// The blocks, and the seconds of audio in them, left out of the history since the store
    /// was made.
    pub fn dropped(&self) -> (u64, f64) {
        (
            self.dropped_blocks.load(Ordering::Relaxed),
            self.dropped_s.load(Ordering::Relaxed),
        )
    }

    pub fn capacity(&self) -> usize {
        self.words.len()
    }

    /// Audio thread: append one point; a point of step 1 starts a new run.
    pub fn push(&self, point: &HistoryPoint) {
        let index = self.written.load(Ordering::Relaxed);
        if point.row <= 1 {
            self.run_start.store(index, Ordering::Release);
        }
        let slot = (index % self.words.len() as u64) as usize;
        self.words[slot].store(StoredPoint::of(point).pack(), Ordering::Relaxed);
        self.written.store(index + 1, Ordering::Release);
    }

    /// Points written so far, counted since the store was made.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    /// The index of the current run's first point.
    pub fn run_start(&self) -> u64 {
        self.run_start.load(Ordering::Acquire)
    }

    /// The current run's points from index `from` on (indices count since the store was made),
    /// oldest first, appended to `out` packed ([`StoredPoint::unpack`]); returns the index of the
    /// first point given. Points the ring has overwritten are skipped, and a point overwritten
    /// while it was read is dropped.
    pub fn read_words_from(&self, from: u64, out: &mut Vec<u64>) -> u64 {
        let written = self.written();
        let capacity = self.words.len() as u64;
        let start = from
            .max(self.run_start())
            .max(written.saturating_sub(capacity));
        let first = out.len();
        for index in start..written {
            out.push(self.words[(index % capacity) as usize].load(Ordering::Relaxed));
        }
        // Whatever the writer lapped while we read is no longer the point we meant.
        let lapped = self
            .written()
            .saturating_sub(capacity)
            .saturating_sub(start);
        let lapped = (lapped as usize).min(out.len() - first);
        out.drain(first..first + lapped);
        start + lapped as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At 44.1 kHz step k ends at round(4410·k) samples after the origin; peaks land in the step
    /// whose samples hold them, up to three steps ahead of the oldest open one, and closing
    /// hands the steps out in order with their maxima.
    #[test]
    fn peaks_land_in_the_step_that_holds_them() {
        let clock = RowClock {
            origin: 1000,
            sample_rate_hz: 44_100.0,
        };
        assert_eq!(
            (clock.end(0), clock.end(1), clock.end(3)),
            (1000, 5410, 14_230)
        );
        let mut rows = RowPeaks::new(clock);
        rows.observe(999.5, 9.0); // before the measurement: ignored
        rows.observe(1000.0, 0.25);
        rows.observe(5409.9, 0.5);
        rows.observe(5410.0, 0.75);
        rows.observe(1e9, 0.1); // far ahead: the newest open step
        assert_eq!(rows.level_at(2000.0), 0.5);
        assert_eq!(rows.level_at(6000.0), 0.75);
        assert_eq!(rows.oldest(), (1, 5410));
        assert_eq!(rows.close_oldest(), 0.5);
        assert_eq!(rows.oldest(), (2, 9820));
        assert_eq!(rows.close_oldest(), 0.75);
        assert_eq!(rows.close_oldest(), 0.0);
        assert_eq!(rows.close_oldest(), 0.1);
        rows.restart(RowClock { origin: 0, ..clock });
        assert_eq!(rows.oldest(), (1, 4410));
    }

    fn point(row: u64, m: f64, tp: f32) -> HistoryPoint {
        HistoryPoint {
            row,
            momentary_lufs: Some(m),
            short_term_lufs: None,
            integrated_lufs: Some(f64::NEG_INFINITY),
            true_peak: tp,
        }
    }

    /// A point survives the store to 0.01 dB, with "not measured" and −∞ told apart.
    #[test]
    fn points_pack_into_one_word() {
        let p = point(7, -23.456, 0.5);
        let back = StoredPoint::unpack(StoredPoint::of(&p).pack());
        assert_eq!(back.momentary_lufs, Some(-23.46));
        assert_eq!(back.short_term_lufs, None);
        assert_eq!(back.integrated_lufs, Some(f64::NEG_INFINITY));
        assert!((back.true_peak_dbtp + 6.02).abs() < 0.005 + 1e-9);
        let silent = StoredPoint::unpack(StoredPoint::of(&point(1, 0.0, 0.0)).pack());
        assert_eq!(silent.true_peak_dbtp, f64::NEG_INFINITY);
        assert_eq!(silent.to_history(3).true_peak, 0.0);
        assert!((back.to_history(7).true_peak - 0.5).abs() < 0.001);
    }

    /// A ring of 4: six points written, the reader gets the last four; a step-1 point starts a
    /// new run, and a reader gets only that run.
    #[test]
    fn the_store_keeps_the_newest_of_the_current_run() {
        let store = HistoryStore::with_capacity(4);
        for row in 1..=6 {
            store.push(&point(row, -(row as f64), 1.0));
        }
        let mut words = Vec::new();
        assert_eq!(store.read_words_from(0, &mut words), 2);
        let m: Vec<f64> = words
            .iter()
            .map(|&w| StoredPoint::unpack(w).momentary_lufs.unwrap())
            .collect();
        assert_eq!(m, [-3.0, -4.0, -5.0, -6.0]);
        let mut more = Vec::new();
        assert_eq!(store.read_words_from(6, &mut more), 6);
        assert!(more.is_empty());
        store.push(&point(1, -40.0, 1.0));
        store.push(&point(2, -41.0, 1.0));
        assert_eq!(store.run_start(), 6);
        let mut run = Vec::new();
        assert_eq!(store.read_words_from(0, &mut run), 6);
        assert_eq!(run.len(), 2);
    }
}
