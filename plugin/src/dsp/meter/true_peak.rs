//! True peak of one channel, two readings:
//!
//! - **BS.1770**: the 48-tap, 4-phase interpolator of ITU-R BS.1770-5 Annex 2, reported as
//!   max(interpolated peak, sample peak) like the reference meters. 4× below 88.2 kHz, 2× (two of
//!   the four phases) below 176.4 kHz, 1× (sample peak) above.
//! - **Precise**: the ideal band-limited peak to within ±0.02 dB for signals band-limited to
//!   0.45·fs. The standard filter's four phases are a coarse envelope (they read within a few
//!   tenths of a dB); wherever that envelope has a local maximum that could matter (within
//!   [`GATE_MARGIN_DB`] of the running maximum or of the over threshold, or the loudest of the
//!   block), the peak is found on a continuous time axis with a long windowed-sinc interpolator
//!   ([`Refiner`]). Refinement needs 24 samples after the peak, so precise values arrive up to
//!   0.5 ms late; audio is never delayed.
//!
//! No allocation after [`TruePeak::new`].

use std::sync::OnceLock;

use super::history::{RowClock, RowPeaks};
use crate::dsp::level::db_to_amplitude;
use crate::dsp::simd::{F32x8, F64x4, Isa, kernel_per_isa, max_f32};

/// BS.1770-5 Annex 2 interpolator, phase 0, in units of 1/8192 (every coefficient of the table is
/// a multiple of 1/8192). Phase 3 is phase 0 reversed and phase 2 is phase 1 reversed.
const PHASE_0_Q13: [i16; 12] = [
    14, 90, -161, 272, -487, 1125, 7964, -838, 390, -218, 122, -68,
];
/// BS.1770-5 Annex 2 interpolator, phase 1, in units of 1/8192.
const PHASE_1_Q13: [i16; 12] = [
    -239, 240, -424, 730, -1364, 3810, 6388, -1641, 832, -477, 271, -155,
];
const Q13: f32 = 8192.0;

/// Taps of each phase of the standard interpolator.
pub const BS1770_TAPS: usize = 12;

/// The four phases, tap-major: `BS1770_BANK[k][p]` multiplies x[n−k] for phase p. Phase p at
/// input index n estimates x(n − 5.875 + p/4).
pub const BS1770_BANK: [[f32; 4]; BS1770_TAPS] = {
    let mut bank = [[0.0; 4]; BS1770_TAPS];
    let mut k = 0;
    while k < BS1770_TAPS {
        bank[k] = [
            PHASE_0_Q13[k] as f32 / Q13,
            PHASE_1_Q13[k] as f32 / Q13,
            PHASE_1_Q13[BS1770_TAPS - 1 - k] as f32 / Q13,
            PHASE_0_Q13[BS1770_TAPS - 1 - k] as f32 / Q13,
        ];
        k += 1;
    }
    bank
};

/// Delay of phase 0 of the standard interpolator, samples (its group delay: the filter is the
/// symmetric 48-tap prototype, centred at 23.5 taps of the 4× rate).
const BS1770_PHASE0_DELAY: f64 = 5.875;
/// The same in 1/64ths of a sample (exact: 5.875 · 64 = 376).
const BS1770_PHASE0_DELAY_64THS: i64 = (BS1770_PHASE0_DELAY * REFINER_STEPS as f64) as i64;

/// How far below the running peak (or the over threshold) a coarse local maximum may be and still
/// be refined, dB. The standard interpolator reads −0.64…+0.22 dB of the true peak on isolated
/// peaks up to 20 kHz and droops 2.1 dB at 0.45·fs in two of its phases; 3 dB covers both with
/// room to spare (the tests check the coarse reading never falls more than 2 dB short).
pub const GATE_MARGIN_DB: f32 = 3.0;

/// The BS.1770 reading's oversampling factor at a sample rate (BS.1770-5 Annex 2: 4× at 48 kHz,
/// proportionately less at higher rates).
pub fn bs1770_factor(sample_rate_hz: f32) -> usize {
    if sample_rate_hz < 88_200.0 {
        4
    } else if sample_rate_hz < 176_400.0 {
        2
    } else {
        1
    }
}

/// Half-length of the precise interpolator: it reads 24 samples either side.
pub const REFINER_HALF: usize = 24;
/// Taps of the precise interpolator.
const REFINER_TAPS: usize = 2 * REFINER_HALF;
/// Fractional positions per sample in the precise interpolator's table.
const REFINER_STEPS: usize = 64;
/// Kaiser window β of the precise interpolator: with 48 taps and cut-off at fs/2 its error is
/// below 5e-4 (0.004 dB) for any fractional delay up to 0.45·fs.
const REFINER_BETA: f64 = 7.0;

/// A windowed-sinc fractional-delay interpolator, tabulated at 1/64-sample steps.
pub struct Refiner {
    /// `rows[r][j]` multiplies x[i − 23 + j] to give x(i + r/64).
    rows: Vec<[f32; REFINER_TAPS]>,
}

impl Refiner {
    /// The shared table (built once, on first use, off the audio thread).
    pub fn shared() -> &'static Refiner {
        static TABLE: OnceLock<Refiner> = OnceLock::new();
        TABLE.get_or_init(Refiner::build)
    }

    fn build() -> Self {
        let rows = (0..REFINER_STEPS)
            .map(|r| {
                let frac = r as f64 / REFINER_STEPS as f64;
                let mut taps = [0.0f64; REFINER_TAPS];
                for (j, tap) in taps.iter_mut().enumerate() {
                    let distance = frac - (j as f64 - (REFINER_HALF as f64 - 1.0));
                    *tap = sinc(distance) * kaiser(distance, REFINER_HALF as f64, REFINER_BETA);
                }
                // Unity gain at DC, so a constant reads as itself.
                let sum: f64 = taps.iter().sum();
                taps.map(|t| (t / sum) as f32)
            })
            .collect();
        Self { rows }
    }

    /// x(pos/64) from the samples in `x`, where `pos` is in 1/64ths of a sample. Needs
    /// 23 samples before and 24 after `pos / 64`.
    pub fn at(&self, x: &[f32], pos: i64) -> f32 {
        let i = pos.div_euclid(REFINER_STEPS as i64) as usize;
        let row = &self.rows[pos.rem_euclid(REFINER_STEPS as i64) as usize];
        let window = &x[i + 1 - REFINER_HALF..=i + REFINER_HALF];
        dot(row, window)
    }

    /// The local maximum of |x(t)| nearest `guess` (in 1/64ths of a sample): hill-climbing on
    /// spacings of 1/8 and 1/32 of a sample, then the vertex of the parabola through the
    /// bracketing points (at 1/32-sample spacing its error is below 0.001 dB for any signal
    /// band-limited to 0.45·fs). Never more than a parabola's vertex between evaluated points,
    /// so it cannot overshoot; climbs at most `MAX_CLIMB` steps per spacing (5 samples in all).
    /// Needs 30 samples of margin either side of the guess.
    pub fn peak_near(&self, x: &[f32], guess: i64) -> f32 {
        self.peak_near_unless_below(x, guess, 0.0).unwrap_or(0.0)
    }

    /// [`Refiner::peak_near`], abandoned once the 1/8-sample stage shows the peak is below
    /// `floor`: its vertex there is within [`COARSE_VERTEX_DB`] of the final value, so a vertex
    /// that far under `floor` cannot reach it. `None` when abandoned.
    pub fn peak_near_unless_below(&self, x: &[f32], guess: i64, floor: f32) -> Option<f32> {
        let mut middle = self.at(x, guess);
        let sign = if middle < 0.0 { -1.0 } else { 1.0 };
        middle *= sign;
        let value = |pos: i64| sign * self.at(x, pos);
        let mut pos = guess;
        for spacing in [8, 2] {
            let mut left = value(pos - spacing);
            let mut right = value(pos + spacing);
            for _ in 0..MAX_CLIMB {
                if left > middle && left >= right {
                    pos -= spacing;
                    (right, middle, left) = (middle, left, value(pos - spacing));
                } else if right > middle {
                    pos += spacing;
                    (left, middle, right) = (middle, right, value(pos + spacing));
                } else {
                    break;
                }
            }
            if left > middle || right > middle {
                // Still climbing after the limit: the largest value seen is the honest answer.
                return Some(middle.max(left).max(right));
            }
            let (offset, vertex) = parabola_vertex(left, middle, right);
            if spacing == 2 {
                return Some(vertex);
            }
            if vertex * db_to_amplitude(COARSE_VERTEX_DB) < floor {
                return None;
            }
            let step = (offset * spacing as f32).round() as i64;
            if step != 0 {
                pos += step;
                middle = value(pos);
            }
        }
        Some(middle)
    }
}

/// How far the 1/8-sample stage's parabola vertex can fall short of the refined peak, dB, for
/// signals band-limited to 0.45·fs: the tests find at most 0.016 dB on sines to 0.45·fs, two tones
/// beating there and band-limited noise; this is about twice that.
pub const COARSE_VERTEX_DB: f32 = 0.03;

/// Hill-climbing steps allowed per grid spacing (32 steps of 1/8 sample reach 4 samples away).
const MAX_CLIMB: usize = 32;

/// Offset (in grid steps) and value of the vertex of the parabola through three equally spaced
/// values whose middle is the largest: the offset is within ±1/2.
fn parabola_vertex(left: f32, middle: f32, right: f32) -> (f32, f32) {
    let curvature = left - 2.0 * middle + right;
    if curvature >= 0.0 {
        // Flat: no better estimate than the middle.
        return (0.0, middle);
    }
    let offset = (0.5 * (left - right) / curvature).clamp(-0.5, 0.5);
    let vertex = middle - 0.25 * (left - right) * offset;
    (offset, vertex)
}

fn dot(a: &[f32; REFINER_TAPS], b: &[f32]) -> f32 {
    // Eight partial sums, in vector registers.
    let b = &b[..REFINER_TAPS];
    let mut acc = F32x8::ZERO;
    for k in (0..REFINER_TAPS).step_by(LANES) {
        acc = acc + F32x8::load(&a[k..]).zip(F32x8::load(&b[k..]), |p, q| p * q);
    }
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc.0;
    ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7))
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// Kaiser window of half-length `half` at distance `x` from its centre.
fn kaiser(x: f64, half: f64, beta: f64) -> f64 {
    let r = x / half;
    if r.abs() >= 1.0 {
        return 0.0;
    }
    bessel_i0(beta * (1.0 - r * r).sqrt()) / bessel_i0(beta)
}

/// Modified Bessel function of the first kind, order 0 (power series; converges fast for the
/// arguments a Kaiser window uses).
fn bessel_i0(x: f64) -> f64 {
    let mut sum = 1.0;
    let mut term = 1.0;
    let quarter_x2 = x * x / 4.0;
    for k in 1..64 {
        term *= quarter_x2 / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// Peaks of one block of one channel, linear amplitude.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BlockPeaks {
    pub sample: f32,
    pub bs1770: f32,
    pub precise: f32,
    /// Whether the block held a NaN or infinity (measured as silence).
    pub non_finite: bool,
}

/// A refined peak: where (in samples since the stream began, fractional) and how high.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub position: f64,
    pub level: f32,
}

/// Output samples the FIR computes at once (one AVX register, two SSE registers).
const LANES: usize = 8;

/// The coarse stage of one chunk: the four phases over `len` outputs (y_p[n] =
/// Σ_k BANK[k][p]·x[n + 11 − k], computed in groups of [`LANES`]), their envelope, and the peaks of
/// each phase and of the samples.
type CoarseKernel = fn(&[f32], &mut [Vec<f32>; 4], &mut [f32], usize) -> CoarsePeaks;

#[derive(Debug, Clone, Copy, Default)]
struct CoarsePeaks {
    phase: [f32; 4],
    sample: f32,
}

/// Phases 0 and 1 in time order (tap j multiplies x[n + j]) folded about their centre: phase 3 is
/// phase 0 reversed and phase 2 is phase 1 reversed, so with S_j = x_j + x_(11−j) and
/// D_j = x_j − x_(11−j) (j < 6), y_p = Σ α_j S_j + Σ β_j D_j and y_(3−p) = Σ α_j S_j − Σ β_j D_j,
/// where α_j, β_j are the half-sum and half-difference of the mirrored taps (exact in f32).
const FOLDED: [([f32; 6], [f32; 6]); 2] = {
    let mut folded = [([0.0; 6], [0.0; 6]); 2];
    let mut p = 0;
    while p < 2 {
        let mut j = 0;
        while j < 6 {
            let early = BS1770_BANK[BS1770_TAPS - 1 - j][p];
            let late = BS1770_BANK[j][p];
            folded[p].0[j] = 0.5 * (early + late);
            folded[p].1[j] = 0.5 * (early - late);
            j += 1;
        }
        p += 1;
    }
    folded
};

/// The coarse stage, written once (f32 lanes of the SIMD surface; the token is not needed, as
/// nothing here multiplies and adds in one step).
#[inline(always)]
fn coarse<S: F64x4>(
    _simd: S,
    x: &[f32],
    phases: &mut [Vec<f32>; 4],
    env: &mut [f32],
    len: usize,
) -> CoarsePeaks {
    let padded = len.div_ceil(LANES) * LANES;
    let [y0, y1, y2, y3] = phases;
    for start in (0..padded).step_by(LANES) {
        let w = &x[start..start + LANES + BS1770_TAPS - 1];
        let mut even = [F32x8::ZERO; 2];
        let mut odd = [F32x8::ZERO; 2];
        for j in 0..6 {
            let early = F32x8::load(&w[j..]);
            let late = F32x8::load(&w[BS1770_TAPS - 1 - j..]);
            let (sum, diff) = (early + late, early - late);
            for p in 0..2 {
                even[p] = even[p].add_scaled(FOLDED[p].0[j], sum);
                odd[p] = odd[p].add_scaled(FOLDED[p].1[j], diff);
            }
        }
        let out = start..start + LANES;
        y0[out.clone()].copy_from_slice(&(even[0] + odd[0]).0);
        y3[out.clone()].copy_from_slice(&(even[0] - odd[0]).0);
        y1[out.clone()].copy_from_slice(&(even[1] + odd[1]).0);
        y2[out].copy_from_slice(&(even[1] - odd[1]).0);
    }
    // Envelope and maxima, lane-wise over whole groups, then the tail one sample at a time.
    let new = &x[BS1770_TAPS - 1..];
    let ys = [&*y0, &*y1, &*y2, &*y3];
    let mut phase_max = [F32x8::ZERO; 4];
    let mut sample_max = F32x8::ZERO;
    let whole = len / LANES * LANES;
    for start in (0..whole).step_by(LANES) {
        let a: [F32x8; 4] = std::array::from_fn(|p| F32x8::load(&ys[p][start..]).abs());
        for p in 0..4 {
            phase_max[p] = phase_max[p].max(a[p]);
        }
        sample_max = sample_max.max(F32x8::load(&new[start..]).abs());
        let e = a[0].max(a[1]).max(a[2].max(a[3]));
        env[start..start + LANES].copy_from_slice(&e.0);
    }
    for n in whole..len {
        let a: [f32; 4] = std::array::from_fn(|p| ys[p][n].abs());
        for p in 0..4 {
            phase_max[p].0[0] = max_f32(phase_max[p].0[0], a[p]);
        }
        sample_max.0[0] = max_f32(sample_max.0[0], new[n].abs());
        env[n] = max_f32(max_f32(a[0], a[1]), max_f32(a[2], a[3]));
    }
    CoarsePeaks {
        phase: phase_max.map(F32x8::max_lane),
        sample: sample_max.max_lane(),
    }
}

kernel_per_isa! {
    /// The coarse stage for an instruction set.
    fn coarse_kernel(
        x: &[f32],
        phases: &mut [Vec<f32>; 4],
        env: &mut [f32],
        len: usize,
    ) -> CoarsePeaks = coarse;
}

/// Samples kept from earlier blocks: the standard filter's 11, the refiner's reach, and the
/// coarse-to-refined lag, and the hill climb's reach.
const HISTORY: usize = 96;
/// Latest position (relative to the newest sample) a pending candidate can wait at: its
/// refinement climbs up to 6 samples and reads 24 more after that.
const REFINE_LAG: usize = REFINER_HALF + 8;

/// A coarse local maximum waiting to be refined.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Coarse time, 1/64ths of an absolute sample.
    position: i64,
    /// Only the history's per-step gate let it in: abandoned as soon as it shows it cannot be its
    /// step's loudest ([`TruePeak::refine_for_row`]).
    row_only: bool,
}

/// The most steps one block's envelope is split into for the history's per-step gates (a block of
/// 512 samples spans at most two steps down to 5.12 kHz).
const MAX_SEGMENTS: usize = 4;

/// Part of a block's envelope that falls in one step: the samples up to `end`, the largest value
/// among those surely in the step (`best` at block sample `best_n`), and its gate.
#[derive(Debug, Clone, Copy, Default)]
struct Segment {
    end: usize,
    best: f32,
    best_n: usize,
    gate: f32,
}

/// True-peak state of one channel.
pub struct TruePeak {
    refiner: &'static Refiner,
    bs1770_phases: usize,
    max_chunk: usize,
    /// `HISTORY` older samples, then the current chunk (and [`LANES`] of slack for the FIR).
    buf: Vec<f32>,
    /// The four phases of the standard interpolator over the current chunk.
    phases: [Vec<f32>; 4],
    /// Their envelope: max |y| over the phases, per input sample.
    env: Vec<f32>,
    /// The coarse-stage kernel for this CPU.
    kernel: CoarseKernel,
    /// Absolute index of `buf[0]`; the stream's first sample has absolute index `HISTORY`.
    buf_start: i64,
    /// Coarse envelope of the previous two samples (max over phases), for local-maximum tests.
    env_prev: [f32; 2],
    /// Coarse time of the previous sample's envelope maximum, 1/64 samples.
    last_pos: i64,
    /// Coarse candidates waiting for enough future samples.
    pending: Vec<Candidate>,
    /// The largest envelope value of each group of [`LANES`] samples of the current chunk.
    group_max: Vec<f32>,
    /// The loudest coarse point of each step's part of the block (one part without the
    /// history), refined at the end of the block whatever the gate.
    bests: [Option<(f32, i64)>; MAX_SEGMENTS],
    /// Whether the precise reading is computed (off: the BS.1770 reading and sample peak only).
    precise: bool,
    /// The highest refined peak of each 100 ms step, when the history is kept: then a local
    /// maximum within [`GATE_MARGIN_DB`] of its own step's loudest is refined too, so every
    /// step's true peak is precise, however quiet the step.
    rows: Option<RowPeaks>,
}

impl TruePeak {
    /// State for one channel; processes chunks of at most `max_chunk` samples.
    pub fn new(sample_rate_hz: f32, max_chunk: usize) -> Self {
        Self {
            refiner: Refiner::shared(),
            bs1770_phases: bs1770_factor(sample_rate_hz),
            max_chunk,
            buf: vec![0.0; HISTORY + max_chunk + LANES],
            phases: std::array::from_fn(|_| vec![0.0; max_chunk + LANES]),
            env: vec![0.0; max_chunk],
            kernel: coarse_kernel(Isa::detect()),
            buf_start: 0,
            env_prev: [0.0; 2],
            last_pos: 0,
            pending: Vec::with_capacity(max_chunk + HISTORY),
            group_max: vec![0.0; max_chunk.div_ceil(LANES)],
            bests: [None; MAX_SEGMENTS],
            precise: true,
            rows: None,
        }
    }

    /// Keep the highest precise peak of each 100 ms step on `clock` (from step 1 again).
    pub fn track_rows(&mut self, clock: RowClock) {
        self.rows = Some(RowPeaks::new(clock));
    }

    /// Stop keeping the per-step peaks.
    pub fn stop_rows(&mut self) {
        self.rows = None;
    }

    /// The per-step peaks, when kept.
    pub fn rows_mut(&mut self) -> Option<&mut RowPeaks> {
        self.rows.as_mut()
    }

    /// Stream position of the next sample: samples processed since the stream began.
    pub fn position(&self) -> i64 {
        self.buf_start
    }

    /// A refined peak, into its step's maximum.
    fn note_row(&mut self, peak: Peak) {
        if let Some(rows) = &mut self.rows {
            rows.observe(peak.position, peak.level);
        }
    }

    /// Compute the precise reading (the default) or only the BS.1770 one.
    pub fn set_precise(&mut self, precise: bool) {
        self.precise = precise;
        if !precise {
            self.pending.clear();
        }
    }

    /// Forget the signal history (after a transport jump). The time base keeps counting, so
    /// peak positions stay comparable across the jump.
    pub fn reset(&mut self) {
        self.buf.fill(0.0);
        self.env_prev = [0.0; 2];
        self.last_pos = 0;
        self.pending.clear();
        self.bests = [None; MAX_SEGMENTS];
    }

    /// Measure one chunk (at most `max_chunk` samples). `gate` is the linear level a coarse local
    /// maximum must reach to be refined; every refined peak at or above `report_above` is passed
    /// to `on_peak` (for over detection), in time order.
    pub fn process(
        &mut self,
        input: &[f32],
        gate: f32,
        report_above: f32,
        mut on_peak: impl FnMut(Peak),
    ) -> BlockPeaks {
        assert!(input.len() <= self.max_chunk, "chunk longer than max_chunk");
        let len = input.len();
        let mut non_finite = false;
        for (dst, &x) in self.buf[HISTORY..HISTORY + len].iter_mut().zip(input) {
            // A NaN or infinity must not poison the filter history.
            let finite = x.is_finite();
            non_finite |= !finite;
            *dst = if finite { x } else { 0.0 };
        }
        let gate = if self.precise { gate } else { f32::INFINITY };
        let mut peaks = self.coarse(len, gate);
        peaks.non_finite = non_finite;
        peaks.precise = peaks.sample;
        if !self.precise {
            self.shift_history(len);
            return peaks;
        }
        let newest = self.buf_start + (HISTORY + len) as i64;
        let ready_before = (newest - REFINE_LAG as i64) * REFINER_STEPS as i64;
        let mut precise = 0.0f32;
        // Each step's loudest point of the block first: the likeliest to be its step's loudest,
        // which lets the history's own candidates be abandoned sooner.
        let mut refined: [Option<(i64, Peak)>; MAX_SEGMENTS] = [None; MAX_SEGMENTS];
        let bests = std::mem::take(&mut self.bests);
        for (slot, best) in refined.iter_mut().zip(bests) {
            let Some((_, position)) = best else {
                continue;
            };
            if position < ready_before {
                let peak = self.refine(position);
                self.note_row(peak);
                precise = precise.max(peak.level);
                *slot = Some((position, peak));
            } else if !self.pending.iter().any(|c| c.position == position) {
                self.queue(position, false);
            }
        }
        let mut kept = 0;
        for i in 0..self.pending.len() {
            let candidate = self.pending[i];
            if candidate.position >= ready_before {
                self.pending[kept] = candidate;
                kept += 1;
                continue;
            }
            let done = refined
                .iter()
                .flatten()
                .find(|(position, _)| *position == candidate.position);
            let peak = if let Some(&(_, peak)) = done {
                peak
            } else if candidate.row_only {
                match self.refine_for_row(candidate.position) {
                    Some(peak) => peak,
                    None => continue,
                }
            } else {
                self.refine(candidate.position)
            };
            self.note_row(peak);
            precise = precise.max(peak.level);
            if peak.level >= report_above {
                on_peak(peak);
            }
        }
        self.pending.truncate(kept);
        peaks.precise = peaks.precise.max(precise);
        self.shift_history(len);
        peaks
    }

    /// The standard interpolator over the new samples: the BS.1770 reading, the sample peak, and
    /// the coarse local maxima that pass the gate (queued for refinement).
    fn coarse(&mut self, len: usize, gate: f32) -> BlockPeaks {
        let x = &self.buf[HISTORY + 1 - BS1770_TAPS..];
        let peaks = (self.kernel)(x, &mut self.phases, &mut self.env, len);
        if gate.is_finite() {
            self.find_candidates(len, gate);
        }
        let bs1770 = match self.bs1770_phases {
            4 => peaks.phase.iter().fold(0.0f32, |m, &v| m.max(v)),
            2 => peaks.phase[0].max(peaks.phase[2]),
            _ => 0.0,
        };
        BlockPeaks {
            sample: peaks.sample,
            bs1770: bs1770.max(peaks.sample),
            precise: 0.0,
            non_finite: false,
        }
    }

    /// Queue the local maxima of the envelope above `gate` (and, with the history kept, those
    /// within [`GATE_MARGIN_DB`] of their step's loudest), and note each step's loudest point.
    /// The envelope is read [`LANES`] samples at a time: a group whose largest value is under
    /// the gates holds no candidate, so in the usual case, a block quieter than the gates, the
    /// search costs one vector maximum per group.
    fn find_candidates(&mut self, len: usize, gate: f32) {
        if len == 0 {
            return;
        }
        for (slot, group) in self.group_max.iter_mut().zip(self.env[..len].chunks(LANES)) {
            *slot = if group.len() == LANES {
                F32x8::load(group).max_lane()
            } else {
                group.iter().fold(0.0f32, |m, &v| max_f32(m, v))
            };
        }
        let mut segments = [Segment::default(); MAX_SEGMENTS];
        let count = self.split_by_step(len, &mut segments);
        let segments = &segments[..count];
        for (k, segment) in segments.iter().enumerate() {
            self.bests[k] =
                (segment.best > 0.0).then(|| (segment.best, self.coarse_position(segment.best_n)));
        }
        let lowest = segments.iter().fold(gate, |g, s| g.min(s.gate));
        // The gate of block sample n: its step's, or for the last sample before a step's end
        // (whose loudest phase may lie in either step) the lower of both.
        let gate_at = |n: usize| {
            let k = segments.iter().position(|s| n < s.end).unwrap_or(count - 1);
            let own = gate.min(segments[k].gate);
            match segments.get(k + 1) {
                Some(next) if n + 1 == segments[k].end => own.min(next.gate),
                _ => own,
            }
        };
        let [older, prev] = self.env_prev;
        // The previous block's last sample, now that the sample after it is known.
        if prev > gate_at(0) && prev >= older && prev > self.env[0] {
            self.queue(self.last_pos, prev <= gate);
        }
        for g in 0..len.div_ceil(LANES) {
            if self.group_max[g] <= lowest {
                continue;
            }
            // The group's samples above the lowest gate, as bits; the last sample of the block
            // waits for the next one.
            let first = g * LANES;
            let group = &self.env[first..((g + 1) * LANES).min(len - 1)];
            let mut above = 0u32;
            for (j, &e) in group.iter().enumerate() {
                above |= u32::from(e > lowest) << j;
            }
            while above != 0 {
                let n = first + above.trailing_zeros() as usize;
                above &= above - 1;
                // A local maximum: it rises from the sample before and falls to the one after.
                let e = self.env[n];
                let before = if n == 0 { prev } else { self.env[n - 1] };
                if e >= before && e > self.env[n + 1] && e > gate_at(n) {
                    self.queue(self.coarse_position(n), e <= gate);
                }
            }
        }
        let env = &self.env[..len];
        self.env_prev = if len >= 2 {
            [env[len - 2], env[len - 1]]
        } else {
            [prev, env[0]]
        };
        self.last_pos = self.coarse_position(len - 1);
    }

    /// Split the block's envelope where it crosses into the next step (one segment, gated at
    /// infinity, without the history), each segment with its loudest value and its step's gate:
    /// [`GATE_MARGIN_DB`] under the louder of the step's refined peak so far and that value.
    /// Returns the number of segments.
    fn split_by_step(&self, len: usize, segments: &mut [Segment; MAX_SEGMENTS]) -> usize {
        let Some(rows) = &self.rows else {
            let (best, best_n) = self.loudest(0, len);
            segments[0] = Segment {
                end: len,
                best,
                best_n,
                gate: f32::INFINITY,
            };
            return 1;
        };
        let margin = db_to_amplitude(-GATE_MARGIN_DB);
        let mut count = 0;
        let mut start = 0;
        while start < len {
            // Phase 0 of block sample n is at stream position buf_start + n − 5.875.
            let first = self.buf_start as f64 + start as f64 - BS1770_PHASE0_DELAY;
            let step_end = rows.end_of_step_at(first) as f64;
            let next = (step_end - self.buf_start as f64 + BS1770_PHASE0_DELAY).ceil();
            let mut end = (next.max(start as f64 + 1.0) as usize).min(len);
            if count == MAX_SEGMENTS - 1 {
                end = len;
            }
            // Sample end − 1 may belong to the next step: it is left out of this one's loudest.
            let sure_end = if end < len && end - 1 > start {
                end - 1
            } else {
                end
            };
            let (best, best_n) = self.loudest(start, sure_end);
            let step = if count == MAX_SEGMENTS - 1 && end == len && next < len as f64 {
                // Too many steps in one block (a very low rate): gate the rest at nothing.
                0.0
            } else {
                rows.level_at(first).max(best) * margin
            };
            segments[count] = Segment {
                end,
                best,
                best_n,
                gate: step,
            };
            count += 1;
            start = end;
        }
        count
    }

    /// The largest envelope value among block samples `start..end` and where it is (the first
    /// such sample), from the group maxima where whole groups lie inside.
    fn loudest(&self, start: usize, end: usize) -> (f32, usize) {
        let groups = start.div_ceil(LANES)..end / LANES;
        if groups.is_empty() {
            return self.loudest_sample(start, end);
        }
        let (head_end, tail_start) = (groups.start * LANES, groups.end * LANES);
        let head = self.loudest_sample(start, head_end);
        let group_max = &self.group_max[groups.clone()];
        let best = group_max.iter().fold(0.0f32, |m, &v| max_f32(m, v));
        let mut loudest = head;
        if best > loudest.0 {
            let group = groups.start + group_max.iter().position(|&v| v == best).unwrap_or(0);
            let offset = self.env[group * LANES..].iter().position(|&v| v == best);
            loudest = (best, group * LANES + offset.unwrap_or(0));
        }
        let tail = self.loudest_sample(tail_start, end);
        if tail.0 > loudest.0 { tail } else { loudest }
    }

    /// [`TruePeak::loudest`] one sample at a time (for the parts of groups at a segment's ends).
    fn loudest_sample(&self, start: usize, end: usize) -> (f32, usize) {
        let mut best = (0.0f32, start);
        for n in start..end {
            if self.env[n] > best.0 {
                best = (self.env[n], n);
            }
        }
        best
    }

    /// Queue a coarse candidate for refinement; `row_only` when only the history asked for it.
    fn queue(&mut self, position: i64, row_only: bool) {
        if self.pending.len() < self.pending.capacity() {
            self.pending.push(Candidate { position, row_only });
        }
    }

    /// Time of the loudest phase at block sample `n`, in 1/64ths of an absolute sample.
    fn coarse_position(&self, n: usize) -> i64 {
        let mut phase = 0;
        let mut loudest = self.phases[0][n].abs();
        for p in 1..4 {
            let a = self.phases[p][n].abs();
            if a >= loudest {
                (phase, loudest) = (p, a);
            }
        }
        self.phase_position(HISTORY + n, phase)
    }

    /// Time of phase `phase` at buffer index `n`, in 1/64ths of an absolute sample (integer
    /// arithmetic: the phases are a quarter sample, 16/64ths, apart).
    fn phase_position(&self, n: usize, phase: usize) -> i64 {
        (self.buf_start + n as i64) * REFINER_STEPS as i64 - BS1770_PHASE0_DELAY_64THS
            + (REFINER_STEPS / 4 * phase) as i64
    }

    /// Refine a candidate only the history asked for, unless it shows early that it cannot
    /// reach its step's loudest so far ([`Refiner::peak_near_unless_below`]).
    fn refine_for_row(&self, pos: i64) -> Option<Peak> {
        let position = pos as f64 / REFINER_STEPS as f64 - HISTORY as f64;
        let floor = self
            .rows
            .as_ref()
            .map_or(0.0, |rows| rows.level_at(position));
        let local = pos - self.buf_start * REFINER_STEPS as i64;
        let level = self
            .refiner
            .peak_near_unless_below(&self.buf, local, floor)?;
        Some(Peak { position, level })
    }

    fn refine(&self, pos: i64) -> Peak {
        let local = pos - self.buf_start * REFINER_STEPS as i64;
        let level = self.refiner.peak_near(&self.buf, local);
        Peak {
            position: pos as f64 / REFINER_STEPS as f64 - HISTORY as f64,
            level,
        }
    }

    /// Every peak before this position (samples since the stream began) has been refined and
    /// reported.
    pub fn refined_until(&self) -> f64 {
        let oldest_pending = self
            .pending
            .iter()
            .map(|c| c.position)
            .min()
            .map(|p| p as f64 / REFINER_STEPS as f64);
        let horizon = (self.buf_start + HISTORY as i64 - REFINE_LAG as i64) as f64;
        oldest_pending.map_or(horizon, |p| p.min(horizon)) - HISTORY as f64
    }

    fn shift_history(&mut self, len: usize) {
        self.buf.copy_within(len..len + HISTORY, 0);
        self.buf_start += len as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every coarse kernel this CPU runs gives the portable kernel's bits (phases, envelope and
    /// maxima), for lengths that end on a lane boundary and off it, on noise with full-scale
    /// spikes.
    mod coarse_kernels {
        use super::*;

        fn run(
            kernel: CoarseKernel,
            x: &[f32],
            len: usize,
        ) -> (Vec<Vec<f32>>, Vec<f32>, CoarsePeaks) {
            let padded = len.div_ceil(LANES) * LANES;
            let mut phases: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0; padded]);
            let mut env = vec![0.0; padded];
            let peaks = kernel(x, &mut phases, &mut env, len);
            (phases.to_vec(), env, peaks)
        }

        #[test]
        fn match_the_portable_kernel() {
            let mut state = 0x1234_5678_9abc_def0u64;
            let input: Vec<f32> = (0..600)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let noise = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                    if i % 97 == 0 { 1.0 } else { noise }
                })
                .collect();
            for len in [8usize, 64, 61, 500] {
                let x = &input[..len.div_ceil(LANES) * LANES + BS1770_TAPS - 1];
                let (phases, env, peaks) = run(coarse_kernel(Isa::available()[0]), x, len);
                for isa in Isa::available() {
                    let name = format!("{isa:?}");
                    let (p, e, k) = run(coarse_kernel(isa), x, len);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    for ph in 0..4 {
                        assert_eq!(
                            bits(&p[ph][..len]),
                            bits(&phases[ph][..len]),
                            "{name} {len}"
                        );
                    }
                    assert_eq!(bits(&e[..len]), bits(&env[..len]), "{name} {len}");
                    assert_eq!(
                        k.phase.map(f32::to_bits),
                        peaks.phase.map(f32::to_bits),
                        "{name}"
                    );
                    assert_eq!(k.sample.to_bits(), peaks.sample.to_bits(), "{name}");
                }
            }
        }
    }

    mod bs1770_factor {
        use super::*;

        /// BS.1770-5 Annex 2: 4× up to 88.2 kHz exclusive, 2× up to 176.4 kHz exclusive, then the
        /// samples alone. Both band edges are exact in f32.
        #[test]
        fn four_two_or_one_by_rate_band() {
            for (rate_hz, factor) in [
                (44_100.0, 4),
                (48_000.0, 4),
                (88_199.0, 4),
                (88_200.0, 2),
                (96_000.0, 2),
                (176_399.0, 2),
                (176_400.0, 1),
                (192_000.0, 1),
                (384_000.0, 1),
            ] {
                assert_eq!(bs1770_factor(rate_hz), factor, "{rate_hz} Hz");
            }
        }
    }

    mod bs1770_bank {
        use super::*;

        /// BS.1770-5 Annex 2, phases 0 and 1 as the Recommendation prints them. Every value is a
        /// multiple of 1/8192, exact in f32 and in f64.
        const PHASE_0: [f64; 12] = [
            0.0017089843750,
            0.0109863281250,
            -0.0196533203125,
            0.0332031250000,
            -0.0594482421875,
            0.1373291015625,
            0.9721679687500,
            -0.1022949218750,
            0.0476074218750,
            -0.0266113281250,
            0.0148925781250,
            -0.0083007812500,
        ];
        const PHASE_1: [f64; 12] = [
            -0.0291748046875,
            0.0292968750000,
            -0.0517578125000,
            0.0891113281250,
            -0.1665039062500,
            0.4650878906250,
            0.7797851562500,
            -0.2003173828125,
            0.1015625000000,
            -0.0582275390625,
            0.0330810546875,
            -0.0189208984375,
        ];

        /// Column p of the tap-major bank is the standard's phase p; phases 2 and 3 are the
        /// Recommendation's own columns, which are phases 1 and 0 read backwards (the 48-tap
        /// prototype is symmetric).
        #[test]
        fn columns_are_the_annex_2_phases() {
            for k in 0..BS1770_TAPS {
                let row = BS1770_BANK[k].map(f64::from);
                assert_eq!(row[0], PHASE_0[k], "phase 0, tap {k}");
                assert_eq!(row[1], PHASE_1[k], "phase 1, tap {k}");
                assert_eq!(row[2], PHASE_1[BS1770_TAPS - 1 - k], "phase 2, tap {k}");
                assert_eq!(row[3], PHASE_0[BS1770_TAPS - 1 - k], "phase 3, tap {k}");
            }
        }

        /// The folded form loses nothing: α + β and α − β give back the mirrored taps exactly
        /// (halves of multiples of 1/8192 are exact). Phase 0, j = 5 pairs taps 6 and 5:
        /// α = (7964 + 1125)/16384 = 0.55474853515625, β = (7964 − 1125)/16384 = 0.41741943359375.
        #[test]
        fn folded_halves_rebuild_the_mirrored_taps() {
            for (p, (alphas, betas)) in FOLDED.iter().enumerate() {
                for j in 0..6 {
                    let (alpha, beta) = (alphas[j], betas[j]);
                    assert_eq!(
                        alpha + beta,
                        BS1770_BANK[BS1770_TAPS - 1 - j][p],
                        "{p}, {j}"
                    );
                    assert_eq!(alpha - beta, BS1770_BANK[j][p], "{p}, {j}");
                }
            }
            assert_eq!(f64::from(FOLDED[0].0[5]), 0.55474853515625);
            assert_eq!(f64::from(FOLDED[0].1[5]), 0.41741943359375);
        }
    }

    mod parabola_vertex {
        use super::*;

        /// y = 1 − (t − 1/4)² sampled at t = −1, 0, 1 gives −0.5625, 0.9375, 0.4375 (all exact in
        /// f32): the vertex is at +1/4 step, height 1.
        #[test]
        fn vertex_of_a_known_parabola() {
            assert_eq!(parabola_vertex(-0.5625, 0.9375, 0.4375), (0.25, 1.0));
            assert_eq!(parabola_vertex(1.0, 2.0, 1.0), (0.0, 2.0));
        }

        /// Equal neighbours on one side put the vertex half-way to them: through (−1, 1), (0, 1),
        /// (1, 0) the parabola is y = 1 − t/2 − t²/2, vertex at t = −1/2, y = 1.125.
        #[test]
        fn offset_reaches_half_a_step_when_a_neighbour_ties() {
            assert_eq!(parabola_vertex(1.0, 1.0, 0.0), (-0.5, 1.125));
            assert_eq!(parabola_vertex(0.0, 1.0, 1.0), (0.5, 1.125));
        }

        /// No downward curvature (flat or a dip): the middle is the best estimate.
        #[test]
        fn flat_or_convex_returns_the_middle() {
            assert_eq!(parabola_vertex(1.0, 1.0, 1.0), (0.0, 1.0));
            assert_eq!(parabola_vertex(2.0, 1.0, 2.0), (0.0, 1.0));
        }
    }

    mod window {
        use super::*;

        /// sinc(0) = 1 by definition; sinc(1/2) = sin(π/2)/(π/2) = 2/π (to 1e-15: a sine and a
        /// division, each rounded to half an ulp of 0.64). At whole numbers it is zero up to π's
        /// rounding: |sin(fl(nπ))|/(nπ) stays below 1.5e-16, so 2e-16.
        #[test]
        fn sinc_values() {
            assert_eq!(sinc(0.0), 1.0);
            assert!((sinc(0.5) - std::f64::consts::FRAC_2_PI).abs() < 1e-15);
            assert_eq!(sinc(-0.5), sinc(0.5));
            for n in 1..=REFINER_HALF {
                let n = n as f64;
                assert!(sinc(n).abs() < 2e-16, "sinc({n}) = {}", sinc(n));
                assert!(sinc(-n).abs() < 2e-16, "sinc(-{n}) = {}", sinc(-n));
            }
        }

        /// I0 from its series, I0(x) = Σ ((x/2)^k / k!)², summed to 50 digits: I0(1) =
        /// 1.26606587775200834, I0(2) = 2.27958530233606727, I0(7) = 168.593908510289699. The f64
        /// sum of a few dozen positive terms is good to a few ulp, so 1e-15 relative.
        #[test]
        fn bessel_i0_matches_its_series() {
            assert_eq!(bessel_i0(0.0), 1.0);
            for (x, want) in [
                (1.0, 1.2660658777520084),
                (2.0, 2.2795853023360673),
                (7.0, 168.5939085102897),
            ] {
                let got = bessel_i0(x);
                assert!(
                    (got - want).abs() <= 1e-15 * want,
                    "I0({x}) = {got}, not {want}"
                );
            }
        }

        /// The Kaiser window is 1 at its centre (I0(β)/I0(β)), 0 at and beyond its half-length,
        /// symmetric, and flat for β = 0. Half-way out, r = 1/2: I0(7·√0.75)/I0(7) =
        /// 0.42208462433608840 (the same 50-digit series; 1e-15 as above).
        #[test]
        fn kaiser_ends_centre_and_half_way() {
            assert_eq!(kaiser(0.0, 24.0, 7.0), 1.0);
            assert_eq!(kaiser(24.0, 24.0, 7.0), 0.0);
            assert_eq!(kaiser(-24.0, 24.0, 7.0), 0.0);
            assert_eq!(kaiser(30.0, 24.0, 7.0), 0.0);
            assert_eq!(kaiser(-12.0, 24.0, 7.0), kaiser(12.0, 24.0, 7.0));
            assert_eq!(kaiser(12.0, 24.0, 0.0), 1.0);
            assert!((kaiser(12.0, 24.0, 7.0) - 0.4220846243360884).abs() < 1e-15);
        }
    }

    mod refiner {
        use super::*;

        /// 48 ones times 0, 1, …, 47 is 47·48/2 = 1128; every partial sum is an integer below
        /// 2^24, so exact in f32.
        #[test]
        fn dot_of_ones_and_a_ramp() {
            let ramp: Vec<f32> = (0..REFINER_TAPS).map(|i| i as f32).collect();
            assert_eq!(dot(&[1.0; REFINER_TAPS], &ramp), 1128.0);
        }

        /// At a whole sample (fraction 0) the table row is sinc at whole numbers: 1 at the centre
        /// tap, the others below 1e-16, which vanish next to a sample of 0.48 (half an f32 ulp
        /// there is 3e-8). So the interpolator returns the sample itself, exactly.
        #[test]
        fn a_whole_sample_position_returns_that_sample() {
            let x: Vec<f32> = (0..64).map(|i| (i as f32 + 1.0) / 64.0).collect();
            let refiner = Refiner::shared();
            assert_eq!(refiner.at(&x, 30 * 64), 31.0 / 64.0);
            let negated: Vec<f32> = x.iter().map(|v| -v).collect();
            assert_eq!(refiner.at(&negated, 30 * 64), -31.0 / 64.0);
        }

        /// Each row is normalised to unity gain at DC, so a constant reads as itself at any
        /// fraction, to f32 rounding: 48 taps rounded to f32 and 48 products summed, each off by
        /// at most 2^-24 of a sum of |taps| below 2, so 1e-5.
        #[test]
        fn a_constant_reads_as_itself_at_every_fraction() {
            let ones = [1.0f32; 64];
            let refiner = Refiner::shared();
            for r in 0..REFINER_STEPS as i64 {
                let got = refiner.at(&ones, 30 * 64 + r);
                assert!((got - 1.0).abs() < 1e-5, "fraction {r}/64: {got}");
            }
        }
    }

    /// The history's per-step peaks: the bound that lets most of its candidates go unrefined,
    /// and the rows it gives against refining every local maximum.
    mod rows {
        use super::*;
        use std::f64::consts::PI;

        const FS: f64 = 48_000.0;

        /// A uniform value in [0, 1) (xorshift64*).
        fn uniform(state: &mut u64) -> f64 {
            *state ^= *state >> 12;
            *state ^= *state << 25;
            *state ^= *state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        }

        /// A sum of sines, each (amplitude, frequency as a fraction of fs, phase).
        fn tones(parts: &[(f64, f64, f64)], samples: usize) -> Vec<f32> {
            (0..samples)
                .map(|i| {
                    let t = i as f64;
                    parts
                        .iter()
                        .map(|&(a, f, phase)| a * (2.0 * PI * f * t + phase).cos())
                        .sum::<f64>() as f32
                })
                .collect()
        }

        /// The signals the bound must hold on: single sines from 0.02 to 0.45·fs at awkward
        /// phases, two tones beating just under 0.45·fs, and "noise" of 120 sines spread over
        /// the whole band to 0.45·fs (band-limited, so its ideal peaks are well defined).
        fn signals() -> Vec<(String, Vec<f32>)> {
            let n = 12_000;
            let mut out = Vec::new();
            for k in 1..=45 {
                let f = 0.01 * k as f64;
                out.push((
                    format!("sine {f:.2} fs"),
                    tones(&[(0.5, f, 0.1 + k as f64)], n),
                ));
            }
            out.push((
                "two tones 0.43 + 0.449 fs".into(),
                tones(&[(0.4, 0.43, 0.3), (0.4, 0.449, 1.1)], n),
            ));
            for seed in 1..=4u64 {
                let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let parts: Vec<_> = (0..120)
                    .map(|_| {
                        let f = 0.45 * uniform(&mut state);
                        (0.06, f, 2.0 * PI * uniform(&mut state))
                    })
                    .collect();
                out.push((format!("band-limited noise {seed}"), tones(&parts, n)));
            }
            out
        }

        /// The 1/8-sample stage's vertex is within [`COARSE_VERTEX_DB`] of the refined peak for
        /// every local maximum of every signal (each refined twice on the raw input, abandoned
        /// at a floor just above the vertex and in full), so abandoning at that margin never
        /// drops a peak that would have reached the floor. The largest shortfall is printed;
        /// the margin must not be more than four times it (a margin far above the real figure
        /// would refine more than it needs).
        #[test]
        fn the_first_stage_is_within_its_margin_of_the_peak() {
            let refiner = Refiner::shared();
            let mut worst = 0.0f32;
            for (name, x) in signals() {
                let mut padded = vec![0.0f32; HISTORY];
                padded.extend_from_slice(&x);
                padded.extend_from_slice(&[0.0; HISTORY]);
                let mut tp = TruePeak::new(FS as f32, 512);
                let mut peaks = Vec::new();
                for chunk in x.chunks(512) {
                    tp.process(chunk, 0.0, 0.0, |p| peaks.push(p));
                }
                for peak in &peaks {
                    let at = ((peak.position + HISTORY as f64) * REFINER_STEPS as f64).round();
                    let at = at as i64;
                    let full = refiner.peak_near(&padded, at);
                    assert_eq!(full, peak.level, "{name}: the same refinement");
                    // The largest floor at which the first stage still goes on.
                    let (mut low, mut high) = (0.0f32, 2.0 * full + 1e-6);
                    for _ in 0..40 {
                        let mid = 0.5 * (low + high);
                        match refiner.peak_near_unless_below(&padded, at, mid) {
                            Some(_) => low = mid,
                            None => high = mid,
                        }
                    }
                    // The vertex is low / margin: how far under the peak it fell.
                    let vertex = low * db_to_amplitude(-COARSE_VERTEX_DB);
                    let short = 20.0 * (full / vertex).log10();
                    assert!(
                        short <= COARSE_VERTEX_DB,
                        "{name}: the vertex at {:.3} is {short:.4} dB under the peak",
                        peak.position
                    );
                    worst = worst.max(short);
                }
            }
            println!("largest shortfall of the first stage's vertex: {worst:.4} dB");
            assert!(
                worst > 0.25 * COARSE_VERTEX_DB,
                "the margin is slack: {worst} dB"
            );
        }

        /// The rows of a channel that refines only what could top its step (the plugin's
        /// running gate, 3 dB under the loudest so far) equal those of one that refines every
        /// local maximum, to 0.01 dB, on programmes whose steps fall from 0 to −60 dB so that
        /// most steps are far quieter than the session's loudest.
        #[test]
        fn pruned_rows_equal_refining_everything() {
            for (name, x) in signals() {
                let step = 1200; // 25 ms at 48 kHz: ten steps in each signal.
                let x: Vec<f32> = x
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| v * db_to_amplitude(-6.0 * (i / step) as f32))
                    .collect();
                // A clock whose 100 ms steps are `step` samples long.
                let clock = RowClock {
                    origin: 0,
                    sample_rate_hz: step as f64 * 10.0,
                };
                let run = |gate_of: &dyn Fn(f32) -> f32| {
                    let mut tp = TruePeak::new(FS as f32, 512);
                    tp.track_rows(clock);
                    let mut loudest = 0.0f32;
                    let mut rows = Vec::new();
                    for chunk in x.chunks(512) {
                        let block = tp.process(chunk, gate_of(loudest), f32::INFINITY, |_| {});
                        loudest = loudest.max(block.precise);
                        let done = tp.refined_until();
                        let open = tp.rows_mut().unwrap();
                        while open.oldest().1 as f64 <= done {
                            rows.push(open.close_oldest());
                        }
                    }
                    rows
                };
                let everything = run(&|_| 0.0);
                let pruned = run(&|loudest| loudest * db_to_amplitude(-GATE_MARGIN_DB));
                assert_eq!(everything.len(), pruned.len(), "{name}");
                assert!(everything.len() >= 9, "{name}: {} rows", everything.len());
                for (k, (all, some)) in everything.iter().zip(&pruned).enumerate() {
                    let db = 20.0 * (some / all).log10();
                    assert!(
                        db.abs() < 0.01,
                        "{name}, row {k}: {some} vs {all} ({db} dB)"
                    );
                }
            }
        }
    }

    mod positions {
        use super::*;

        /// Phase p at buffer index n estimates x(n − 5.875 + p/4) (the 48-tap prototype's centre,
        /// 23.5 taps at 4×, is 5.875 samples). On a fresh channel buffer index 96 is absolute
        /// sample 96: phase 0 is at (96 − 5.875)·64 = 5768 in 1/64ths, and each phase is 16 later.
        #[test]
        fn phase_positions_in_64ths_of_a_sample() {
            let tp = TruePeak::new(48_000.0, 64);
            assert_eq!(tp.phase_position(HISTORY, 0), 5768);
            assert_eq!(tp.phase_position(HISTORY, 1), 5784);
            assert_eq!(tp.phase_position(HISTORY, 2), 5800);
            assert_eq!(tp.phase_position(HISTORY, 3), 5816);
            assert_eq!(tp.phase_position(HISTORY + 1, 0), 5832);
        }

        /// With nothing pending, every peak is reported once it is REFINE_LAG = 24 + 8 = 32
        /// samples old: before any input that is sample −32, after 64 samples of silence it is
        /// sample 64 − 32 = 32.
        #[test]
        fn refined_until_lags_the_input_by_32_samples() {
            let mut tp = TruePeak::new(48_000.0, 64);
            assert_eq!(tp.refined_until(), -32.0);
            tp.process(&[0.0; 64], 0.5, 1.0, |_| {});
            assert_eq!(tp.refined_until(), 32.0);
        }
    }
}
