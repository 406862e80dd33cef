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

use super::limits::MAX_CHANNELS;

use super::simd::flush_tiny;
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

/// The bank with its state, for up to [`MAX_CHANNELS`] channels.
#[derive(Debug, Clone)]
pub struct BankFilter {
    a1: [[f64; LANES]; GROUPS],
    a2: [[f64; LANES]; GROUPS],
    current: Coefficients,
    target: Coefficients,
    /// Ramp from `start` to `target`: `samples_left` of `ramp_len` remain.
    start: Coefficients,
    ramp_len: u32,
    samples_left: u32,
    ramp_samples: u32,
    channels: [ChannelState; MAX_CHANNELS],
    kernel: Kernel,
    /// The kernel for [`BankFilter::advance`]: the recursion without the output where the CPU
    /// allows (the FMA kernel), else the full kernel on a scratch copy.
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
            current: Coefficients::IDENTITY,
            target: Coefficients::IDENTITY,
            start: Coefficients::IDENTITY,
            ramp_len: 1,
            samples_left: 0,
            ramp_samples: ramp_samples.max(1),
            channels: [ChannelState::default(); MAX_CHANNELS],
            kernel: kernel(),
            warm: warm_kernel(),
        }
    }

    /// Glide from wherever the weights are now to `target` over the ramp time.
    pub fn set_target(&mut self, target: &Coefficients) {
        if *target == self.target {
            return;
        }
        self.start = self.current;
        self.target = *target;
        self.ramp_len = self.ramp_samples;
        self.samples_left = self.ramp_samples;
    }

    /// Take `coefficients` at once (no glide): for a new stream.
    pub fn settle(&mut self, coefficients: &Coefficients) {
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
        !self.is_ramping() && self.current == Coefficients::IDENTITY
    }

    /// Filter every channel in place; all channels see the same glide.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let (left_before, current_before) = (self.samples_left, self.current);
        for (index, channel) in channels.iter_mut().enumerate().take(MAX_CHANNELS) {
            self.samples_left = left_before;
            self.current = current_before;
            (self.kernel)(self, channel, index);
        }
    }

    /// Run the state on `channels` without changing them: the filter stays warm while its output
    /// is not used (bypass, or the rig selected), so a switch back starts with no transient.
    pub fn advance(&mut self, channels: &[&[f32]], scratch: &mut [f32]) {
        let (left_before, current_before) = (self.samples_left, self.current);
        for (index, channel) in channels.iter().enumerate().take(MAX_CHANNELS) {
            self.samples_left = left_before;
            self.current = current_before;
            for chunk in channel.chunks(scratch.len().max(1)) {
                let buf = &mut scratch[..chunk.len()];
                buf.copy_from_slice(chunk);
                (self.warm)(self, buf, index);
            }
        }
    }

    /// The weights for the sample about to be processed, then a step along the ramp.
    #[inline(always)]
    fn step(&mut self) {
        if self.samples_left > 0 {
            self.samples_left -= 1;
            self.current = if self.samples_left == 0 {
                self.target
            } else {
                let t = 1.0 - f64::from(self.samples_left) / f64::from(self.ramp_len);
                self.start.lerp(&self.target, t)
            };
        }
    }
}

/// The portable kernel. [`kernel_wide`] is the same recursion hand-written in 256-bit registers
/// (unfused: the same arithmetic in the same order, so the same bits; fused: within rounding).
#[inline(always)]
fn kernel_generic(bank: &mut BankFilter, samples: &mut [f32], channel: usize) {
    let a1 = bank.a1;
    let a2 = bank.a2;
    let mut st = bank.channels[channel];
    let mut i = 0;
    while i < samples.len() {
        // While ramping the weights change every sample; settled, they are loaded once.
        let run = if bank.samples_left > 0 {
            1
        } else {
            samples.len() - i
        };
        let c = bank.current;
        let b0: [[f64; LANES]; GROUPS] =
            std::array::from_fn(|g| std::array::from_fn(|l| c.b0[g * LANES + l]));
        let b1: [[f64; LANES]; GROUPS] =
            std::array::from_fn(|g| std::array::from_fn(|l| c.b1[g * LANES + l]));
        for x in &mut samples[i..i + run] {
            // A NaN or infinity would poison the state for good: it enters as silence.
            let input = if x.is_finite() { f64::from(*x) } else { 0.0 };
            let u = input + c.dc_pole * st.u1;
            let v = u - c.dc_zero * st.u1;
            st.u1 = u;
            let mut acc = [0.0f64; LANES];
            for g in 0..GROUPS {
                for l in 0..LANES {
                    // The s[n−2] term first: only one multiply and one subtraction stand between
                    // s[n−1] and s[n] (the recursion's latency is what limits the speed).
                    let s = v - a2[g][l] * st.s2[g][l] - a1[g][l] * st.s1[g][l];
                    acc[l] += b0[g][l] * s + b1[g][l] * st.s1[g][l];
                    st.s2[g][l] = st.s1[g][l];
                    st.s1[g][l] = s;
                }
            }
            let fir = c.fir[0] * v + c.fir[1] * st.v1 + c.fir[2] * st.v2;
            st.v2 = st.v1;
            st.v1 = v;
            *x = ((acc[0] + acc[1]) + (acc[2] + acc[3]) + fir) as f32;
        }
        i += run;
        if run == 1 {
            bank.step();
        }
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

/// The kernel with each group of four sections in one 256-bit register (LLVM vectorises the
/// portable loop only to 128 bits). Unfused, it is [`kernel_generic`]'s arithmetic operation for
/// operation and in the same order, so the same bits; fused (FMA), it does each multiply-add in
/// one rounding: half the operations, and results within f32 rounding of the others.
///
/// # Safety
/// Only from a function compiled with AVX (and FMA when `FUSED`), on a CPU that has them.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn kernel_wide<const FUSED: bool, const OUTPUT: bool>(
    bank: &mut BankFilter,
    samples: &mut [f32],
    channel: usize,
) {
    use super::simd::{horizontal_sum, sum_tree};
    use std::arch::x86_64::{
        __m256d, _mm256_add_pd, _mm256_fmadd_pd, _mm256_fnmadd_pd, _mm256_loadu_pd, _mm256_mul_pd,
        _mm256_set1_pd, _mm256_storeu_pd, _mm256_sub_pd,
    };
    // SAFETY (all the loads and stores below): each pointer is to a `[f64; 4]` (LANES = 4), and
    // the unaligned forms are used.
    let load = |a: &[f64; LANES]| unsafe { _mm256_loadu_pd(a.as_ptr()) };
    let store = |v: __m256d, a: &mut [f64; LANES]| unsafe { _mm256_storeu_pd(a.as_mut_ptr(), v) };
    let a1: [__m256d; GROUPS] = std::array::from_fn(|g| load(&bank.a1[g]));
    let a2: [__m256d; GROUPS] = std::array::from_fn(|g| load(&bank.a2[g]));
    let mut st = bank.channels[channel];
    let mut s1: [__m256d; GROUPS] = std::array::from_fn(|g| load(&st.s1[g]));
    let mut s2: [__m256d; GROUPS] = std::array::from_fn(|g| load(&st.s2[g]));
    let mut i = 0;
    while i < samples.len() {
        let run = if bank.samples_left > 0 {
            1
        } else {
            samples.len() - i
        };
        let c = bank.current;
        let lanes = |w: &[f64; SECTIONS], g: usize| -> [f64; LANES] {
            std::array::from_fn(|l| w[g * LANES + l])
        };
        let b0: [__m256d; GROUPS] = std::array::from_fn(|g| load(&lanes(&c.b0, g)));
        let b1: [__m256d; GROUPS] = std::array::from_fn(|g| load(&lanes(&c.b1, g)));
        for x in &mut samples[i..i + run] {
            let input = if x.is_finite() { f64::from(*x) } else { 0.0 };
            let u = if FUSED {
                c.dc_pole.mul_add(st.u1, input)
            } else {
                input + c.dc_pole * st.u1
            };
            let v = u - c.dc_zero * st.u1;
            st.u1 = u;
            // SAFETY: the caller guarantees the CPU features.
            let vv = unsafe { _mm256_set1_pd(v) };
            if !OUTPUT {
                // Kept warm only: the recursion, no output.
                for g in 0..GROUPS {
                    unsafe {
                        let s = _mm256_fnmadd_pd(a1[g], s1[g], _mm256_fnmadd_pd(a2[g], s2[g], vv));
                        s2[g] = s1[g];
                        s1[g] = s;
                    }
                }
                st.v2 = st.v1;
                st.v1 = v;
                continue;
            }
            let acc = if FUSED {
                // Each group's share in parallel, then a sum tree: a short dependency chain.
                let share: [__m256d; GROUPS] = std::array::from_fn(|g| unsafe {
                    let s = _mm256_fnmadd_pd(a1[g], s1[g], _mm256_fnmadd_pd(a2[g], s2[g], vv));
                    let share = _mm256_fmadd_pd(b0[g], s, _mm256_mul_pd(b1[g], s1[g]));
                    s2[g] = s1[g];
                    s1[g] = s;
                    share
                });
                // SAFETY: the caller guarantees AVX.
                unsafe { sum_tree(share) }
            } else {
                let mut acc = unsafe { _mm256_set1_pd(0.0) };
                for g in 0..GROUPS {
                    unsafe {
                        let s = _mm256_sub_pd(
                            _mm256_sub_pd(vv, _mm256_mul_pd(a2[g], s2[g])),
                            _mm256_mul_pd(a1[g], s1[g]),
                        );
                        acc = _mm256_add_pd(
                            acc,
                            _mm256_add_pd(_mm256_mul_pd(b0[g], s), _mm256_mul_pd(b1[g], s1[g])),
                        );
                        s2[g] = s1[g];
                        s1[g] = s;
                    }
                }
                acc
            };
            let fir = c.fir[0] * v + c.fir[1] * st.v1 + c.fir[2] * st.v2;
            st.v2 = st.v1;
            st.v1 = v;
            let bank_sum = if FUSED {
                // SAFETY: the caller guarantees AVX.
                unsafe { horizontal_sum(acc) }
            } else {
                let mut sum = [0.0f64; LANES];
                store(acc, &mut sum);
                (sum[0] + sum[1]) + (sum[2] + sum[3])
            };
            *x = (bank_sum + fir) as f32;
        }
        i += run;
        if run == 1 {
            bank.step();
        }
    }
    for g in 0..GROUPS {
        store(s1[g], &mut st.s1[g]);
        store(s2[g], &mut st.s2[g]);
    }
    flush(&mut st);
    bank.channels[channel] = st;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn kernel_avx(bank: &mut BankFilter, samples: &mut [f32], channel: usize) {
    // SAFETY: compiled with AVX, and chosen only on a CPU that has it.
    unsafe { kernel_wide::<false, true>(bank, samples, channel) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
fn kernel_fma(bank: &mut BankFilter, samples: &mut [f32], channel: usize) {
    // SAFETY: compiled with AVX and FMA, and chosen only on a CPU that has them.
    unsafe { kernel_wide::<true, true>(bank, samples, channel) }
}

/// [`kernel_fma`]'s recursion alone, for keeping the filter warm: the state is the same, bit for
/// bit (the state never depends on the weights), and the samples are left as they are.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
fn kernel_fma_warm(bank: &mut BankFilter, samples: &mut [f32], channel: usize) {
    // SAFETY: compiled with AVX and FMA, and chosen only on a CPU that has them.
    unsafe { kernel_wide::<true, false>(bank, samples, channel) }
}

fn kernel_portable(bank: &mut BankFilter, samples: &mut [f32], channel: usize) {
    kernel_generic(bank, samples, channel)
}

/// The fastest way to keep the filter warm on this CPU.
fn warm_kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has just been found to support AVX and FMA.
            return |bank, samples, channel| unsafe { kernel_fma_warm(bank, samples, channel) };
        }
    }
    kernel()
}

/// The fastest kernel this CPU runs (chosen once, at construction).
fn kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has just been found to support AVX and FMA.
            return |bank, samples, channel| unsafe { kernel_fma(bank, samples, channel) };
        }
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has just been found to support AVX.
            return |bank, samples, channel| unsafe { kernel_avx(bank, samples, channel) };
        }
    }
    kernel_portable
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
            bank.settle(&c);
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
            bank.settle(&c);
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
                bank.settle(c);
                let mut x = input.clone();
                bank.process(&mut [&mut x]);
                x
            };
            let (ya, yb) = (run(&a), run(&b));
            let mut bank = BankFilter::new(fs, 1000);
            bank.settle(&a);
            let mut x = input.clone();
            let (head, tail) = x.split_at_mut(1500);
            bank.process(&mut [head]);
            bank.set_target(&b);
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
            filtered.settle(&c);
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

        /// The AVX kernel gives the portable kernel's bits; the fused (FMA) one agrees within the
        /// f32 rounding of the output.
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
            let run = |kernel: Kernel| {
                let mut bank = BankFilter::new(44_100.0, 100);
                bank.kernel = kernel;
                bank.settle(&Coefficients::IDENTITY);
                bank.set_target(&c);
                let mut x = input.clone();
                bank.process(&mut [&mut x]);
                x
            };
            let portable = run(kernel_portable);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx") {
                // SAFETY: the CPU has AVX.
                let avx = run(|b, s, c| unsafe { kernel_avx(b, s, c) });
                assert!(
                    portable
                        .iter()
                        .zip(&avx)
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                );
            }
            let fastest = run(kernel());
            let scale = portable.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (n, (a, b)) in portable.iter().zip(&fastest).enumerate() {
                assert!(
                    (a - b).abs() <= 4.0 * f32::EPSILON * scale,
                    "{n}: {a} vs {b}"
                );
            }
        }
    }
}
