//! The audition engine, measured through the real processing path (`Engine::process_with`, what
//! the plugin's `process()` calls) against oracles that do not use the code under test:
//!
//! - magnitude: the closed-form circuit `H = V_iem/V_EMF` of each chain (`Chain::transfer`);
//! - phase: the band-limited minimum phase of that magnitude, by numerical integration of the
//!   Hilbert transform on the unit circle (checked here against closed-form minimum-phase
//!   filters), not by the designer's cepstrum;
//! - level match: the `ebur128` crate's loudness of pink noise through Rig and through A;
//! - clicks: the largest sample-to-sample step of steady states before and after.

mod support;

use std::f64::consts::PI;
use std::path::Path;

use earstage::design::designer::InlineDesigner;
use earstage::design::handoff::{AuditionChains, AuditionValues};
use earstage::dsp::audition::{AuditionSettings, Selection};
use earstage::dsp::{Engine, EngineSettings};
use earstage::model::audition::{AuditionChain, ChainValues, LevelMatch, Mode};
use earstage::model::catalog::Catalog;
use earstage::model::iem::Ear;
use earstage::model::import::read_impedance;
use earstage::model::{Attenuator, Cable, Chain, Complex64, Iem, ImpedanceModel, Source};
use support::Rng;

const RATES_HZ: [f64; 5] = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 192_000.0];
/// Acceptance (issue 9): |H| within 0.1 dB of the model, phase within 2° of the band-limited
/// minimum-phase response, 20 Hz–20 kHz.
const MAX_ERROR_DB: f64 = 0.1;
const MAX_ERROR_DEG: f64 = 2.0;

/// A rig and an audition chain in front of its IEM.
struct Case {
    name: &'static str,
    rig: Chain,
    audition: AuditionChain,
}

fn catalog() -> Catalog {
    Catalog::builtin()
}

/// The IEM on an ideal 1 Vrms source: then `H_rig = 1` and the audition is `H` itself.
fn ideal_rig(iem: Iem) -> Chain {
    Chain {
        source: Source::ideal(1.0),
        attenuator: Attenuator::none(),
        cable: Cable::default(),
        iem,
    }
}

/// `source` and `attenuator` in front of the rig's IEM, at the rig's full-scale EMF, so that
/// level mode shows the circuit alone.
fn audition_on(rig: &Chain, mut source: Source, attenuator: Attenuator) -> AuditionChain {
    source.vfs_volts = rig.source.vfs_volts;
    source.volume_db = rig.source.volume_db;
    AuditionChain {
        source,
        attenuator,
        cable: Cable::default(),
    }
}

fn source_with_ohms(ohms: f64) -> Source {
    let mut s = Source::ideal(1.0);
    s.name = format!("{ohms} Ω source");
    s.output_ohms = ohms;
    s
}

fn imported_iem() -> Iem {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/multi-ba-measured.zma");
    let curve = read_impedance(&path).expect("the fixture imports");
    let mut iem = catalog().iem("Andromeda").unwrap().clone();
    iem.name = "imported multi-BA (.zma)".into();
    iem.impedance = ImpedanceModel::Measured { points: curve };
    iem
}

/// The cases issue 9 names.
fn cases() -> Vec<Case> {
    let c = catalog();
    let multi_ba = ideal_rig(c.iem("Andromeda").unwrap().clone());
    let dynamic = ideal_rig(c.iem("IE 300").unwrap().clone());
    let imported = ideal_rig(imported_iem());
    let mut multi_ba_on_10 = multi_ba.clone();
    multi_ba_on_10.source = source_with_ohms(10.0);
    let none = Attenuator::none;
    vec![
        Case {
            name: "multi-BA on a 10 Ω source",
            audition: audition_on(&multi_ba, source_with_ohms(10.0), none()),
            rig: multi_ba.clone(),
        },
        Case {
            name: "multi-BA on a 75 Ω adapter",
            audition: audition_on(
                &multi_ba,
                source_with_ohms(0.5),
                c.attenuator("75").unwrap().clone(),
            ),
            rig: multi_ba.clone(),
        },
        Case {
            name: "multi-BA on a −24 dB L-pad",
            audition: audition_on(
                &multi_ba,
                source_with_ohms(2.0),
                c.attenuator("24").unwrap().clone(),
            ),
            rig: multi_ba.clone(),
        },
        Case {
            name: "multi-BA on a 220 µF coupling capacitor",
            audition: audition_on(&multi_ba, c.source("capacitor").unwrap().clone(), none()),
            rig: multi_ba.clone(),
        },
        Case {
            name: "multi-BA on a 100 Ω ‖ 220 nF barrel",
            audition: audition_on(
                &multi_ba,
                source_with_ohms(1.0),
                c.attenuator("barrel").unwrap().clone(),
            ),
            rig: multi_ba,
        },
        Case {
            name: "multi-BA rig on 10 Ω, auditioning 0.5 Ω",
            audition: audition_on(&multi_ba_on_10, source_with_ohms(0.5), none()),
            rig: multi_ba_on_10,
        },
        Case {
            name: "single dynamic on a 47 Ω mixer output",
            audition: audition_on(&dynamic, source_with_ohms(47.0), none()),
            rig: dynamic,
        },
        Case {
            name: "imported .zma on a 33 Ω adapter",
            audition: audition_on(
                &imported,
                source_with_ohms(1.0),
                c.attenuator("33").unwrap().clone(),
            ),
            rig: imported,
        },
    ]
}

/// Audition A = `chain`, selected, in `mode`, with the ceiling out of the way.
fn settings_for(chain: &AuditionChain, mode: Mode) -> EngineSettings {
    EngineSettings {
        audition: AuditionSettings {
            selection: Selection::A,
            values: AuditionValues {
                a: chain.values(),
                b: chain.values(),
                mode,
                level_match: LevelMatch::PinkLoudness,
                ceiling_db: 24.0,
                chains_revision: 0,
            },
        },
        ..EngineSettings::default()
    }
}

fn designer_for(case: &Case) -> InlineDesigner {
    InlineDesigner::new(AuditionChains {
        rig: case.rig.clone(),
        a: case.audition.clone(),
        b: case.audition.clone(),
    })
}

/// Mono `input` through a fresh engine primed on the designs, in host-sized blocks.
fn run(
    designer: &mut InlineDesigner,
    settings: &EngineSettings,
    fs: f64,
    input: &[f32],
    block: usize,
) -> Vec<f32> {
    designer.prime(&settings.audition.values, fs);
    let mut engine = Engine::new(fs as f32, 1, settings);
    let mut out = input.to_vec();
    for piece in out.chunks_mut(block) {
        engine.process_with(&mut [piece], settings, &mut (), designer);
        designer.run_pending();
    }
    out
}

/// The DTFT of `h` at `hz`.
fn dtft(h: &[f32], hz: f64, fs: f64) -> Complex64 {
    let step = Complex64::from_polar(1.0, -2.0 * PI * hz / fs);
    let mut phasor = Complex64::new(1.0, 0.0);
    let mut sum = Complex64::new(0.0, 0.0);
    for &v in h {
        sum += phasor * f64::from(v);
        phasor *= step;
    }
    sum
}

/// The band-limited minimum phase of a magnitude response on the unit circle:
/// `φ(θ0) = −(1/2π)·∫_0^π (L(θ) − L(θ0))·[cot((θ0−θ)/2) + cot((θ0+θ)/2)] dθ`, `L = ln|H|`
/// (the Hilbert transform on the circle; subtracting L(θ0) removes the principal value, the
/// kernel integrating to zero). A simple zero at DC, `1 − z⁻¹`, is split off first: its phase is
/// `(π − θ)/2` in closed form.
struct MinPhaseOracle {
    theta: Vec<f64>,
    rest: Vec<f64>,
    fs: f64,
    dc_zero: bool,
}

impl MinPhaseOracle {
    const POINTS: usize = 60_000;

    fn new(magnitude: &dyn Fn(f64) -> f64, fs: f64, dc_zero: bool) -> Self {
        let lo = 2.0 * PI * 0.005 / fs;
        let theta: Vec<f64> = (0..Self::POINTS)
            .map(|i| lo * (PI / lo).powf(i as f64 / (Self::POINTS - 1) as f64))
            .collect();
        let rest = theta
            .iter()
            .map(|&t| Self::rest_of(magnitude, t, fs, dc_zero))
            .collect();
        Self {
            theta,
            rest,
            fs,
            dc_zero,
        }
    }

    fn rest_of(magnitude: &dyn Fn(f64) -> f64, theta: f64, fs: f64, dc_zero: bool) -> f64 {
        let l = magnitude(theta * fs / (2.0 * PI)).ln();
        if dc_zero {
            l - (2.0 * (theta / 2.0).sin()).ln()
        } else {
            l
        }
    }

    fn phase_rad(&self, magnitude: &dyn Fn(f64) -> f64, hz: f64) -> f64 {
        let t0 = 2.0 * PI * hz / self.fs;
        let l0 = Self::rest_of(magnitude, t0, self.fs, self.dc_zero);
        let integrand = |t: f64, l: f64| {
            if (t - t0).abs() < 1e-12 * t0 {
                return 0.0;
            }
            let kernel = 1.0 / ((t0 - t) / 2.0).tan() + 1.0 / ((t0 + t) / 2.0).tan();
            (l - l0) * kernel
        };
        let mut sum = integrand(self.theta[0] / 2.0, self.rest[0]) * self.theta[0];
        for i in 1..self.theta.len() {
            let (a, b) = (self.theta[i - 1], self.theta[i]);
            sum += 0.5 * (b - a) * (integrand(a, self.rest[i - 1]) + integrand(b, self.rest[i]));
        }
        let phase = -sum / (2.0 * PI);
        if self.dc_zero {
            phase + (PI - t0) / 2.0
        } else {
            phase
        }
    }
}

/// Test frequencies: 1/6 octave from 20 Hz to 20 kHz.
fn test_frequencies() -> Vec<f64> {
    let mut f: Vec<f64> = (0..)
        .map(|i| 20.0 * 2f64.powf(i as f64 / 6.0))
        .take_while(|&hz| hz < 20_000.0)
        .collect();
    f.push(20_000.0);
    f
}

fn wrap_deg(deg: f64) -> f64 {
    (deg + 180.0).rem_euclid(360.0) - 180.0
}

mod oracle {
    use super::*;

    /// The oracle against a closed-form minimum-phase filter, `(1 − 0.9 z⁻¹)/(1 − 0.5 z⁻¹)`.
    #[test]
    fn first_order_section() {
        let fs = 48_000.0;
        let h = |hz: f64| {
            let z1 = Complex64::from_polar(1.0, -2.0 * PI * hz / fs);
            (1.0 - 0.9 * z1) / (1.0 - 0.5 * z1)
        };
        let magnitude = |hz: f64| h(hz).norm();
        let oracle = MinPhaseOracle::new(&magnitude, fs, false);
        for hz in test_frequencies() {
            let got = oracle.phase_rad(&magnitude, hz).to_degrees();
            let exact = h(hz).arg().to_degrees();
            assert!((got - exact).abs() < 0.01, "{hz} Hz: {got} vs {exact}");
        }
    }

    /// And with a zero on the unit circle at DC, `(1 − z⁻¹)(1 − 0.3 z⁻¹)/(1 − 0.995 z⁻¹)`.
    #[test]
    fn dc_zero() {
        let fs = 44_100.0;
        let h = |hz: f64| {
            let z1 = Complex64::from_polar(1.0, -2.0 * PI * hz / fs);
            (1.0 - z1) * (1.0 - 0.3 * z1) / (1.0 - 0.995 * z1)
        };
        let magnitude = |hz: f64| h(hz).norm();
        let oracle = MinPhaseOracle::new(&magnitude, fs, true);
        for hz in test_frequencies() {
            let got = oracle.phase_rad(&magnitude, hz).to_degrees();
            let exact = h(hz).arg().to_degrees();
            assert!((got - exact).abs() < 0.01, "{hz} Hz: {got} vs {exact}");
        }
    }
}

/// Issue 9's acceptance test: every case at every rate, level mode on an ideal rig (so the
/// filter must be `H` itself), measured with an impulse through the engine.
#[test]
fn accuracy_against_the_model() {
    let mut failures = Vec::new();
    println!(
        "{:<44} {:>7} {:>8} {:>8} {:>12}",
        "case", "rate", "max dB", "max deg", "advance µs"
    );
    for case in cases() {
        let audition_chain = case.audition.on(&case.rig);
        let emf_ratio = audition_chain.source.emf_at_full_scale_volts()
            / case.rig.source.emf_at_full_scale_volts();
        let model = |hz: f64| audition_chain.transfer(hz) / case.rig.transfer(hz) * emf_ratio;
        let magnitude = |hz: f64| model(hz).norm();
        let dc_zero = audition_chain.source.coupling_uf.is_some();
        for fs in RATES_HZ {
            let settings = settings_for(&case.audition, Mode::Level);
            let mut designer = designer_for(&case);
            // An impulse after silence: nothing may come out before it (zero latency).
            let lead = 64;
            let len = ((0.7 * fs) as usize).next_power_of_two();
            let mut input = vec![0.0f32; lead + len];
            input[lead] = 1.0;
            let output = run(&mut designer, &settings, fs, &input, 512);
            assert!(
                output[..lead].iter().all(|&v| v == 0.0),
                "{}: output before the impulse",
                case.name
            );
            let h = &output[lead..];
            let oracle = MinPhaseOracle::new(&magnitude, fs, dc_zero);
            let (mut worst_db, mut worst_deg, mut advance_us) = (0.0f64, 0.0f64, 0.0f64);
            for hz in test_frequencies() {
                let measured = dtft(h, hz, fs);
                let error_db = 20.0 * (measured.norm() / magnitude(hz)).log10();
                let target_deg = oracle.phase_rad(&magnitude, hz).to_degrees();
                let error_deg = wrap_deg(measured.arg().to_degrees() - target_deg);
                worst_db = worst_db.max(error_db.abs());
                worst_deg = worst_deg.max(error_deg.abs());
                // What the band-limited target lacks of the analog phase, as a time advance.
                let analog_deg = model(hz).arg().to_degrees();
                let advance = wrap_deg(target_deg - analog_deg) / 360.0 / hz * 1e6;
                if hz >= 1000.0 {
                    advance_us = advance_us.max(advance.abs());
                }
            }
            println!(
                "{:<44} {:>7.1} {:>8.4} {:>8.3} {:>12.2}",
                case.name,
                fs / 1000.0,
                worst_db,
                worst_deg,
                advance_us
            );
            if worst_db > MAX_ERROR_DB || worst_deg > MAX_ERROR_DEG {
                failures.push(format!(
                    "{} at {fs} Hz: {worst_db:.3} dB, {worst_deg:.2}°",
                    case.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Left and right earpieces with their own curves (the catalog's multi-BA on the left, the
/// catalog's dynamic IEM's curve on the right: far apart, to be told apart) behind a 10 Ω source: in a stereo block each channel's impulse
/// response is its own earpiece's circuit, within the audition's 0.1 dB, and the two differ by
/// more than that.
#[test]
fn each_ear_hears_its_own_earpiece() {
    let mut iem = catalog().iem("Andromeda").unwrap().clone();
    let dynamic = catalog().iem("IE 300").unwrap().impedance.clone();
    iem.set_impedance(dynamic, Some(Ear::Right));
    let rig = ideal_rig(iem);
    let audition = audition_on(&rig, source_with_ohms(10.0), Attenuator::none());
    let fs = 48_000.0;
    let settings = settings_for(&audition, Mode::Level);
    let mut designer = designer_for(&Case {
        name: "ears apart",
        audition: audition.clone(),
        rig: rig.clone(),
    });
    designer.prime(&settings.audition.values, fs);
    let mut engine = Engine::new(fs as f32, 2, &settings);
    let (lead, len) = (64, 32_768);
    let mut channels = vec![vec![0.0f32; lead + len]; 2];
    for c in &mut channels {
        c[lead] = 1.0;
    }
    let (left, right) = channels.split_at_mut(1);
    for (l, r) in left[0].chunks_mut(512).zip(right[0].chunks_mut(512)) {
        engine.process_with(&mut [l, r], &settings, &mut (), &mut designer);
        designer.run_pending();
    }
    let mut apart = 0.0f64;
    let ear_model = |ear: Ear| {
        let (rig_ear, chain_ear) = (rig.ear(ear), audition.on(&rig).ear(ear));
        move |hz: f64| (chain_ear.transfer(hz) / rig_ear.transfer(hz)).norm()
    };
    for ear in Ear::BOTH {
        let model = ear_model(ear);
        let other_model = ear_model(Ear::BOTH[1 - ear.index()]);
        let h = &channels[ear.index()][lead..];
        for hz in test_frequencies() {
            let error_db = 20.0 * (dtft(h, hz, fs).norm() / model(hz)).log10();
            assert!(
                error_db.abs() < MAX_ERROR_DB,
                "{ear:?} {hz} Hz: {error_db:.3} dB"
            );
            apart = apart.max((20.0 * (model(hz) / other_model(hz)).log10()).abs());
        }
    }
    assert!(
        apart > 3.0 * MAX_ERROR_DB,
        "the earpieces differ by {apart:.2} dB only"
    );
}

/// Coloration mode matches the loudness at the ear: pink noise played through the rig, and through
/// A then the rig, have the same K-weighted loudness, measured by the `ebur128` crate (within its
/// 0.1 LU tolerance class). The rig is applied by an FFT filter here (|H_rig| per bin; loudness
/// does not depend on phase).
#[test]
fn coloration_mode_matches_pink_loudness() {
    let fs = 48_000.0;
    let mut rng = Rng::new(9);
    let pink = support_pink(&mut rng, (20.0 * fs) as usize, fs);
    for case in cases() {
        let settings = settings_for(&case.audition, Mode::Coloration);
        let mut designer = designer_for(&case);
        let output = run(&mut designer, &settings, fs, &pink, 1024);
        let at_ear = |x: &[f32]| through_magnitude(x, fs, &|hz| case.rig.transfer(hz).norm());
        let loudness = |x: &[f32]| {
            let mut meter = ebur128::EbuR128::new(1, fs as u32, ebur128::Mode::I).unwrap();
            meter.add_frames_f32(&x[(2.0 * fs) as usize..]).unwrap();
            meter.loudness_global().unwrap()
        };
        let (rig, audition) = (loudness(&at_ear(&pink)), loudness(&at_ear(&output)));
        assert!(
            (rig - audition).abs() < 0.1,
            "{}: rig {rig:.3} LUFS, audition {audition:.3} LUFS",
            case.name
        );
    }
}

/// `x` with its spectrum scaled by `magnitude(hz)` (one FFT over the whole signal).
fn through_magnitude(x: &[f32], fs: f64, magnitude: &dyn Fn(f64) -> f64) -> Vec<f32> {
    let n = x.len().next_power_of_two();
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let (forward, inverse) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let mut time = forward.make_input_vec();
    for (t, &v) in time.iter_mut().zip(x) {
        *t = f64::from(v);
    }
    let mut spectrum = forward.make_output_vec();
    forward.process(&mut time, &mut spectrum).unwrap();
    for (k, bin) in spectrum.iter_mut().enumerate() {
        *bin *= magnitude((k as f64 * fs / n as f64).max(1.0)) / n as f64;
    }
    inverse.process(&mut spectrum, &mut time).unwrap();
    time[..x.len()].iter().map(|&v| v as f32).collect()
}

/// Pink noise with an exact 1/f power spectrum from 20 Hz to 20 kHz (random phases, shaped in
/// the frequency domain), about −20 dBFS RMS.
fn support_pink(rng: &mut Rng, len: usize, fs: f64) -> Vec<f32> {
    let n = len.next_power_of_two();
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let inverse = planner.plan_fft_inverse(n);
    let mut spectrum = inverse.make_input_vec();
    for (k, bin) in spectrum.iter_mut().enumerate() {
        let hz = k as f64 * fs / n as f64;
        if (20.0..=20_000.0).contains(&hz) {
            *bin = Complex64::from_polar(1.0 / hz.sqrt(), rng.uniform(0.0, 2.0 * PI));
        }
    }
    let mut x = inverse.make_output_vec();
    inverse.process(&mut spectrum, &mut x).unwrap();
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    x[..len].iter().map(|v| (0.1 * v / rms) as f32).collect()
}

/// Largest sample-to-sample step in `x`.
fn max_step(x: &[f32]) -> f64 {
    x.windows(2)
        .map(|w| (f64::from(w[1]) - f64::from(w[0])).abs())
        .fold(0.0, f64::max)
}

/// The rig of the click tests: a multi-BA IEM on the catalog's low-impedance interface output
/// (0.5 Ω). Raising audition A's impedance from there lowers the level monotonically in both
/// modes, so the steady states before and after bound every step in between. (From a 10 Ω rig,
/// 0.5 Ω would boost the IEM's impedance dips past the +6 dB ceiling, which then holds back a
/// level that returns part-way up the ramp: a louder steady state in the middle, not a click.)
fn click_rig() -> Chain {
    let c = catalog();
    Chain {
        source: c.source("low-Z").unwrap().clone(),
        attenuator: Attenuator::none(),
        cable: Cable::default(),
        iem: c.iem("Andromeda").unwrap().clone(),
    }
}

/// Runs a 1 kHz sine (−6 dBFS) through the engine in `block`-sized pieces while `settings_at(t)`
/// gives the settings at time t (s), every block under the allocation checker. Designs are made
/// between blocks, at most one per `DESIGN_LATENCY_S` of audio (about what a background design
/// takes), as the plugin's designer would answer.
fn run_sine(
    fs: f64,
    block: usize,
    seconds: f64,
    rig: &Chain,
    settings_at: &dyn Fn(f64) -> EngineSettings,
) -> Vec<f32> {
    const DESIGN_LATENCY_S: f64 = 0.004;
    let audition = AuditionChain::from_rig(rig);
    let mut designer = InlineDesigner::new(AuditionChains {
        rig: rig.clone(),
        a: audition.clone(),
        b: AuditionChain {
            attenuator: catalog().attenuator("75").unwrap().clone(),
            ..audition
        },
    });
    let first = settings_at(0.0);
    designer.prime(&first.audition.values, fs);
    let mut engine = Engine::new(fs as f32, 2, &first);
    let len = (seconds * fs) as usize;
    let mut out = Vec::with_capacity(len);
    let mut left = vec![0.0f32; block];
    let mut right = vec![0.0f32; block];
    let mut last_design = 0usize;
    let mut n = 0;
    while n < len {
        let m = block.min(len - n);
        for i in 0..m {
            let v = 0.5 * (2.0 * PI * 1000.0 * (n + i) as f64 / fs).sin();
            left[i] = v as f32;
            right[i] = -v as f32;
        }
        let settings = settings_at(n as f64 / fs);
        let channels: &mut [&mut [f32]] = &mut [&mut left[..m], &mut right[..m]];
        nice_assert_no_alloc::assert_no_alloc(|| {
            engine.process_with(channels, &settings, &mut (), &mut designer);
        });
        if let Some(i) = (0..m).find(|&i| left[i] != -right[i]) {
            panic!(
                "channels processed differently at sample {}: {} vs {} ({fs} Hz, blocks of {block})",
                n + i,
                left[i],
                right[i]
            );
        }
        out.extend_from_slice(&left[..m]);
        n += m;
        if (n - last_design) as f64 >= DESIGN_LATENCY_S * fs {
            designer.run_pending();
            last_design = n;
        }
    }
    out
}

/// Checks that `during` steps no further than the steady states allow (issue 9: 1 %).
fn assert_no_click(name: &str, before: &[f32], during: &[f32], after: &[f32]) {
    let steady = max_step(before).max(max_step(after));
    let worst = max_step(during);
    assert!(
        worst <= 1.01 * steady,
        "{name}: step {worst:.6} vs steady {steady:.6} ({:+.2} %)",
        100.0 * (worst / steady - 1.0)
    );
}

/// The values of audition A (the rig's parts) and B (the rig's source behind a 75 Ω adapter).
fn click_values() -> (ChainValues, ChainValues) {
    let rig = click_rig();
    let a = AuditionChain::from_rig(&rig).values();
    let b = AuditionChain {
        attenuator: catalog().attenuator("75").unwrap().clone(),
        ..AuditionChain::from_rig(&rig)
    }
    .values();
    (a, b)
}

fn click_settings(
    values: (ChainValues, ChainValues),
    selection: Selection,
    output_ohms: f64,
    mode: Mode,
) -> EngineSettings {
    let (mut a, b) = values;
    a.output_ohms = output_ohms;
    EngineSettings {
        audition: AuditionSettings {
            selection,
            values: AuditionValues {
                a,
                b,
                mode,
                ..AuditionValues::default()
            },
        },
        ..EngineSettings::default()
    }
}

/// Issue 9: while audition A's output impedance ramps 0.5 → 75 Ω over 1 s under a steady 1 kHz
/// sine, in both modes, no step exceeds the steady states' largest by more than 1 %; at every
/// rate and at blocks of 1, 64 and 4096; no allocation in the audio path.
#[test]
fn impedance_ramp_does_not_click() {
    let rig = click_rig();
    let values = click_values();
    for fs in RATES_HZ {
        for block in [1, 64, 4096] {
            for mode in [Mode::Coloration, Mode::Level] {
                let ohms_at = |t: f64| 0.5 + 74.5 * ((t - 0.5) / 1.0).clamp(0.0, 1.0);
                let out = run_sine(fs, block, 2.0, &rig, &|t| {
                    click_settings(values, Selection::A, ohms_at(t), mode)
                });
                let at = |t: f64| (t * fs) as usize;
                assert_no_click(
                    &format!("{mode:?} ramp at {fs} Hz, blocks of {block}"),
                    &out[at(0.3)..at(0.5)],
                    &out[at(0.5)..at(1.7)],
                    &out[at(1.7)..],
                );
            }
        }
    }
}

/// Rig → A → B → Rig under the same sine: every switch glides.
#[test]
fn switching_does_not_click() {
    let rig = click_rig();
    let values = click_values();
    for fs in RATES_HZ {
        for block in [1, 64, 4096] {
            for mode in [Mode::Coloration, Mode::Level] {
                let selection_at = |t: f64| match t {
                    t if t < 0.3 => Selection::Rig,
                    t if t < 0.6 => Selection::A,
                    t if t < 0.9 => Selection::B,
                    _ => Selection::Rig,
                };
                let out = run_sine(fs, block, 1.2, &rig, &|t| {
                    click_settings(values, selection_at(t), 0.5, mode)
                });
                let at = |t: f64| (t * fs) as usize;
                let name = format!("{mode:?} switch at {fs} Hz, blocks of {block}");
                // Each switch against the steady states on either side of it.
                for (before, switch, after) in [(0.1, 0.3, 0.6), (0.4, 0.6, 0.9), (0.7, 0.9, 1.2)] {
                    assert_no_click(
                        &name,
                        &out[at(before)..at(switch)],
                        &out[at(switch)..at(switch + 0.05)],
                        &out[at(switch + 0.1)..at(after)],
                    );
                }
            }
        }
    }
}

/// The audition in the audio path changes nothing while the rig is selected: bit for bit.
#[test]
fn rig_passes_bit_for_bit() {
    let fs = 48_000.0;
    let rig = click_rig();
    let values = click_values();
    let out = run_sine(fs, 64, 0.2, &rig, &|_| {
        click_settings(values, Selection::Rig, 75.0, Mode::Level)
    });
    for (n, &v) in out.iter().enumerate() {
        let x = (0.5 * (2.0 * PI * 1000.0 * n as f64 / fs).sin()) as f32;
        assert_eq!(v.to_bits(), x.to_bits(), "sample {n}");
    }
}

/// Bypass: after its crossfade the feed passes bit for bit even with A selected, and releasing
/// it glides back without a click.
#[test]
fn bypass_is_bit_exact_and_glides() {
    let fs = 48_000.0;
    let rig = click_rig();
    let values = click_values();
    let out = run_sine(fs, 64, 1.0, &rig, &|t| EngineSettings {
        bypass: (0.3..0.6).contains(&t),
        trim_db: -3.0,
        ..click_settings(values, Selection::B, 0.5, Mode::Level)
    });
    let at = |t: f64| (t * fs) as usize;
    for (n, &y) in out.iter().enumerate().take(at(0.6)).skip(at(0.32)) {
        let x = (0.5 * (2.0 * PI * 1000.0 * n as f64 / fs).sin()) as f32;
        assert_eq!(y.to_bits(), x.to_bits(), "sample {n}");
    }
    assert_no_click(
        "bypass on",
        &out[at(0.1)..at(0.3)],
        &out[at(0.3)..at(0.35)],
        &out[at(0.4)..at(0.6)],
    );
    assert_no_click(
        "bypass off",
        &out[at(0.4)..at(0.6)],
        &out[at(0.6)..at(0.65)],
        &out[at(0.7)..],
    );
}
