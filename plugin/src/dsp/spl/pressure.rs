//! The SPL meter's per-sample arithmetic for both ears at once: the rig's two pressure filters
//! (at the eardrum and diffuse-field equivalent) sharing one recursion, the A- and C-weightings,
//! the F and S time weightings and the running sums (docs/spl.md, "How it is computed").
//!
//! Layout, for speed (the budget is a fraction of a per cent of a core): the rig's filter is the
//! audition's fixed-pole bank; its 24 sections run for both channels side by side, eight lanes
//! (four sections × two channels), and both pressure outputs are weighted sums of the same
//! states. The state is f64 as in the audio path: in f32 the direct-form coefficients cannot hold
//! the lowest poles at high rates (at 192 kHz the 20 Hz pole's angle lives in the 7th digit of
//! `a1`), which moved a reading by 0.025 dB in the test below. The six weighted signals (A at
//! the eardrum, A diffuse-field, C at the eardrum, two ears each) then run through two vectors of
//! three weighting sections, f64. The kernel is written once on the SIMD surface (`simd`) and
//! compiled for each instruction set; every set the CPU runs is tested against the portable one.
//! Nothing allocates.

use super::exposure::{EarTotals, FAST_S, NIOSH_INTERVAL_S, SLOW_S};
use super::weighting::{Curve, Weighting};
use crate::design::bank::{Coefficients, FIR_TAPS, PoleSet, SECTIONS};
use crate::dsp::limits::EARS;
use crate::dsp::simd::{F64x4, Isa, flush_tiny, kernel_per_isa};
use crate::model::spl::{level_db, niosh_percent_per_s};

/// Vector width: four sections of one channel, or four of the weighting lanes.
const LANES: usize = 4;
const GROUPS: usize = SECTIONS / LANES;
const _: () = assert!(SECTIONS.is_multiple_of(LANES));
/// Weighting lanes: A at the eardrum (L, R), A diffuse-field (L, R), C at the eardrum (L, R), two
/// unused; in [`HALVES`] vectors.
const W: usize = 8;
const HALVES: usize = W / LANES;
const A_EARDRUM: usize = 0;
const A_DIFFUSE: usize = 2;
const C_EARDRUM: usize = 4;
/// While the weights glide they are updated every this many samples.
const GLIDE_STEP: usize = 32;

/// Section groups of four: `[group][lane]`, section `group·4 + lane`.
type Groups = [[f64; LANES]; GROUPS];
/// The eight weighting lanes as two vectors.
type Wide = [[f64; LANES]; HALVES];

/// Lane `l` of the weighting lanes.
fn lane(v: &Wide, l: usize) -> f64 {
    v[l / LANES][l % LANES]
}

/// One design's output weights, per channel, in groups of four sections.
#[derive(Debug, Clone, Copy, Default)]
struct Weights {
    eardrum_b0: [Groups; EARS],
    eardrum_b1: [Groups; EARS],
    diffuse_b0: [Groups; EARS],
    diffuse_b1: [Groups; EARS],
    eardrum_fir: [[f64; FIR_TAPS]; EARS],
    diffuse_fir: [[f64; FIR_TAPS]; EARS],
    dc_zero: [f64; EARS],
    dc_pole: [f64; EARS],
}

/// Section `k` sits in group `k / 4`, lane `k % 4`.
fn groups(per_section: &[f64; SECTIONS]) -> Groups {
    std::array::from_fn(|g| std::array::from_fn(|l| per_section[g * LANES + l]))
}

/// A design per ear: (eardrum, diffuse-field).
type EarDesigns = ([Coefficients; EARS], [Coefficients; EARS]);

impl Weights {
    /// Per ear; both outputs share the ear's DC section (the rig's coupling capacitor is in both).
    fn new((eardrum, diffuse): &EarDesigns) -> Self {
        Self {
            eardrum_b0: eardrum.map(|c| groups(&c.b0)),
            eardrum_b1: eardrum.map(|c| groups(&c.b1)),
            diffuse_b0: diffuse.map(|c| groups(&c.b0)),
            diffuse_b1: diffuse.map(|c| groups(&c.b1)),
            eardrum_fir: eardrum.map(|c| c.fir),
            diffuse_fir: diffuse.map(|c| c.fir),
            dc_zero: eardrum.map(|c| c.dc_zero),
            dc_pole: eardrum.map(|c| c.dc_pole),
        }
    }
}

/// The designs a fraction `t` of the way from `a` to `b`.
fn lerp((ae, ad): &EarDesigns, (be, bd): &EarDesigns, t: f64) -> EarDesigns {
    (
        std::array::from_fn(|e| ae[e].lerp(&be[e], t)),
        std::array::from_fn(|e| ad[e].lerp(&bd[e], t)),
    )
}

/// The meter's memory, both ears.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct State {
    s1: [Groups; EARS],
    s2: [Groups; EARS],
    /// DC section u[n−1] and FIR inputs v[n−1], v[n−2], per channel.
    u1: [f64; EARS],
    v1: [f64; EARS],
    v2: [f64; EARS],
    /// Weighting sections' states.
    w1: [Wide; 3],
    w2: [Wide; 3],
    /// Exponential averages of the squares: `fast` holds LAF (A eardrum), LAS diffuse and LCS;
    /// `slow` holds LAS at the eardrum (lanes 0, 1).
    fast: Wide,
    slow: Wide,
}

/// What one run of samples adds up to.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct RunSums {
    /// Σ square, lanes 0–3 (A eardrum, A diffuse).
    squares: Wide,
    /// max |p_C|, lanes 4–5; max LAF mean square, lanes 0–1.
    peak: Wide,
    laf_max: Wide,
}

/// Constant inputs of the kernel.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    a1: Groups,
    a2: Groups,
    /// Weighting sections `[b0, b1, b2, a1, a2]` per lane.
    weighting: [[Wide; 5]; 3],
    fast_coef: Wide,
    slow_coef: Wide,
}

type Kernel = fn(&Fixed, &Weights, &mut State, [&[f32]; EARS], &mut RunSums);

/// The rig's pressure at both eardrums, weighted, time-weighted and summed.
#[derive(Debug, Clone)]
pub struct PressureMeter {
    sample_period_s: f64,
    fixed: Fixed,
    state: State,
    weights: Weights,
    /// The glide between designs: (eardrum, diffuse) per ear at its start and end.
    start: EarDesigns,
    target: EarDesigns,
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
                std::array::from_fn(|h| {
                    std::array::from_fn(|l| match h * LANES + l {
                        0..4 => a[k][i],
                        4..6 => c[k][i],
                        // Unused lanes: silence through an identity.
                        _ => [1.0, 0.0, 0.0, 0.0, 0.0][i],
                    })
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
                a1: groups(&poles.a1),
                a2: groups(&poles.a2),
                weighting,
                fast_coef: [[fast, fast, slow, slow], [slow, slow, 0.0, 0.0]],
                slow_coef: [[slow, slow, 0.0, 0.0], [0.0; LANES]],
            },
            state: State::default(),
            weights: Weights::new(&([silent; EARS], [silent; EARS])),
            start: ([silent; EARS], [silent; EARS]),
            target: ([silent; EARS], [silent; EARS]),
            ramp_len: ramp_samples.max(1),
            samples_left: 0,
            totals: [EarTotals::default(); EARS],
            interval_pa2s: [0.0; EARS],
            interval_samples: 0,
            interval_len: (NIOSH_INTERVAL_S * sample_rate_hz).round().max(1.0) as u32,
            kernel: select_kernel(Isa::detect()),
        }
    }

    /// Take these filters at once, per ear (pascals per unit of the input).
    pub fn settle(&mut self, eardrum: &[Coefficients; EARS], diffuse: &[Coefficients; EARS]) {
        self.target = (*eardrum, *diffuse);
        self.start = self.target;
        self.samples_left = 0;
        self.weights = Weights::new(&self.target);
    }

    /// Glide to these filters, per ear.
    pub fn set_target(&mut self, eardrum: &[Coefficients; EARS], diffuse: &[Coefficients; EARS]) {
        let t = 1.0 - f64::from(self.samples_left) / f64::from(self.ramp_len);
        self.start = lerp(&self.start, &self.target, t);
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
            lane(&s.fast, A_EARDRUM + ear),
            lane(&s.slow, A_EARDRUM + ear),
            lane(&s.fast, C_EARDRUM + ear),
            lane(&s.fast, A_DIFFUSE + ear),
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
                self.weights = Weights::new(&lerp(&self.start, &self.target, t));
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
            let diffuse = lane(&sums.squares, A_DIFFUSE + e) * dt + leak_pa2 * seconds;
            t.eardrum_pa2s += lane(&sums.squares, A_EARDRUM + e) * dt;
            t.diffuse_pa2s += diffuse;
            t.peak_c_pa = t.peak_c_pa.max(lane(&sums.peak, C_EARDRUM + e));
            t.laf_max_pa2 = t.laf_max_pa2.max(lane(&sums.laf_max, A_EARDRUM + e));
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
    st.s1
        .iter_mut()
        .chain(&mut st.s2)
        .flatten()
        .flatten()
        .for_each(tiny);
    st.w1
        .iter_mut()
        .chain(&mut st.w2)
        .flatten()
        .flatten()
        .for_each(tiny);
    st.fast
        .iter_mut()
        .chain(&mut st.slow)
        .flatten()
        .for_each(tiny);
    st.u1
        .iter_mut()
        .chain(&mut st.v1)
        .chain(&mut st.v2)
        .for_each(tiny);
}

/// Both passes over a run, written once on the SIMD surface.
#[inline(always)]
fn kernel<S: F64x4>(
    simd: S,
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
    let mut pressure = [[[0.0f64; LANES]; HALVES]; PIECE];
    while start < n {
        let m = (n - start).min(PIECE);
        pressures(simd, fixed, weights, st, ears, start, &mut pressure[..m]);
        weigh(simd, fixed, st, &pressure[..m], sums);
        start += m;
    }
}

/// Samples per pass of [`kernel`].
const PIECE: usize = 64;

/// The rig's pressures for samples `start..start + out.len()`, into the weighting lanes: each
/// group of four sections of a channel in one vector, both outputs per sample (the audio path's
/// bank arithmetic).
#[inline(always)]
fn pressures<S: F64x4>(
    simd: S,
    fixed: &Fixed,
    weights: &Weights,
    st: &mut State,
    ears: [&[f32]; EARS],
    start: usize,
    out: &mut [Wide],
) {
    let a1: [S::V; GROUPS] = std::array::from_fn(|g| simd.load(&fixed.a1[g]));
    let a2: [S::V; GROUPS] = std::array::from_fn(|g| simd.load(&fixed.a2[g]));
    let load = |a: &[Groups; EARS]| -> [[S::V; GROUPS]; EARS] {
        std::array::from_fn(|c| std::array::from_fn(|g| simd.load(&a[c][g])))
    };
    let (mut s1, mut s2) = (load(&st.s1), load(&st.s2));
    for (i, y) in out.iter_mut().enumerate() {
        *y = [[0.0; LANES]; HALVES];
        for c in 0..EARS {
            let (q, p) = (weights.dc_zero[c], weights.dc_pole[c]);
            let x = ears[c].get(start + i).copied().unwrap_or(0.0);
            // A NaN or infinity enters as silence (it would poison every sum for good).
            let x = if x.is_finite() { f64::from(x) } else { 0.0 };
            let u = simd.mul_add_scalar(p, st.u1[c], x);
            let v = u - q * st.u1[c];
            st.u1[c] = u;
            let vv = simd.splat(v);
            let mut eardrum = [vv; GROUPS];
            let mut diffuse = [vv; GROUPS];
            for g in 0..GROUPS {
                // The s[n−2] term first: the recursion's latency is what limits the speed.
                let s = simd.neg_mul_add(a1[g], s1[c][g], simd.neg_mul_add(a2[g], s2[c][g], vv));
                let share = |b0: &[Groups; EARS], b1: &[Groups; EARS]| {
                    let b1s = simd.mul(simd.load(&b1[c][g]), s1[c][g]);
                    simd.mul_add(simd.load(&b0[c][g]), s, b1s)
                };
                eardrum[g] = share(&weights.eardrum_b0, &weights.eardrum_b1);
                diffuse[g] = share(&weights.diffuse_b0, &weights.diffuse_b1);
                s2[c][g] = s1[c][g];
                s1[c][g] = s;
            }
            let fir = |t: &[f64; FIR_TAPS]| t[0] * v + t[1] * st.v1[c] + t[2] * st.v2[c];
            let sum = |v: [S::V; GROUPS]| simd.horizontal_sum(simd.sum_tree(v));
            let e = sum(eardrum) + fir(&weights.eardrum_fir[c]);
            let d = sum(diffuse) + fir(&weights.diffuse_fir[c]);
            for (l, value) in [(A_EARDRUM + c, e), (A_DIFFUSE + c, d), (C_EARDRUM + c, e)] {
                y[l / LANES][l % LANES] = value;
            }
            st.v2[c] = st.v1[c];
            st.v1[c] = v;
        }
    }
    for c in 0..EARS {
        for g in 0..GROUPS {
            simd.store(s1[c][g], &mut st.s1[c][g]);
            simd.store(s2[c][g], &mut st.s2[c][g]);
        }
    }
}

/// The weightings, the time weightings and the sums over a piece of pressures, the eight lanes in
/// two vectors.
#[inline(always)]
fn weigh<S: F64x4>(simd: S, fixed: &Fixed, st: &mut State, pressure: &[Wide], sums: &mut RunSums) {
    let load = |a: &Wide| -> [S::V; HALVES] { std::array::from_fn(|h| simd.load(&a[h])) };
    let store = |v: [S::V; HALVES], a: &mut Wide| {
        for (h, v) in v.into_iter().enumerate() {
            simd.store(v, &mut a[h]);
        }
    };
    let coef: [[[S::V; HALVES]; 5]; 3] =
        std::array::from_fn(|k| std::array::from_fn(|i| load(&fixed.weighting[k][i])));
    let mut w1: [[S::V; HALVES]; 3] = std::array::from_fn(|k| load(&st.w1[k]));
    let mut w2: [[S::V; HALVES]; 3] = std::array::from_fn(|k| load(&st.w2[k]));
    let (mut fast, mut slow) = (load(&st.fast), load(&st.slow));
    let (fast_coef, slow_coef) = (load(&fixed.fast_coef), load(&fixed.slow_coef));
    let (mut squares, mut peak, mut laf_max) =
        (load(&sums.squares), load(&sums.peak), load(&sums.laf_max));
    for y in pressure {
        let mut y = load(y);
        for k in 0..3 {
            let [b0, b1, b2, a1, a2] = &coef[k];
            for h in 0..HALVES {
                let out = simd.mul_add(b0[h], y[h], w1[k][h]);
                w1[k][h] = simd.neg_mul_add(a1[h], out, simd.mul_add(b1[h], y[h], w2[k][h]));
                w2[k][h] = simd.neg_mul_add(a2[h], out, simd.mul(b2[h], y[h]));
                y[h] = out;
            }
        }
        for h in 0..HALVES {
            let sq = simd.mul(y[h], y[h]);
            fast[h] = simd.mul_add(simd.sub(sq, fast[h]), fast_coef[h], fast[h]);
            slow[h] = simd.mul_add(simd.sub(sq, slow[h]), slow_coef[h], slow[h]);
            squares[h] = simd.add(squares[h], sq);
            peak[h] = simd.max(peak[h], simd.abs(y[h]));
            laf_max[h] = simd.max(laf_max[h], fast[h]);
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

kernel_per_isa! {
    /// The meter's kernel for an instruction set.
    fn select_kernel(
        fixed: &Fixed,
        weights: &Weights,
        st: &mut State,
        ears: [&[f32]; EARS],
        sums: &mut RunSums,
    ) = kernel;
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
        m.settle(&[mpa; EARS], &[mpa; EARS]);
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
        // The peak of the sampled weighted sine: its crest, or up to cos(π·f/fs) below it where
        // no sample lands on the crest (−0.019 dB at 1 kHz and 48 kHz), whatever the phase.
        let crest = 94.0 + 20.0 * 2f64.sqrt().log10();
        let between = 20.0 * (std::f64::consts::PI * 1000.0 / fs).cos().log10();
        let peak = level(t.peak_c_pa.powi(2));
        assert!(
            (crest + between - 0.001..=crest + 0.001).contains(&peak),
            "LCpeak {peak:.4} dB, the crest {crest:.4}"
        );
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

    /// Each ear through its own design: both ears at once read what a meter with that ear's
    /// design alone reads, bit for bit.
    #[test]
    fn each_ear_its_own_design() {
        let fs = 48_000.0;
        let (e, d) = design(fs);
        let mut e2 = e;
        e2.b0.iter_mut().chain(&mut e2.fir).for_each(|b| *b *= 1.7);
        e2.dc_pole = (-std::f64::consts::TAU * 9.0 / fs).exp();
        let x: Vec<f32> = (0..20_000)
            .map(|i| (0.021 * i as f32).sin() * 0.5)
            .collect();
        let totals = |eardrum: [Coefficients; EARS]| {
            let mut m = PressureMeter::new(fs, 1);
            m.settle(&eardrum, &[d; EARS]);
            for chunk in x.chunks(256) {
                m.process(&[chunk, chunk], 0.0);
            }
            m.totals()
        };
        let both = totals([e, e2]);
        let (left, right) = (totals([e; EARS]), totals([e2; EARS]));
        assert_eq!(
            both[0].eardrum_pa2s.to_bits(),
            left[0].eardrum_pa2s.to_bits()
        );
        assert_eq!(
            both[1].eardrum_pa2s.to_bits(),
            right[1].eardrum_pa2s.to_bits()
        );
        let ratio = both[1].eardrum_pa2s / both[0].eardrum_pa2s;
        assert!(
            (ratio - 1.0).abs() > 0.1,
            "the two designs read alike: {ratio}"
        );
    }

    /// Every instruction set the CPU runs against the portable one on the same input: unfused,
    /// the same state and sums, bit for bit; fused, within rounding (relative 1e-9 of each sum).
    #[test]
    fn instruction_sets_agree() {
        let fs = 48_000.0;
        let (e, d) = design(fs);
        let meter = PressureMeter::new(fs, 1);
        let weights = Weights::new(&([e; EARS], [d; EARS]));
        let left: Vec<f32> = (0..3000).map(|i| (0.013 * i as f32).sin() * 0.7).collect();
        let right: Vec<f32> = (0..2999).map(|i| (0.071 * i as f32).cos() * 0.2).collect();
        let run = |isa: Isa| {
            let mut st = State::default();
            let mut sums = RunSums::default();
            let k = select_kernel(isa);
            for (l, r) in left.chunks(100).zip(right.chunks(100)) {
                k(&meter.fixed, &weights, &mut st, [l, r], &mut sums);
            }
            (st, sums)
        };
        let (st0, sums0) = run(Isa::available()[0]);
        assert!(lane(&sums0.squares, A_EARDRUM + 1) > 0.0);
        for isa in Isa::available() {
            let (st, sums) = run(isa);
            if !isa.fused() {
                assert!(st == st0 && sums == sums0, "{isa:?}");
                continue;
            }
            for (a, b) in [
                (sums.squares, sums0.squares),
                (sums.peak, sums0.peak),
                (sums.laf_max, sums0.laf_max),
            ] {
                for l in 0..6 {
                    let (x, y) = (lane(&a, l), lane(&b, l));
                    assert!(
                        (x - y).abs() <= 1e-9 * y.abs(),
                        "{isa:?} lane {l}: {x} vs {y}"
                    );
                }
            }
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
            for isa in Isa::available() {
                let mut meter = PressureMeter::new(fs, 100);
                meter.kernel = select_kernel(isa);
                meter.settle(&[e; EARS], &[d; EARS]);
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
                    r.eardrum.settle(&[e; EARS]);
                    r.diffuse.settle(&[d; EARS]);
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
