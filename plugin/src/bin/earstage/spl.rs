//! Delivered SPL and exposure of a file played through a chain, offline: each channel is filtered
//! with the chain's exact response (an FFT convolution whose kernel samples the closed-form H;
//! offline it may look ahead, so nothing is approximated but the kernel length) and scaled to
//! eardrum pressure, `p = x·√2·V_fs·g·(h ⊛)·20 µPa·10^(S_V/20)` (DESIGN.md §2), then metered by
//! the same exposure meter as the plugin.

use std::sync::Arc;

use earstage::dsp::exposure::ExposureMeter;
use earstage::model::eardrum::diffuse_to_eardrum_db;
use earstage::model::{Chain, Complex64, from_db};
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use serde::Serialize;

/// Kernel length: the power of two covering at least 1.3 s, long enough for the slowest decay a
/// chain response has (a coupling-capacitor high-pass at a few hertz).
fn kernel_len(sample_rate_hz: f64) -> usize {
    ((1.3 * sample_rate_hz) as usize).next_power_of_two()
}

/// Overlap-add convolution with a kernel centred on time zero (it may look ahead); the output
/// comes out `n/2` samples late and is trimmed to the input's length.
struct Convolver {
    n: usize,
    kernel: Vec<Complex64>,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    input: Vec<f64>,
    overlap: Vec<f64>,
    /// Output samples still to drop (the kernel's look-ahead).
    skip: usize,
    /// Input samples taken, output samples given.
    taken: usize,
    given: usize,
}

impl Convolver {
    /// The kernel samples `response(hz)` on an n-point grid (real at DC and Nyquist).
    fn new(sample_rate_hz: f64, response: impl Fn(f64) -> Complex64) -> Self {
        let n = kernel_len(sample_rate_hz);
        let mut planner = RealFftPlanner::<f64>::new();
        let (small_inverse, forward, inverse) = (
            planner.plan_fft_inverse(n),
            planner.plan_fft_forward(2 * n),
            planner.plan_fft_inverse(2 * n),
        );
        let bin_hz = sample_rate_hz / n as f64;
        let mut spectrum: Vec<Complex64> = (0..=n / 2)
            .map(|k| match k {
                0 => Complex64::new(response(0.25 * bin_hz).norm(), 0.0),
                k if k == n / 2 => Complex64::new(response(k as f64 * bin_hz).norm(), 0.0),
                k => response(k as f64 * bin_hz),
            })
            .collect();
        let mut circular = small_inverse.make_output_vec();
        small_inverse
            .process(&mut spectrum, &mut circular)
            .expect("lengths from the plan");
        // Centre it: negative times (the end of the circular response) first, then n/2 of delay.
        let mut padded = forward.make_input_vec();
        for m in 0..n {
            padded[m] = circular[(m + n / 2) % n] / n as f64;
        }
        let mut kernel = forward.make_output_vec();
        forward
            .process(&mut padded, &mut kernel)
            .expect("lengths from the plan");
        Self {
            n,
            kernel,
            forward,
            inverse,
            input: Vec::with_capacity(n),
            overlap: vec![0.0; 2 * n],
            skip: n / 2,
            taken: 0,
            given: 0,
        }
    }

    fn push(&mut self, x: &[f32], out: &mut impl FnMut(&[f64])) {
        for &v in x {
            self.input.push(f64::from(v));
            self.taken += 1;
            if self.input.len() == self.n {
                self.flush_block(out);
            }
        }
    }

    /// Filters the buffered input (zero-padded) and emits what is due.
    fn flush_block(&mut self, out: &mut impl FnMut(&[f64])) {
        let mut frame = self.forward.make_input_vec();
        frame[..self.input.len()].copy_from_slice(&self.input);
        self.input.clear();
        let mut spectrum = self.forward.make_output_vec();
        self.forward
            .process(&mut frame, &mut spectrum)
            .expect("lengths from the plan");
        for (s, k) in spectrum.iter_mut().zip(&self.kernel) {
            *s *= k;
        }
        let mut time = self.inverse.make_output_vec();
        self.inverse
            .process(&mut spectrum, &mut time)
            .expect("lengths from the plan");
        let scale = 1.0 / (2 * self.n) as f64;
        for (o, t) in self.overlap.iter_mut().zip(&time) {
            *o += t * scale;
        }
        let ready: Vec<f64> = self.overlap.drain(..self.n).collect();
        self.overlap.resize(2 * self.n, 0.0);
        let start = self.skip.min(ready.len());
        self.skip -= start;
        let wanted = self.taken - self.given;
        let block = &ready[start..(start + wanted).min(ready.len())];
        self.given += block.len();
        out(block);
    }

    /// Drains the tail so that exactly as many samples come out as went in.
    fn finish(&mut self, out: &mut impl FnMut(&[f64])) {
        while self.given < self.taken {
            self.flush_block(out);
        }
    }
}

/// `x` filtered with `response` (offline, exact up to the kernel length), as many samples as in.
pub fn filter_offline(
    x: &[f32],
    sample_rate_hz: f64,
    response: impl Fn(f64) -> Complex64,
) -> Vec<f64> {
    let mut convolver = Convolver::new(sample_rate_hz, response);
    let mut out = Vec::with_capacity(x.len());
    convolver.push(x, &mut |y| out.extend_from_slice(y));
    convolver.finish(&mut |y| out.extend_from_slice(y));
    out
}

/// One ear: the eardrum path and the diffuse-field-equivalent path.
struct Ear {
    eardrum: Convolver,
    diffuse: Convolver,
    eardrum_meter: ExposureMeter,
    diffuse_meter: ExposureMeter,
}

/// Delivered SPL and dose, per channel (ear), channel order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplReport {
    pub chain_iem: String,
    pub chain_source: String,
    pub chain_attenuator: String,
    /// LAeq at the eardrum, dBA.
    pub laeq_dba: Vec<f64>,
    /// LAeq, diffuse-field equivalent, dBA (what exposure limits are written for).
    pub laeq_df_dba: Vec<f64>,
    /// Peak C-weighted level at the eardrum, dBC.
    pub lcpeak_dbc: Vec<f64>,
    /// NIOSH daily dose (diffuse-field equivalent), %.
    pub dose_niosh_percent: Vec<f64>,
    /// WHO/ITU-T H.870 weekly dose (diffuse-field equivalent), %.
    pub dose_who_percent: Vec<f64>,
}

/// Meters what a chain delivers for planar audio fed block by block.
pub struct SplAnalyzer {
    chain: Chain,
    ears: Vec<Ear>,
}

impl SplAnalyzer {
    pub fn new(chain: &Chain, sample_rate_hz: f64, channels: usize) -> Self {
        // Pascals per unit of full scale: √2·V_fs·g (EMF peak of a 0 dBFS sine) · 20 µPa·10^(S_V/20).
        let pa_per_fs = std::f64::consts::SQRT_2
            * chain.source.emf_at_full_scale_volts()
            * 20e-6
            * from_db(chain.iem.sensitivity_db_per_volt());
        let ears = (0..channels)
            .map(|_| Ear {
                eardrum: Convolver::new(sample_rate_hz, |hz| chain.transfer(hz) * pa_per_fs),
                diffuse: Convolver::new(sample_rate_hz, |hz| {
                    chain.transfer(hz) * pa_per_fs * from_db(-diffuse_to_eardrum_db(hz))
                }),
                eardrum_meter: ExposureMeter::new(sample_rate_hz),
                diffuse_meter: ExposureMeter::new(sample_rate_hz),
            })
            .collect();
        Self {
            chain: chain.clone(),
            ears,
        }
    }

    pub fn push(&mut self, planar: &[Vec<f32>]) {
        for (ear, x) in self.ears.iter_mut().zip(planar) {
            let meter = &mut ear.eardrum_meter;
            ear.eardrum.push(x, &mut |p| meter.push(p));
            let meter = &mut ear.diffuse_meter;
            ear.diffuse.push(x, &mut |p| meter.push(p));
        }
    }

    pub fn finish(mut self) -> SplReport {
        for ear in &mut self.ears {
            let meter = &mut ear.eardrum_meter;
            ear.eardrum.finish(&mut |p| meter.push(p));
            let meter = &mut ear.diffuse_meter;
            ear.diffuse.finish(&mut |p| meter.push(p));
        }
        let each = |f: fn(&Ear) -> f64| self.ears.iter().map(f).collect::<Vec<f64>>();
        SplReport {
            chain_iem: self.chain.iem.name.clone(),
            chain_source: self.chain.source.name.clone(),
            chain_attenuator: self.chain.attenuator.name.clone(),
            laeq_dba: each(|e| e.eardrum_meter.laeq_db()),
            laeq_df_dba: each(|e| e.diffuse_meter.laeq_db()),
            lcpeak_dbc: each(|e| e.eardrum_meter.lcpeak_db()),
            dose_niosh_percent: each(|e| e.diffuse_meter.niosh_dose_percent()),
            dose_who_percent: each(|e| e.diffuse_meter.who_dose_percent()),
        }
    }
}

impl SplReport {
    pub fn print_text(&self) {
        let list = |v: &[f64], digits: usize| {
            v.iter()
                .map(|x| format!("{x:7.digits$}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        println!(
            "  delivered by          {} on {}{}",
            self.chain_iem,
            self.chain_source,
            if self.chain_attenuator == "none" {
                String::new()
            } else {
                format!(" via {}", self.chain_attenuator)
            }
        );
        println!("  LAeq at the eardrum   {} dBA", list(&self.laeq_dba, 1));
        println!("  LAeq diffuse-field    {} dBA", list(&self.laeq_df_dba, 1));
        println!("  LCpeak                {} dBC", list(&self.lcpeak_dbc, 1));
        println!(
            "  NIOSH dose            {} % of the daily allowance",
            list(&self.dose_niosh_percent, 3)
        );
        println!(
            "  WHO dose              {} % of the weekly allowance",
            list(&self.dose_who_percent, 3)
        );
    }
}
