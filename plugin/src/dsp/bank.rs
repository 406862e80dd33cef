//! The audition filter at run time: a fixed-pole parallel filter (B. Bank, "Perceptually
//! motivated audio equalization using fixed-pole parallel second-order filters", IEEE Signal
//! Processing Letters 15, 2008) behind an exact first-order DC section.
//!
//! ```text
//!            ┌──────────────┐  v   ┌ Σ_k (b0_k + b1_k z⁻¹) / (1 + a1_k z⁻¹ + a2_k z⁻²) ┐
//!  x ──────► │ (1−q z⁻¹)    │ ───► ┤                                                     ├─► y
//!            │ ──────────   │      └ c0 + c1 z⁻¹ + c2 z⁻²                                ┘
//!            │ (1−p z⁻¹)    │
//!            └──────────────┘
//! ```
//!
//! The poles depend only on the sample rate ([`PoleSet`]), so every design at one rate shares
//! them, and each section runs poles first (direct form II): its state depends on the input alone,
//! never on the output weights. Changing the weights linearly from one design to the next over a
//! ramp therefore *is* a crossfade of the two filters' outputs, with no transient, whatever the
//! designs. The DC section's pole moves with the ramp too; it is first order, so it stays stable
//! along any path between two stable poles.
//!
//! State and coefficients are f64: a numerical study of these chains found f32 gave only
//! 84–97 dB SNR on a Q≈3 impedance peak (docs/audition.md, "How the filter is built"). Nothing here allocates.

use super::limits::{EARS, MAX_CHANNELS};
use crate::model::iem::Ear;

use super::simd::{F64x4, Isa, flush_tiny, kernel_per_isa};
use crate::design::bank::{Coefficients, PoleSet, SECTIONS};

/// Section count in lanes of four (the kernel's vector width).
const LANES: usize = 4;
const GROUPS: usize = SECTIONS / LANES;
const _: () = assert!(SECTIONS.is_multiple_of(LANES));

/// One channel's memory.
#[derive(Debug, Clone, Copy, Default)]
struct ChannelState {
    /// Section states s[n−1] and s[n−2], in lanes.
    s1: [[f64; LANES]; GROUPS],
    s2: [[f64; LANES]; GROUPS],
    /// DC section state u[n−1].
    u1: f64,
    /// FIR inputs v[n−1], v[n−2].
    v1: f64,
    v2: f64,
}

/// The bank with its state, for up to [`MAX_CHANNELS`] channels, and weights per ear: channel 1
/// takes the right ear's, every other channel the left's (a mono feed is the left ear's).
#[derive(Debug, Clone)]
pub struct BankFilter {
    a1: [[f64; LANES]; GROUPS],
    a2: [[f64; LANES]; GROUPS],
    current: [Coefficients; EARS],
    target: [Coefficients; EARS],
    /// Ramp from `start` to `target`: `samples_left` of `ramp_len` remain.
    start: [Coefficients; EARS],
    ramp_len: u32,
    samples_left: u32,
    ramp_samples: u32,
    channels: [ChannelState; MAX_CHANNELS],
    kernel: Kernel,
    /// The kernel for [`BankFilter::advance`]: the recursion without the output.
    warm: Kernel,
}

type Kernel = fn(&mut BankFilter, &mut [f32], usize);

impl BankFilter {
    /// A bank at `sample_rate_hz` passing everything unchanged; changes of weights glide over
    /// `ramp_samples`.
    pub fn new(sample_rate_hz: f64, ramp_samples: u32) -> Self {
        let poles = PoleSet::new(sample_rate_hz);
        let lanes = |a: &[f64; SECTIONS]| -> [[f64; LANES]; GROUPS] {
            std::array::from_fn(|g| std::array::from_fn(|l| a[g * LANES + l]))
        };
        Self {
            a1: lanes(&poles.a1),
            a2: lanes(&poles.a2),
            current: [Coefficients::IDENTITY; EARS],
            target: [Coefficients::IDENTITY; EARS],
            start: [Coefficients::IDENTITY; EARS],
            ramp_len: 1,
            samples_left: 0,
            ramp_samples: ramp_samples.max(1),
            channels: [ChannelState::default(); MAX_CHANNELS],
            kernel: filter_kernel(Isa::detect()),
            warm: warm_kernel(Isa::detect()),
        }
    }

    /// Glide from wherever the weights are now to `target` (per ear) over the ramp time.
    pub fn set_target(&mut self, target: &[Coefficients; EARS]) {
        if *target == self.target {
            return;
        }
        self.start = self.current;
        self.target = *target;
        self.ramp_len = self.ramp_samples;
        self.samples_left = self.ramp_samples;
    }

    /// Take `coefficients` (per ear) at once (no glide): for a new stream.
    pub fn settle(&mut self, coefficients: &[Coefficients; EARS]) {
        self.current = *coefficients;
        self.target = *coefficients;
        self.samples_left = 0;
    }

    /// Forget the signal (the weights stay).
    pub fn clear_state(&mut self) {
        self.channels = [ChannelState::default(); MAX_CHANNELS];
    }

    /// Whether the weights are still gliding.
    pub fn is_ramping(&self) -> bool {
        self.samples_left > 0
    }

    /// Whether the filter is settled on the identity: its output would equal its input.
    pub fn is_settled_identity(&self) -> bool {
        !self.is_ramping() && self.current == [Coefficients::IDENTITY; EARS]
    }

    /// Filter every channel in place; all channels see the same glide.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let left_before = self.samples_left;
        for (index, channel) in channels.iter_mut().enumerate().take(MAX_CHANNELS) {
            self.rewind(index, left_before);
            (self.kernel)(self, channel, index);
        }
        self.catch_up();
    }

    /// Run the state on `channels` without changing them: the filter stays warm while its output
    /// is not used (bypass, or the rig selected), so a switch back starts with no transient.
    pub fn advance(&mut self, channels: &[&[f32]], scratch: &mut [f32]) {
        let left_before = self.samples_left;
        for (index, channel) in channels.iter().enumerate().take(MAX_CHANNELS) {
            self.rewind(index, left_before);
            for chunk in channel.chunks(scratch.len().max(1)) {
                let buf = &mut scratch[..chunk.len()];
                buf.copy_from_slice(chunk);
                (self.warm)(self, buf, index);
            }
        }
        self.catch_up();
    }

    /// Back to the block's start for channel `index`: every channel walks the same glide.
    fn rewind(&mut self, index: usize, samples_left: u32) {
        self.samples_left = samples_left;
        let ear = Ear::of_channel(index).index();
        self.current[ear] = self.glide_at(ear);
    }

    /// Every ear's weights where the glide now is (an ear no channel fed this block included).
    fn catch_up(&mut self) {
        self.current = std::array::from_fn(|ear| self.glide_at(ear));
    }

    /// The weights of `ear` with `samples_left` of the glide to go.
    #[inline(always)]
    fn glide_at(&self, ear: usize) -> Coefficients {
        if self.samples_left == 0 {
            self.target[ear]
        } else {
            let t = 1.0 - f64::from(self.samples_left) / f64::from(self.ramp_len);
            self.start[ear].lerp(&self.target[ear], t)
        }
    }

    /// The weights of `ear` for the sample about to be processed, then a step along the ramp.
    #[inline(always)]
    fn step(&mut self, ear: usize) {
        if self.samples_left > 0 {
            self.samples_left -= 1;
            self.current[ear] = self.glide_at(ear);
        }
    }
}

/// The recursion and (with `OUTPUT`) the filtered samples, written once on the SIMD surface: each
/// group of four sections in one vector, each group's share of the output in parallel, then a sum
/// tree (a short dependency chain). Without `OUTPUT` it only keeps the state warm and leaves the
/// samples as they are: the state is the same, bit for bit (it never depends on the weights).
#[inline(always)]
fn kernel<S: F64x4, const OUTPUT: bool>(
    simd: S,
    bank: &mut BankFilter,
    samples: &mut [f32],
    channel: usize,
) {
    let a1: [S::V; GROUPS] = std::array::from_fn(|g| simd.load(&bank.a1[g]));
    let a2: [S::V; GROUPS] = std::array::from_fn(|g| simd.load(&bank.a2[g]));
    let ear = Ear::of_channel(channel).index();
    let mut st = bank.channels[channel];
    let mut s1: [S::V; GROUPS] = std::array::from_fn(|g| simd.load(&st.s1[g]));
    let mut s2: [S::V; GROUPS] = std::array::from_fn(|g| simd.load(&st.s2[g]));
    let mut i = 0;
    while i < samples.len() {
        // While ramping the weights change every sample; settled, they are loaded once.
        let run = if bank.samples_left > 0 {
            1
        } else {
            samples.len() - i
        };
        let c = bank.current[ear];
        let lanes = |w: &[f64; SECTIONS], g: usize| -> [f64; LANES] {
            std::array::from_fn(|l| w[g * LANES + l])
        };
        let b0: [S::V; GROUPS] = std::array::from_fn(|g| simd.load(&lanes(&c.b0, g)));
        let b1: [S::V; GROUPS] = std::array::from_fn(|g| simd.load(&lanes(&c.b1, g)));
        for x in &mut samples[i..i + run] {
            // A NaN or infinity would poison the state for good: it enters as silence.
            let input = if x.is_finite() { f64::from(*x) } else { 0.0 };
            let u = simd.mul_add_scalar(c.dc_pole, st.u1, input);
            let v = u - c.dc_zero * st.u1;
            st.u1 = u;
            let vv = simd.splat(v);
            let share: [S::V; GROUPS] = std::array::from_fn(|g| {
                // The s[n−2] term first: only one multiply and one subtraction stand between
                // s[n−1] and s[n] (the recursion's latency is what limits the speed).
                let s = simd.neg_mul_add(a1[g], s1[g], simd.neg_mul_add(a2[g], s2[g], vv));
                let share = if OUTPUT {
                    simd.mul_add(b0[g], s, simd.mul(b1[g], s1[g]))
                } else {
                    s
                };
                s2[g] = s1[g];
                s1[g] = s;
                share
            });
            let fir = c.fir[0] * v + c.fir[1] * st.v1 + c.fir[2] * st.v2;
            st.v2 = st.v1;
            st.v1 = v;
            if OUTPUT {
                *x = (simd.horizontal_sum(simd.sum_tree(share)) + fir) as f32;
            }
        }
        i += run;
        if run == 1 {
            bank.step(ear);
        }
    }
    for g in 0..GROUPS {
        simd.store(s1[g], &mut st.s1[g]);
        simd.store(s2[g], &mut st.s2[g]);
    }
    flush(&mut st);
    bank.channels[channel] = st;
}

/// Tiny state values to zero (`simd::FLUSH_BELOW`); once a block.
fn flush(st: &mut ChannelState) {
    let tiny = flush_tiny;
    for g in 0..GROUPS {
        for l in 0..LANES {
            tiny(&mut st.s1[g][l]);
            tiny(&mut st.s2[g][l]);
        }
    }
    tiny(&mut st.u1);
    tiny(&mut st.v1);
    tiny(&mut st.v2);
}

#[inline(always)]
fn filter<S: F64x4>(simd: S, bank: &mut BankFilter, samples: &mut [f32], channel: usize) {
    kernel::<S, true>(simd, bank, samples, channel)
}

#[inline(always)]
fn keep_warm<S: F64x4>(simd: S, bank: &mut BankFilter, samples: &mut [f32], channel: usize) {
    kernel::<S, false>(simd, bank, samples, channel)
}

kernel_per_isa! {
    /// The filter for an instruction set.
    fn filter_kernel(bank: &mut BankFilter, samples: &mut [f32], channel: usize) = filter;
}

kernel_per_isa! {
    /// The recursion alone, for keeping the filter warm.
    fn warm_kernel(bank: &mut BankFilter, samples: &mut [f32], channel: usize) = keep_warm;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::bank::FIR_TAPS;

    mod bank_filter {
        use super::*;

        /// Equal up to the rounding of the f32 output (a few ulps).
        fn within_f32(got: f64, exact: f64) -> bool {
            (got - exact).abs() <= 4.0 * f64::from(f32::EPSILON) * exact.abs().max(1e-6)
        }

        fn impulse_response(bank: &mut BankFilter, len: usize) -> Vec<f32> {
            let mut x = vec![0.0f32; len];
            x[0] = 1.0;
            bank.process(&mut [&mut x]);
            x
        }

        /// The identity passes an impulse unchanged.
        #[test]
        fn identity() {
            let mut bank = BankFilter::new(48_000.0, 16);
            let h = impulse_response(&mut bank, 64);
            assert_eq!(h[0], 1.0);
            assert!(h[1..].iter().all(|&v| v == 0.0));
        }

        /// One section alone: the recursion s[n] = x[n] − a1 s[n−1] − a2 s[n−2] with b0 = 1 gives
        /// the section's own impulse response, r^n·sin((n+1)θ)/sin θ (closed form).
        #[test]
        fn one_section_closed_form() {
            let fs = 48_000.0;
            let mut bank = BankFilter::new(fs, 16);
            let mut c = Coefficients::IDENTITY;
            c.fir = [0.0; FIR_TAPS];
            c.b0[5] = 1.0;
            bank.settle(&[c; EARS]);
            let h = impulse_response(&mut bank, 200);
            let poles = PoleSet::new(fs);
            let r = poles.a2[5].sqrt();
            let theta = PoleSet::angles(fs)[5];
            for (n, &v) in h.iter().enumerate() {
                let exact = r.powi(n as i32) * ((n + 1) as f64 * theta).sin() / theta.sin();
                assert!(within_f32(f64::from(v), exact), "{n}: {v} vs {exact}");
            }
        }

        /// A DC section with q = 1 blocks DC exactly: a step settles to zero.
        #[test]
        fn dc_section_blocks_dc() {
            let mut bank = BankFilter::new(48_000.0, 16);
            let mut c = Coefficients::IDENTITY;
            c.dc_zero = 1.0;
            c.dc_pole = 0.99;
            bank.settle(&[c; EARS]);
            let mut x = vec![1.0f32; 5000];
            bank.process(&mut [&mut x]);
            assert!(x[4999].abs() < 1e-12, "{}", x[4999]);
            assert_eq!(x[0], 1.0);
        }

        /// Gliding between two designs equals the crossfade of their outputs: the sections'
        /// state does not depend on the weights (poles-first form), and the output is linear in
        /// them.
        #[test]
        fn glide_is_a_crossfade() {
            let fs = 48_000.0;
            let mut a = Coefficients::IDENTITY;
            let mut b = Coefficients::IDENTITY;
            for k in 0..SECTIONS {
                a.b0[k] = 0.01 * (k as f64).sin();
                b.b1[k] = -0.02 * (k as f64 * 0.7).cos();
            }
            b.fir = [0.5, 0.1, 0.0];
            let input: Vec<f32> = (0..4000).map(|i| ((i as f32) * 0.05).sin()).collect();
            let run = |c: &Coefficients| {
                let mut bank = BankFilter::new(fs, 1000);
                bank.settle(&[*c; EARS]);
                let mut x = input.clone();
                bank.process(&mut [&mut x]);
                x
            };
            let (ya, yb) = (run(&a), run(&b));
            let mut bank = BankFilter::new(fs, 1000);
            bank.settle(&[a; EARS]);
            let mut x = input.clone();
            let (head, tail) = x.split_at_mut(1500);
            bank.process(&mut [head]);
            bank.set_target(&[b; EARS]);
            bank.process(&mut [tail]);
            for n in 0..4000usize {
                // Sample 1500 still gets a's weights; the glide reaches b at sample 2500.
                let t = (n.saturating_sub(1500) as f64 / 1000.0).min(1.0);
                let expected = (1.0 - t) * f64::from(ya[n]) + t * f64::from(yb[n]);
                // Each output was rounded to f32: the tolerance scales with the larger of them.
                let scale = f64::from(ya[n].abs().max(yb[n].abs()));
                assert!(
                    (f64::from(x[n]) - expected).abs() <= 4.0 * f64::from(f32::EPSILON) * scale,
                    "{n}: {} vs {expected}",
                    x[n]
                );
            }
        }

        /// Each ear gets its own weights: in a stereo block, the left channel (and a third one)
        /// comes out as a bank with the left design alone makes it, the right as one with the
        /// right design alone, bit for bit, through a glide from one pair to another.
        #[test]
        fn each_ear_its_own_design() {
            let design = |k0: f64| {
                let mut c = Coefficients::IDENTITY;
                for k in 0..SECTIONS {
                    c.b0[k] = k0 * (k as f64 + 1.0).sqrt();
                }
                c.fir = [0.3, 0.0, 0.1];
                c
            };
            let (left, right) = ([design(0.01), design(-0.02)], [design(0.005), design(0.03)]);
            let input: Vec<f32> = (0..2000).map(|i| ((i as f32) * 0.11).sin()).collect();
            let run = |start: [Coefficients; EARS], end: [Coefficients; EARS], channels: usize| {
                let mut bank = BankFilter::new(48_000.0, 300);
                bank.settle(&start);
                let mut x: Vec<Vec<f32>> = vec![input.clone(); channels];
                for (n, block) in (0..input.len()).step_by(128).enumerate() {
                    if n == 3 {
                        bank.set_target(&end);
                    }
                    let end_sample = (block + 128).min(input.len());
                    let mut blocks: Vec<&mut [f32]> =
                        x.iter_mut().map(|c| &mut c[block..end_sample]).collect();
                    bank.process(&mut blocks);
                }
                x
            };
            let both = run([left[0], right[0]], [left[1], right[1]], 3);
            let only_left = run([left[0]; EARS], [left[1]; EARS], 1);
            let only_right = run([right[0]; EARS], [right[1]; EARS], 1);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&both[0]), bits(&only_left[0]));
            assert_eq!(bits(&both[1]), bits(&only_right[0]));
            assert_eq!(bits(&both[2]), bits(&only_left[0]));
            assert_ne!(bits(&both[0]), bits(&both[1]));
        }

        /// Kept warm (the recursion alone) the state is the same as when filtering: the next
        /// output is the same, bit for bit.
        #[test]
        fn warm_state_equals_filtered_state() {
            let mut c = Coefficients::IDENTITY;
            for k in 0..SECTIONS {
                c.b0[k] = 0.01 * (k as f64 + 2.0).ln();
            }
            c.dc_zero = 1.0;
            c.dc_pole = 0.995;
            let head: Vec<f32> = (0..3000).map(|i| ((i as f32) * 0.17).sin()).collect();
            let tail: Vec<f32> = (0..500).map(|i| ((i as f32) * 0.05).cos()).collect();
            let mut filtered = BankFilter::new(48_000.0, 16);
            filtered.settle(&[c; EARS]);
            let mut warm = filtered.clone();
            let mut x = head.clone();
            filtered.process(&mut [&mut x]);
            let mut scratch = vec![0.0f32; 256];
            warm.advance(&[&head], &mut scratch);
            let (mut a, mut b) = (tail.clone(), tail.clone());
            filtered.process(&mut [&mut a]);
            warm.process(&mut [&mut b]);
            assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
        }

        /// Every instruction set the CPU runs against the portable one: unfused, the same bits;
        /// fused, within the f32 rounding of the output. Kept warm, the state is the filter's
        /// state, bit for bit, on each set.
        #[test]
        fn kernels_agree() {
            let mut c = Coefficients::IDENTITY;
            for k in 0..SECTIONS {
                c.b0[k] = 0.013 * (k as f64 + 1.0).ln();
                c.b1[k] = -0.011 * (k as f64).cos();
            }
            c.dc_zero = 1.0;
            c.dc_pole = 0.999;
            let input: Vec<f32> = (0..3000).map(|i| ((i as f32) * 0.31).sin()).collect();
            let run = |isa: Isa| {
                let mut bank = BankFilter::new(44_100.0, 100);
                bank.kernel = filter_kernel(isa);
                bank.warm = warm_kernel(isa);
                bank.settle(&[Coefficients::IDENTITY; EARS]);
                bank.set_target(&[c; EARS]);
                let mut warm = bank.clone();
                let mut x = input.clone();
                bank.process(&mut [&mut x]);
                warm.advance(&[&input], &mut [0.0; 64]);
                let states_equal = bank.channels[0].s1 == warm.channels[0].s1
                    && bank.channels[0].s2 == warm.channels[0].s2
                    && bank.channels[0].u1 == warm.channels[0].u1;
                (x, states_equal)
            };
            let (portable, _) = run(Isa::available()[0]);
            let scale = portable.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for isa in Isa::available() {
                let (y, warm_matches) = run(isa);
                assert!(warm_matches, "{isa:?}");
                if !isa.fused() {
                    assert!(
                        portable
                            .iter()
                            .zip(&y)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{isa:?}"
                    );
                }
                for (n, (a, b)) in portable.iter().zip(&y).enumerate() {
                    assert!(
                        (a - b).abs() <= 4.0 * f32::EPSILON * scale,
                        "{isa:?} {n}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
