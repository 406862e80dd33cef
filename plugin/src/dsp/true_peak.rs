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
    /// spacings of 1/8, 1/32 and 1/64 of a sample, then the vertex of the parabola through the
    /// bracketing points. Never more than a parabola's vertex between evaluated points, so it
    /// cannot overshoot; climbs at most [`MAX_CLIMB`] steps per spacing (6 samples in all). Needs
    /// 31 samples of margin either side of the guess.
    pub fn peak_near(&self, x: &[f32], guess: i64) -> f32 {
        let sign = if self.at(x, guess) < 0.0 { -1.0 } else { 1.0 };
        let value = |pos: i64| sign * self.at(x, pos);
        let mut pos = guess;
        let mut middle = value(pos);
        for spacing in [8, 2, 1] {
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
                return middle.max(left).max(right);
            }
            let (offset, vertex) = parabola_vertex(left, middle, right);
            if spacing == 1 {
                return vertex;
            }
            let step = (offset * spacing as f32).round() as i64;
            if step != 0 {
                pos += step;
                middle = value(pos);
            }
        }
        middle
    }
}

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
    // Four partial sums let the compiler use the vector unit.
    let mut acc = [0.0f32; 4];
    for (ca, cb) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for lane in 0..4 {
            acc[lane] += ca[lane] * cb[lane];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
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
}

/// A refined peak: where (in samples since the stream began, fractional) and how high.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    pub position: f64,
    pub level: f32,
}

/// Samples kept from earlier blocks: the standard filter's 11, the refiner's reach, and the
/// coarse-to-refined lag, and the hill climb's reach.
const HISTORY: usize = 96;
/// Latest position (relative to the newest sample) a pending candidate can wait at: its
/// refinement climbs up to 6 samples and reads 24 more after that.
const REFINE_LAG: usize = REFINER_HALF + 8;

/// True-peak state of one channel.
pub struct TruePeak {
    refiner: &'static Refiner,
    bs1770_phases: usize,
    max_chunk: usize,
    /// `HISTORY` older samples, then the current chunk.
    buf: Vec<f32>,
    /// Absolute index of `buf[0]`; the stream's first sample has absolute index `HISTORY`.
    buf_start: i64,
    /// Coarse envelope of the previous two samples (max over phases), for local-maximum tests.
    env_prev: [f32; 2],
    /// Coarse time of the previous sample's envelope maximum, 1/64 samples.
    last_pos: i64,
    /// Coarse candidates waiting for enough future samples: (coarse time in 1/64 samples).
    pending: Vec<i64>,
    /// The block's loudest coarse point, refined at the end of the block whatever the gate.
    block_best: Option<(f32, i64)>,
}

impl TruePeak {
    /// State for one channel; processes chunks of at most `max_chunk` samples.
    pub fn new(sample_rate_hz: f32, max_chunk: usize) -> Self {
        Self {
            refiner: Refiner::shared(),
            bs1770_phases: bs1770_factor(sample_rate_hz),
            max_chunk,
            buf: vec![0.0; HISTORY + max_chunk],
            buf_start: 0,
            env_prev: [0.0; 2],
            last_pos: 0,
            pending: Vec::with_capacity(max_chunk + HISTORY),
            block_best: None,
        }
    }

    pub fn reset(&mut self) {
        self.buf.fill(0.0);
        self.buf_start = 0;
        self.env_prev = [0.0; 2];
        self.last_pos = 0;
        self.pending.clear();
        self.block_best = None;
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
        for (dst, &x) in self.buf[HISTORY..HISTORY + len].iter_mut().zip(input) {
            // A NaN or infinity must not poison the filter history.
            *dst = if x.is_finite() { x } else { 0.0 };
        }
        let mut peaks = self.coarse(len, gate);
        peaks.precise = peaks.sample;
        let newest = self.buf_start + (HISTORY + len) as i64;
        let ready_before = (newest - REFINE_LAG as i64) * REFINER_STEPS as i64;
        let mut precise = 0.0f32;
        let mut kept = 0;
        for i in 0..self.pending.len() {
            let pos = self.pending[i];
            if pos >= ready_before {
                self.pending[kept] = pos;
                kept += 1;
                continue;
            }
            let peak = self.refine(pos);
            precise = precise.max(peak.level);
            if peak.level >= report_above {
                on_peak(peak);
            }
        }
        self.pending.truncate(kept);
        if let Some((_, pos)) = self.block_best.take() {
            if pos < ready_before {
                precise = precise.max(self.refine(pos).level);
            } else if !self.pending.contains(&pos) && self.pending.len() < self.pending.capacity() {
                self.pending.push(pos);
            }
        }
        peaks.precise = peaks.precise.max(precise);
        self.shift_history(len);
        peaks
    }

    /// The standard interpolator over the new samples: the BS.1770 reading, the sample peak, and
    /// the coarse local maxima that pass the gate (queued for refinement).
    fn coarse(&mut self, len: usize, gate: f32) -> BlockPeaks {
        let mut sample_peak = 0.0f32;
        let mut lane_max = [0.0f32; 4];
        let mut best = (0.0f32, 0i64);
        for n in HISTORY..HISTORY + len {
            let window = &self.buf[n + 1 - BS1770_TAPS..=n];
            let mut acc = [0.0f32; 4];
            for (k, &x) in window.iter().rev().enumerate() {
                for p in 0..4 {
                    acc[p] += BS1770_BANK[k][p] * x;
                }
            }
            let mut env = 0.0f32;
            let mut env_phase = 0;
            for p in 0..4 {
                let a = acc[p].abs();
                lane_max[p] = lane_max[p].max(a);
                if a > env {
                    env = a;
                    env_phase = p;
                }
            }
            sample_peak = sample_peak.max(self.buf[n].abs());
            let pos = self.coarse_position(n, env_phase);
            if env > best.0 {
                best = (env, pos);
            }
            // A local maximum of the envelope one sample back.
            let [older, prev] = self.env_prev;
            if prev >= older
                && prev > env
                && prev > gate
                && self.pending.len() < self.pending.capacity()
            {
                self.pending.push(self.last_pos);
            }
            self.env_prev = [prev, env];
            self.last_pos = pos;
        }
        if best.0 > 0.0 {
            self.block_best = Some(best);
        }
        let bs1770 = match self.bs1770_phases {
            4 => lane_max.iter().fold(0.0f32, |m, &v| m.max(v)),
            2 => lane_max[0].max(lane_max[2]),
            _ => 0.0,
        };
        BlockPeaks {
            sample: sample_peak,
            bs1770: bs1770.max(sample_peak),
            precise: 0.0,
        }
    }

    /// Time of phase `phase` at buffer index `n`, in 1/64ths of an absolute sample.
    fn coarse_position(&self, n: usize, phase: usize) -> i64 {
        let t = (self.buf_start + n as i64) as f64 - BS1770_PHASE0_DELAY + 0.25 * phase as f64;
        (t * REFINER_STEPS as f64).round() as i64
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
            .min()
            .map(|&p| p as f64 / REFINER_STEPS as f64);
        let horizon = (self.buf_start + HISTORY as i64 - REFINE_LAG as i64) as f64;
        oldest_pending.map_or(horizon, |p| p.min(horizon)) - HISTORY as f64
    }

    fn shift_history(&mut self, len: usize) {
        self.buf.copy_within(len..len + HISTORY, 0);
        self.buf_start += len as i64;
    }
}
