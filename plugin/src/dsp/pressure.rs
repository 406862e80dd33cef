//! The SPL meter's per-sample arithmetic for both ears at once: the rig's two pressure filters
//! (at the eardrum and diffuse-field equivalent) sharing one recursion, the A- and C-weightings,
//! the F and S time weightings and the running sums (docs/spl.md, "How it is computed").
//!
//! Layout, for speed (the budget is a fraction of a per cent of a core): the rig's filter is the
//! audition's fixed-pole bank; its 24 sections run for both channels side by side, eight lanes
//! (four sections × two channels), and both pressure outputs are weighted sums of the same
//! states. The state is f64 as in the audio path: in f32 the direct-form coefficients cannot hold
//! the lowest poles at high rates (at 192 kHz the 20 Hz pole's angle lives in the 7th digit of
//! `a1`), which moved a reading by 0.025 dB in the test below. The six weighted signals (A at the eardrum, A diffuse-field, C at the eardrum, two ears each) then
//! run through one vector of three weighting sections, f64. Two kernels: the portable one, and the
//! same passes hand-written with 256-bit FMA intrinsics (chosen at run time on AVX2 + FMA; within
//! rounding of the portable one, tested). Nothing allocates.

use super::exposure::{EarTotals, FAST_S, NIOSH_INTERVAL_S, SLOW_S};
use super::limits::EARS;
use super::simd::flush_tiny;
use super::weighting::{Curve, Weighting};
use crate::design::bank::{Coefficients, FIR_TAPS, PoleSet, SECTIONS};
use crate::model::spl::{level_db, niosh_percent_per_s};

/// Recursion lanes: four sections of each of the two channels.
const LANES: usize = 8;
const PER_CHANNEL: usize = LANES / EARS;
const GROUPS: usize = SECTIONS / PER_CHANNEL;
const _: () = assert!(SECTIONS.is_multiple_of(PER_CHANNEL));
/// Weighting lanes: A at the eardrum (L, R), A diffuse-field (L, R), C at the eardrum (L, R), two
/// unused.
const W: usize = 8;
const A_EARDRUM: usize = 0;
const A_DIFFUSE: usize = 2;
const C_EARDRUM: usize = 4;
/// While the weights glide they are updated every this many samples.
const GLIDE_STEP: usize = 32;

/// One design's output weights in lane layout.
#[derive(Debug, Clone, Copy, Default)]
struct Weights {
    eardrum_b0: [[f64; LANES]; GROUPS],
    eardrum_b1: [[f64; LANES]; GROUPS],
    diffuse_b0: [[f64; LANES]; GROUPS],
    diffuse_b1: [[f64; LANES]; GROUPS],
    eardrum_fir: [f64; FIR_TAPS],
    diffuse_fir: [f64; FIR_TAPS],
    dc_zero: f64,
    dc_pole: f64,
}

/// Section `k` of channel `c` sits in group `k / 4`, lane `c·4 + k % 4`.
fn lanes(per_section: &[f64; SECTIONS]) -> [[f64; LANES]; GROUPS] {
    std::array::from_fn(|g| std::array::from_fn(|l| per_section[g * PER_CHANNEL + l % PER_CHANNEL]))
}

impl Weights {
    /// Both outputs share the DC section (the rig's coupling capacitor is in both).
    fn new(eardrum: &Coefficients, diffuse: &Coefficients) -> Self {
        Self {
            eardrum_b0: lanes(&eardrum.b0),
            eardrum_b1: lanes(&eardrum.b1),
            diffuse_b0: lanes(&diffuse.b0),
            diffuse_b1: lanes(&diffuse.b1),
            eardrum_fir: eardrum.fir,
            diffuse_fir: diffuse.fir,
            dc_zero: eardrum.dc_zero,
            dc_pole: eardrum.dc_pole,
        }
    }
}

/// The meter's memory, both ears.
#[derive(Debug, Clone, Copy)]
struct State {
    s1: [[f64; LANES]; GROUPS],
    s2: [[f64; LANES]; GROUPS],
    /// DC section u[n−1] and FIR inputs v[n−1], v[n−2], per channel.
    u1: [f64; EARS],
    v1: [f64; EARS],
    v2: [f64; EARS],
    /// Weighting sections' states.
    w1: [[f64; W]; 3],
    w2: [[f64; W]; 3],
    /// Exponential averages of the squares: `fast` holds LAF (A eardrum), LAS diffuse and LCS;
    /// `slow` holds LAS at the eardrum (lanes 0, 1).
    fast: [f64; W],
    slow: [f64; W],
}

impl Default for State {
    fn default() -> Self {
        Self {
            s1: [[0.0; LANES]; GROUPS],
            s2: [[0.0; LANES]; GROUPS],
            u1: [0.0; EARS],
            v1: [0.0; EARS],
            v2: [0.0; EARS],
            w1: [[0.0; W]; 3],
            w2: [[0.0; W]; 3],
            fast: [0.0; W],
            slow: [0.0; W],
        }
    }
}

/// What one run of samples adds up to.
#[derive(Debug, Clone, Copy, Default)]
struct RunSums {
    /// Σ square, lanes 0–3 (A eardrum, A diffuse).
    squares: [f64; W],
    /// max |p_C|, lanes 4–5; max LAF mean square, lanes 0–1.
    peak: [f64; W],
    laf_max: [f64; W],
}

/// Constant inputs of the kernel.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    a1: [[f64; LANES]; GROUPS],
    a2: [[f64; LANES]; GROUPS],
    /// Weighting sections `[b0, b1, b2, a1, a2]` per lane.
    weighting: [[[f64; W]; 5]; 3],
    fast_coef: [f64; W],
    slow_coef: [f64; W],
}

type Kernel = fn(&Fixed, &Weights, &mut State, [&[f32]; EARS], &mut RunSums);

/// The rig's pressure at both eardrums, weighted, time-weighted and summed.
#[derive(Debug, Clone)]
pub struct PressureMeter {
    sample_period_s: f64,
    fixed: Fixed,
    state: State,
    weights: Weights,
    /// The glide between designs: (eardrum, diffuse) at its start and end.
    start: (Coefficients, Coefficients),
    target: (Coefficients, Coefficients),
    ramp_len: u32,
    samples_left: u32,
    totals: [EarTotals; EARS],
    /// The running NIOSH interval: diffuse-field A energy per ear (Pa²s) and its samples.
    interval_pa2s: [f64; EARS],
    interval_samples: u32,
    interval_len: u32,
    kernel: Kernel,
}

impl PressureMeter {
    /// A meter at `sample_rate_hz` with no filter yet (silence until [`Self::settle`]); design
    /// changes glide over `ramp_samples`.
    pub fn new(sample_rate_hz: f64, ramp_samples: u32) -> Self {
        let poles = PoleSet::new(sample_rate_hz);
        let a = Weighting::new(Curve::A, sample_rate_hz).cascade();
        let c = Weighting::new(Curve::C, sample_rate_hz).cascade();
        let weighting = std::array::from_fn(|k| {
            std::array::from_fn(|i| {
                std::array::from_fn(|l| match l {
                    0..4 => a[k][i],
                    4..6 => c[k][i],
                    // Unused lanes: silence through an identity.
                    _ => [1.0, 0.0, 0.0, 0.0, 0.0][i],
                })
            })
        });
        let fast = 1.0 - (-1.0 / (FAST_S * sample_rate_hz)).exp();
        let slow = 1.0 - (-1.0 / (SLOW_S * sample_rate_hz)).exp();
        let silent = Coefficients {
            fir: [0.0; FIR_TAPS],
            ..Coefficients::IDENTITY
        };
        Self {
            sample_period_s: 1.0 / sample_rate_hz,
            fixed: Fixed {
                a1: lanes(&poles.a1),
                a2: lanes(&poles.a2),
                weighting,
                fast_coef: [fast, fast, slow, slow, slow, slow, 0.0, 0.0],
                slow_coef: [slow, slow, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            },
            state: State::default(),
            weights: Weights::new(&silent, &silent),
            start: (silent, silent),
            target: (silent, silent),
            ramp_len: ramp_samples.max(1),
            samples_left: 0,
            totals: [EarTotals::default(); EARS],
            interval_pa2s: [0.0; EARS],
            interval_samples: 0,
            interval_len: (NIOSH_INTERVAL_S * sample_rate_hz).round().max(1.0) as u32,
            kernel: kernel(),
        }
    }

    /// Take these filters at once (pascals per unit of the input).
    pub fn settle(&mut self, eardrum: &Coefficients, diffuse: &Coefficients) {
        self.target = (*eardrum, *diffuse);
        self.start = self.target;
        self.samples_left = 0;
        self.weights = Weights::new(eardrum, diffuse);
    }

    /// Glide to these filters.
    pub fn set_target(&mut self, eardrum: &Coefficients, diffuse: &Coefficients) {
        let t = 1.0 - f64::from(self.samples_left) / f64::from(self.ramp_len);
        self.start = (
            self.start.0.lerp(&self.target.0, t),
            self.start.1.lerp(&self.target.1, t),
        );
        self.target = (*eardrum, *diffuse);
        self.samples_left = self.ramp_len;
    }

    /// Forget the signal (filters and time weightings); the totals stay.
    pub fn clear_history(&mut self) {
        self.state = State::default();
    }

    /// The totals since the last reset (the NIOSH dose with the running interval counted at its
    /// own level).
    pub fn totals(&self) -> [EarTotals; EARS] {
        let partial_s = f64::from(self.interval_samples) * self.sample_period_s;
        std::array::from_fn(|e| {
            let partial = if partial_s > 0.0 {
                niosh_percent_per_s(level_db(self.interval_pa2s[e] / partial_s)) * partial_s
            } else {
                0.0
            };
            EarTotals {
                niosh_percent: self.totals[e].niosh_percent + partial,
                ..self.totals[e]
            }
        })
    }

    /// Continue from `totals` (a reset is the default); no transient.
    pub fn restore(&mut self, totals: &[EarTotals; EARS]) {
        self.totals = *totals;
        self.interval_pa2s = [0.0; EARS];
        self.interval_samples = 0;
    }

    /// The time-weighted mean squares now, per ear: (LAF, LAS, LCS, LAS diffuse), Pa².
    pub fn mean_squares(&self, ear: usize) -> [f64; 4] {
        let s = &self.state;
        [
            s.fast[A_EARDRUM + ear],
            s.slow[A_EARDRUM + ear],
            s.fast[C_EARDRUM + ear],
            s.fast[A_DIFFUSE + ear],
        ]
    }

    /// Meter one block: `ears[e]` is what leaves the plugin for ear `e` (a mono feed gives one
    /// slice; the other ear then stays silent); `leak_pa2` is a diffuse-field A-weighted mean
    /// square added to the exposure (the stage leak; 0 without).
    pub fn process(&mut self, ears: &[&[f32]], leak_pa2: f64) {
        let len = ears.first().map_or(0, |c| c.len());
        let mut start = 0;
        while start < len {
            let to_interval = (self.interval_len - self.interval_samples) as usize;
            let mut end = (start + to_interval).min(len);
            if self.samples_left > 0 {
                end = end.min(start + GLIDE_STEP);
                let step = (end - start) as u32;
                self.samples_left = self.samples_left.saturating_sub(step);
                let t = 1.0 - f64::from(self.samples_left) / f64::from(self.ramp_len);
                self.weights = Weights::new(
                    &self.start.0.lerp(&self.target.0, t),
                    &self.start.1.lerp(&self.target.1, t),
                );
            }
            let silence = [0.0f32; 0];
            let run = |e: usize| ears.get(e).map_or(&silence[..], |c| &c[start..end]);
            let mut sums = RunSums::default();
            (self.kernel)(
                &self.fixed,
                &self.weights,
                &mut self.state,
                [run(0), run(1)],
                &mut sums,
            );
            self.add(&sums, end - start, leak_pa2);
            start = end;
        }
        flush(&mut self.state);
    }

    /// Book a run of `n` samples.
    fn add(&mut self, sums: &RunSums, n: usize, leak_pa2: f64) {
        let dt = self.sample_period_s;
        let seconds = n as f64 * dt;
        for (e, t) in self.totals.iter_mut().enumerate() {
            let diffuse = sums.squares[A_DIFFUSE + e] * dt + leak_pa2 * seconds;
            t.eardrum_pa2s += sums.squares[A_EARDRUM + e] * dt;
            t.diffuse_pa2s += diffuse;
            t.peak_c_pa = t.peak_c_pa.max(sums.peak[C_EARDRUM + e]);
            t.laf_max_pa2 = t.laf_max_pa2.max(sums.laf_max[A_EARDRUM + e]);
            self.interval_pa2s[e] += diffuse;
        }
        self.interval_samples += n as u32;
        if self.interval_samples >= self.interval_len {
            let interval_s = f64::from(self.interval_samples) * dt;
            for (t, energy) in self.totals.iter_mut().zip(&mut self.interval_pa2s) {
                t.niosh_percent += niosh_percent_per_s(level_db(*energy / interval_s)) * interval_s;
                *energy = 0.0;
            }
            self.interval_samples = 0;
        }
    }
}

/// Tiny states to zero (`simd::FLUSH_BELOW`); once a block.
fn flush(st: &mut State) {
    let tiny = flush_tiny;
    st.s1.iter_mut().chain(&mut st.s2).flatten().for_each(tiny);
    st.w1.iter_mut().chain(&mut st.w2).flatten().for_each(tiny);
    st.fast.iter_mut().chain(&mut st.slow).for_each(tiny);
    st.u1
        .iter_mut()
        .chain(&mut st.v1)
        .chain(&mut st.v2)
        .for_each(tiny);
}

/// Both passes over a run, by the portable code or the hand-written AVX2 code (`WIDE`).
#[inline(always)]
fn kernel_generic<const WIDE: bool>(
    fixed: &Fixed,
    weights: &Weights,
    st: &mut State,
    ears: [&[f32]; EARS],
    sums: &mut RunSums,
) {
    let n = ears[0].len().max(ears[1].len());
    let mut start = 0;
    // Two passes per piece: the pressures first, then the weightings; each loop stays small
    // enough for the processor to overlap successive samples.
    let mut pressure = [[0.0f64; W]; PIECE];
    while start < n {
        let m = (n - start).min(PIECE);
        #[cfg(target_arch = "x86_64")]
        if WIDE {
            // SAFETY: `WIDE` is only set by `kernel_avx2`, chosen on a CPU with AVX2 and FMA.
            unsafe {
                pressures_wide(fixed, weights, st, ears, start, &mut pressure[..m]);
                weigh_wide(fixed, st, &pressure[..m], sums);
            }
            start += m;
            continue;
        }
        pressures(fixed, weights, st, ears, start, &mut pressure[..m]);
        weigh(fixed, st, &mut pressure[..m], sums);
        start += m;
    }
}

/// Samples per pass of [`kernel_generic`].
const PIECE: usize = 64;

/// The rig's pressures for samples `start..start + out.len()`, into the weighting lanes.
#[inline(always)]
fn pressures(
    fixed: &Fixed,
    weights: &Weights,
    st: &mut State,
    ears: [&[f32]; EARS],
    start: usize,
    out: &mut [[f64; W]],
) {
    let (q, p) = (weights.dc_zero, weights.dc_pole);
    for (i, y) in out.iter_mut().enumerate() {
        let mut v = [0.0f64; EARS];
        for c in 0..EARS {
            let x = ears[c].get(start + i).copied().unwrap_or(0.0);
            // A NaN or infinity enters as silence (it would poison every sum for good).
            let x = if x.is_finite() { f64::from(x) } else { 0.0 };
            let u = x + p * st.u1[c];
            v[c] = u - q * st.u1[c];
            st.u1[c] = u;
        }
        let input: [f64; LANES] = std::array::from_fn(|l| v[l / PER_CHANNEL]);
        let mut eardrum = [0.0f64; LANES];
        let mut diffuse = [0.0f64; LANES];
        for g in 0..GROUPS {
            for l in 0..LANES {
                // The s[n−2] term first: the recursion's latency is what limits the speed.
                let s = input[l] - fixed.a2[g][l] * st.s2[g][l] - fixed.a1[g][l] * st.s1[g][l];
                eardrum[l] += weights.eardrum_b0[g][l] * s + weights.eardrum_b1[g][l] * st.s1[g][l];
                diffuse[l] += weights.diffuse_b0[g][l] * s + weights.diffuse_b1[g][l] * st.s1[g][l];
                st.s2[g][l] = st.s1[g][l];
                st.s1[g][l] = s;
            }
        }
        *y = [0.0f64; W];
        for c in 0..EARS {
            let lanes = c * PER_CHANNEL..(c + 1) * PER_CHANNEL;
            let fir =
                |taps: &[f64; FIR_TAPS]| taps[0] * v[c] + taps[1] * st.v1[c] + taps[2] * st.v2[c];
            let e = eardrum[lanes.clone()].iter().sum::<f64>() + fir(&weights.eardrum_fir);
            let d = diffuse[lanes].iter().sum::<f64>() + fir(&weights.diffuse_fir);
            y[A_EARDRUM + c] = e;
            y[A_DIFFUSE + c] = d;
            y[C_EARDRUM + c] = e;
            st.v2[c] = st.v1[c];
            st.v1[c] = v[c];
        }
    }
}

/// The weightings, the time weightings and the sums over a piece of pressures.
#[inline(always)]
fn weigh(fixed: &Fixed, st: &mut State, pressure: &mut [[f64; W]], sums: &mut RunSums) {
    let (mut w1, mut w2) = (st.w1, st.w2);
    let (mut fast, mut slow) = (st.fast, st.slow);
    let mut acc = *sums;
    for y in pressure.iter_mut() {
        for k in 0..3 {
            let [b0, b1, b2, a1, a2] = &fixed.weighting[k];
            for l in 0..W {
                let out = b0[l] * y[l] + w1[k][l];
                w1[k][l] = b1[l] * y[l] - a1[l] * out + w2[k][l];
                w2[k][l] = b2[l] * y[l] - a2[l] * out;
                y[l] = out;
            }
        }
        for l in 0..W {
            let sq = y[l] * y[l];
            fast[l] += (sq - fast[l]) * fixed.fast_coef[l];
            slow[l] += (sq - slow[l]) * fixed.slow_coef[l];
            acc.squares[l] += sq;
            let a = y[l].abs();
            acc.peak[l] = if a > acc.peak[l] { a } else { acc.peak[l] };
            acc.laf_max[l] = if fast[l] > acc.laf_max[l] {
                fast[l]
            } else {
                acc.laf_max[l]
            };
        }
    }
    (st.w1, st.w2, st.fast, st.slow) = (w1, w2, fast, slow);
    *sums = acc;
}

fn kernel_portable(
    fixed: &Fixed,
    weights: &Weights,
    st: &mut State,
    ears: [&[f32]; EARS],
    sums: &mut RunSums,
) {
    kernel_generic::<false>(fixed, weights, st, ears, sums)
}

/// The same kernel where LLVM may use 256-bit vectors (and fused multiply-adds where it chooses).
///
/// # Safety
/// Only on a CPU with AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn kernel_avx2(
    fixed: &Fixed,
    weights: &Weights,
    st: &mut State,
    ears: [&[f32]; EARS],
    sums: &mut RunSums,
) {
    kernel_generic::<true>(fixed, weights, st, ears, sums)
}

/// [`pressures`] with each group of four sections of a channel in one 256-bit register and fused
/// multiply-adds: the same arithmetic as the audio path's bank kernel, both channels and both
/// outputs per sample.
///
/// # Safety
/// Only from a function compiled with AVX2 and FMA, on a CPU that has them.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn pressures_wide(
    fixed: &Fixed,
    weights: &Weights,
    st: &mut State,
    ears: [&[f32]; EARS],
    start: usize,
    out: &mut [[f64; W]],
) {
    use std::arch::x86_64::{
        __m256d, _mm256_fmadd_pd, _mm256_fnmadd_pd, _mm256_loadu_pd, _mm256_mul_pd, _mm256_set1_pd,
        _mm256_storeu_pd,
    };
    // SAFETY (every load and store below): the pointers are to `[f64; LANES]` arrays, read or
    // written four at a time at offset 0 (channel 0) or 4 (channel 1), unaligned forms.
    let load = |a: &[f64; LANES], c: usize| unsafe { _mm256_loadu_pd(a.as_ptr().add(4 * c)) };
    let a1: [__m256d; GROUPS] = std::array::from_fn(|g| load(&fixed.a1[g], 0));
    let a2: [__m256d; GROUPS] = std::array::from_fn(|g| load(&fixed.a2[g], 0));
    let mut s1: [[__m256d; GROUPS]; EARS] =
        std::array::from_fn(|c| std::array::from_fn(|g| load(&st.s1[g], c)));
    let mut s2: [[__m256d; GROUPS]; EARS] =
        std::array::from_fn(|c| std::array::from_fn(|g| load(&st.s2[g], c)));
    // SAFETY (both): the caller guarantees AVX.
    let hsum = |v: __m256d| unsafe { super::simd::horizontal_sum(v) };
    let tree = |level: [__m256d; GROUPS]| unsafe { super::simd::sum_tree(level) };
    let (q, p) = (weights.dc_zero, weights.dc_pole);
    for (i, y) in out.iter_mut().enumerate() {
        *y = [0.0f64; W];
        for c in 0..EARS {
            let x = ears[c].get(start + i).copied().unwrap_or(0.0);
            // A NaN or infinity enters as silence (it would poison every sum for good).
            let x = if x.is_finite() { f64::from(x) } else { 0.0 };
            let u = p.mul_add(st.u1[c], x);
            let v = u - q * st.u1[c];
            st.u1[c] = u;
            let vv = unsafe { _mm256_set1_pd(v) };
            let mut eardrum = [unsafe { _mm256_set1_pd(0.0) }; GROUPS];
            let mut diffuse = eardrum;
            for g in 0..GROUPS {
                unsafe {
                    let s =
                        _mm256_fnmadd_pd(a1[g], s1[c][g], _mm256_fnmadd_pd(a2[g], s2[c][g], vv));
                    eardrum[g] = _mm256_fmadd_pd(
                        load(&weights.eardrum_b0[g], c),
                        s,
                        _mm256_mul_pd(load(&weights.eardrum_b1[g], c), s1[c][g]),
                    );
                    diffuse[g] = _mm256_fmadd_pd(
                        load(&weights.diffuse_b0[g], c),
                        s,
                        _mm256_mul_pd(load(&weights.diffuse_b1[g], c), s1[c][g]),
                    );
                    s2[c][g] = s1[c][g];
                    s1[c][g] = s;
                }
            }
            let fir = |t: &[f64; FIR_TAPS]| t[0] * v + t[1] * st.v1[c] + t[2] * st.v2[c];
            let e = hsum(tree(eardrum)) + fir(&weights.eardrum_fir);
            let d = hsum(tree(diffuse)) + fir(&weights.diffuse_fir);
            y[A_EARDRUM + c] = e;
            y[A_DIFFUSE + c] = d;
            y[C_EARDRUM + c] = e;
            st.v2[c] = st.v1[c];
            st.v1[c] = v;
        }
    }
    for c in 0..EARS {
        for g in 0..GROUPS {
            // SAFETY: as for the loads.
            unsafe {
                _mm256_storeu_pd(st.s1[g].as_mut_ptr().add(4 * c), s1[c][g]);
                _mm256_storeu_pd(st.s2[g].as_mut_ptr().add(4 * c), s2[c][g]);
            }
        }
    }
}

/// [`weigh`] with the eight lanes in two 256-bit registers and fused multiply-adds (LLVM does not
/// vectorise the portable loop across the lanes).
///
/// # Safety
/// Only from a function compiled with AVX2 and FMA, on a CPU that has them.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn weigh_wide(fixed: &Fixed, st: &mut State, pressure: &[[f64; W]], sums: &mut RunSums) {
    use std::arch::x86_64::{
        __m256d, _mm256_andnot_pd, _mm256_fmadd_pd, _mm256_fnmadd_pd, _mm256_loadu_pd,
        _mm256_max_pd, _mm256_mul_pd, _mm256_set1_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    const H: usize = W / 4;
    // SAFETY (every load and store below): the pointers are to `[f64; W]` arrays, read or written
    // four at a time at offsets 0 and 4, unaligned forms.
    let load = |a: &[f64; W]| -> [__m256d; H] {
        std::array::from_fn(|h| unsafe { _mm256_loadu_pd(a.as_ptr().add(4 * h)) })
    };
    let store = |v: [__m256d; H], a: &mut [f64; W]| {
        for (h, v) in v.into_iter().enumerate() {
            unsafe { _mm256_storeu_pd(a.as_mut_ptr().add(4 * h), v) }
        }
    };
    let coef: [[[__m256d; H]; 5]; 3] =
        std::array::from_fn(|k| std::array::from_fn(|i| load(&fixed.weighting[k][i])));
    let mut w1: [[__m256d; H]; 3] = std::array::from_fn(|k| load(&st.w1[k]));
    let mut w2: [[__m256d; H]; 3] = std::array::from_fn(|k| load(&st.w2[k]));
    let (mut fast, mut slow) = (load(&st.fast), load(&st.slow));
    let (fast_coef, slow_coef) = (load(&fixed.fast_coef), load(&fixed.slow_coef));
    let (mut squares, mut peak, mut laf_max) =
        (load(&sums.squares), load(&sums.peak), load(&sums.laf_max));
    let sign = unsafe { _mm256_set1_pd(-0.0) };
    for y in pressure {
        let mut y = load(y);
        for k in 0..3 {
            let [b0, b1, b2, a1, a2] = &coef[k];
            for h in 0..H {
                unsafe {
                    let out = _mm256_fmadd_pd(b0[h], y[h], w1[k][h]);
                    w1[k][h] = _mm256_fnmadd_pd(a1[h], out, _mm256_fmadd_pd(b1[h], y[h], w2[k][h]));
                    w2[k][h] = _mm256_fnmadd_pd(a2[h], out, _mm256_mul_pd(b2[h], y[h]));
                    y[h] = out;
                }
            }
        }
        for h in 0..H {
            unsafe {
                let sq = _mm256_mul_pd(y[h], y[h]);
                fast[h] = _mm256_fmadd_pd(_mm256_sub_pd(sq, fast[h]), fast_coef[h], fast[h]);
                slow[h] = _mm256_fmadd_pd(_mm256_sub_pd(sq, slow[h]), slow_coef[h], slow[h]);
                squares[h] = std::arch::x86_64::_mm256_add_pd(squares[h], sq);
                peak[h] = _mm256_max_pd(peak[h], _mm256_andnot_pd(sign, y[h]));
                laf_max[h] = _mm256_max_pd(laf_max[h], fast[h]);
            }
        }
    }
    for k in 0..3 {
        store(w1[k], &mut st.w1[k]);
        store(w2[k], &mut st.w2[k]);
    }
    store(fast, &mut st.fast);
    store(slow, &mut st.slow);
    store(squares, &mut sums.squares);
    store(peak, &mut sums.peak);
    store(laf_max, &mut sums.laf_max);
}

/// The fastest kernel this CPU runs (chosen once, at construction).
fn kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has just been found to support AVX2 and FMA.
            return |f, w, st, e, s| unsafe { kernel_avx2(f, w, st, e, s) };
        }
    }
    kernel_portable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::bank::BankFilter;

    /// The oracle: the audio path's f64 bank for each pressure filter, then the IEC weighting
    /// filters one sample at a time, summed in the plainest way.
    struct Reference {
        eardrum: BankFilter,
        diffuse: BankFilter,
        a_eardrum: Weighting,
        a_diffuse: Weighting,
        c: Weighting,
        energy: [f64; 2],
        peak_c: f64,
    }

    fn design(fs: f64) -> (Coefficients, Coefficients) {
        let mut e = Coefficients::IDENTITY;
        let mut d = Coefficients::IDENTITY;
        for k in 0..SECTIONS {
            e.b0[k] = 0.02 * (k as f64 * 0.9).sin();
            e.b1[k] = -0.015 * (k as f64 * 0.4).cos();
            d.b0[k] = 0.01 * (k as f64 * 0.3).cos();
        }
        e.fir = [2.0, 0.1, 0.0];
        d.fir = [1.5, 0.0, -0.05];
        // A 3 Hz coupling capacitor.
        let pole = (-std::f64::consts::TAU * 3.0 / fs).exp();
        for c in [&mut e, &mut d] {
            c.dc_zero = 1.0;
            c.dc_pole = pole;
        }
        (e, d)
    }

    /// A meter whose pressure filters pass the input unchanged, in units of 1 mPa.
    fn identity_meter(fs: f64) -> PressureMeter {
        let mut mpa = Coefficients::IDENTITY;
        mpa.fir = [1e-3, 0.0, 0.0];
        let mut m = PressureMeter::new(fs, 1);
        m.settle(&mpa, &mpa);
        m
    }

    /// A sine at `spl_db` (RMS), `hz`, for `seconds`, in mPa.
    fn sine(spl_db: f64, hz: f64, fs: f64, seconds: f64) -> Vec<f32> {
        let peak = 20e-6 * 10f64.powf(spl_db / 20.0) * std::f64::consts::SQRT_2 * 1e3;
        (0..(fs * seconds) as usize)
            .map(|i| (peak * (std::f64::consts::TAU * hz * i as f64 / fs).sin()) as f32)
            .collect()
    }

    fn level(mean_square: f64) -> f64 {
        level_db(mean_square)
    }

    /// A 1 kHz sine (A = C = 0 dB there) at 94 dB SPL for a minute, after a settle: LAeq, LAF,
    /// LAS, LCS and LAF max read 94.0; LCpeak 94 + 3.01 dB; the NIOSH dose is the closed form.
    #[test]
    fn one_khz_sine() {
        let fs = 48_000.0;
        let mut m = identity_meter(fs);
        let x = sine(94.0, 1000.0, fs, 3.0);
        m.process(&[&x, &x], 0.0);
        m.restore(&[EarTotals::default(); EARS]);
        let x = sine(94.0, 1000.0, fs, 60.0);
        for chunk in x.chunks(64) {
            m.process(&[chunk, chunk], 0.0);
        }
        let t = m.totals()[1];
        assert!((level(t.eardrum_pa2s / 60.0) - 94.0).abs() < 0.01);
        assert!((level(t.peak_c_pa.powi(2)) - (94.0 + 20.0 * 2f64.sqrt().log10())).abs() < 0.01);
        for ms in m.mean_squares(1) {
            assert!((level(ms) - 94.0).abs() < 0.05, "{}", level(ms));
        }
        assert!((level(t.laf_max_pa2) - 94.0).abs() < 0.05);
        let expected = niosh_percent_per_s(94.0) * 60.0;
        assert!((t.niosh_percent / expected - 1.0).abs() < 0.003);
    }

    /// F responds in about 125 ms, S in about 1 s: 0.125 s after a 94 dB tone starts LAF has
    /// risen to 1 − 1/e of the power, LAS to only 1 − e^(−1/8) (IEC 61672-1 exponential averaging).
    #[test]
    fn time_weightings() {
        let fs = 48_000.0;
        let mut m = identity_meter(fs);
        let x = sine(94.0, 1000.0, fs, FAST_S);
        m.process(&[&x], 0.0);
        let [laf, las, _, _] = m.mean_squares(0);
        let rise = |frac: f64| 94.0 + 10.0 * frac.log10();
        assert!(
            (level(laf) - rise(1.0 - (-1.0f64).exp())).abs() < 0.1,
            "{}",
            level(laf)
        );
        assert!(
            (level(las) - rise(1.0 - (-0.125f64).exp())).abs() < 0.1,
            "{}",
            level(las)
        );
    }

    /// The stage leak adds to the diffuse-field exposure only, and to the dose interval by
    /// interval; a mono feed leaves the second ear silent; NaN and infinities count as silence.
    #[test]
    fn leak_mono_and_hostile_input() {
        use crate::model::spl::mean_square_pa2;
        let fs = 48_000.0;
        let mut m = identity_meter(fs);
        let mut x = vec![0.0f32; 60 * 48_000];
        x[5] = f32::NAN;
        x[6] = f32::INFINITY;
        for chunk in x.chunks(1000) {
            m.process(&[chunk], mean_square_pa2(80.0));
        }
        let t = m.totals();
        for ear in t {
            assert!((level(ear.diffuse_pa2s / 60.0) - 80.0).abs() < 1e-9);
            assert_eq!(ear.eardrum_pa2s, 0.0);
            assert!((ear.niosh_percent / (niosh_percent_per_s(80.0) * 60.0) - 1.0).abs() < 1e-9);
        }
    }

    /// Noise and tones through the lane kernel and through the oracle: the A energies and the C
    /// peak agree within 0.01 dB (the oracle's pressure is rounded to f32 on the way), at every
    /// kernel the CPU runs, at 44.1 and 192 kHz.
    #[test]
    fn agrees_with_the_f64_path() {
        for fs in [44_100.0, 192_000.0] {
            let (e, d) = design(fs);
            let mut rng = 0x1234_5678_u64;
            let mut noise = || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            };
            let n = (fs * 2.0) as usize;
            let left: Vec<f32> = (0..n)
                .map(|i| (0.3 * noise() + 0.2 * (0.01 * i as f64).sin()) as f32)
                .collect();
            let right: Vec<f32> = (0..n).map(|_| (0.1 * noise()) as f32).collect();
            let mut kernels: Vec<Kernel> = vec![kernel_portable];
            kernels.push(kernel());
            for k in kernels {
                let mut meter = PressureMeter::new(fs, 100);
                meter.kernel = k;
                meter.settle(&e, &d);
                for (l, r) in left.chunks(64).zip(right.chunks(64)) {
                    meter.process(&[l, r], 0.0);
                }
                let totals = meter.totals();
                for (ear, x) in [&left, &right].into_iter().enumerate() {
                    let mut r = Reference {
                        eardrum: BankFilter::new(fs, 1),
                        diffuse: BankFilter::new(fs, 1),
                        a_eardrum: Weighting::new(Curve::A, fs),
                        a_diffuse: Weighting::new(Curve::A, fs),
                        c: Weighting::new(Curve::C, fs),
                        energy: [0.0; 2],
                        peak_c: 0.0,
                    };
                    r.eardrum.settle(&e);
                    r.diffuse.settle(&d);
                    let (mut pe, mut pd) = (x.clone(), x.clone());
                    r.eardrum.process(&mut [&mut pe]);
                    r.diffuse.process(&mut [&mut pd]);
                    for (&a, &b) in pe.iter().zip(&pd) {
                        let ya = r.a_eardrum.tick(f64::from(a));
                        let yd = r.a_diffuse.tick(f64::from(b));
                        let yc = r.c.tick(f64::from(a));
                        r.energy[0] += ya * ya / fs;
                        r.energy[1] += yd * yd / fs;
                        r.peak_c = r.peak_c.max(yc.abs());
                    }
                    let db = |a: f64, b: f64| 10.0 * (a / b).log10();
                    let t = &totals[ear];
                    assert!(
                        db(t.eardrum_pa2s, r.energy[0]).abs() < 0.01,
                        "{fs} ear {ear}: {}",
                        db(t.eardrum_pa2s, r.energy[0])
                    );
                    assert!(
                        db(t.diffuse_pa2s, r.energy[1]).abs() < 0.01,
                        "{fs} ear {ear}: {}",
                        db(t.diffuse_pa2s, r.energy[1])
                    );
                    assert!(db(t.peak_c_pa.powi(2), r.peak_c.powi(2)).abs() < 0.01);
                }
            }
        }
    }
}
