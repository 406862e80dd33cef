//! True peak against EBU Tech 3341 cases 15–23 (synthesized here from their definitions), the
//! BS.1770 reading against a plain implementation of the standard's filter, and the precise
//! reading against the ideal band-limited peak computed by heavy FFT oversampling.

mod support;

use std::f64::consts::PI;

use earstage::dsp::meter::true_peak::BS1770_BANK;
use realfft::RealFftPlanner;
use support::*;

/// Tech 3341 Table 1 tolerance for cases 15–23, dB.
const EBU_TOL_HIGH_DB: f64 = 0.2;
const EBU_TOL_LOW_DB: f64 = -0.4;
/// The precise reading's promise, dB.
const PRECISE_TOL_DB: f64 = 0.02;
const RATES_HZ: [f64; 7] = [
    44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0, 384_000.0,
];

/// (precise, bs1770) max-hold of channel 0, dBTP.
fn true_peaks(fs: f64, x: &[f64]) -> (f64, f64) {
    let (f, _) = meter_blocks(fs, &[to_f32(x)], 1_000, |_, _| {});
    let c = f.channel[0];
    (
        f64::from(c.true_peak_max_dbtp),
        f64::from(c.true_peak_bs1770_max_dbtp),
    )
}

mod tech_3341 {
    use super::*;

    const FS: f64 = 48_000.0;

    fn check(case: u32, x: &[f64], expected_dbtp: f64) {
        let (precise, bs1770) = true_peaks(FS, x);
        for (name, got) in [("precise", precise), ("BS.1770", bs1770)] {
            let err = got - expected_dbtp;
            assert!(
                (EBU_TOL_LOW_DB..=EBU_TOL_HIGH_DB).contains(&err),
                "case {case}, {name} reading: {got:.3} dBTP, expected {expected_dbtp} +0.2/−0.4"
            );
        }
    }

    fn tone(freq: f64, amplitude: f64, phase_deg: f64) -> Vec<f64> {
        fade(
            sine(FS, freq, amplitude, phase_deg.to_radians(), 1.0),
            FS,
            0.01,
        )
    }

    #[test]
    fn case_15() {
        check(15, &tone(FS / 4.0, 0.5, 0.0), -6.0);
    }

    #[test]
    fn case_16() {
        check(16, &tone(FS / 4.0, 0.5, 45.0), -6.0);
    }

    #[test]
    fn case_17() {
        check(17, &tone(FS / 6.0, 0.5, 60.0), -6.0);
    }

    #[test]
    fn case_18() {
        check(18, &tone(FS / 8.0, 0.5, 67.5), -6.0);
    }

    #[test]
    fn case_19() {
        check(19, &tone(FS / 4.0, 1.41, 45.0), 3.0);
    }

    /// Cases 20–23: an fs/6 tone at 0.5 holding one phase-continuous period of fs/4 at 1.0, made
    /// at 4·fs, low-passed and decimated with an offset of 0–3 samples at the 4·fs rate.
    fn burst(offset: usize) -> Vec<f64> {
        let fs4 = 4.0 * FS;
        let mut x = Vec::new();
        let mut phase = 0.0f64;
        let mut push = |freq: f64, amplitude: f64, cycles: usize, x: &mut Vec<f64>| {
            let n = (cycles as f64 * fs4 / freq).round() as usize;
            for _ in 0..n {
                x.push(amplitude * phase.sin());
                phase += 2.0 * PI * freq / fs4;
            }
            phase = 0.0; // each section is a whole number of cycles
        };
        push(FS / 6.0, 0.5, 2_400, &mut x); // 0.3 s
        push(FS / 4.0, 1.0, 1, &mut x);
        push(FS / 6.0, 0.5, 2_400, &mut x);
        let x = fade(x, fs4, 0.01);
        // Anti-aliasing low-pass at 4·fs: windowed sinc, cut-off 20 kHz, 1023 taps.
        let half = 511i64;
        let cutoff = 20_000.0 / fs4;
        let taps: Vec<f64> = (-half..=half)
            .map(|k| {
                let t = k as f64;
                let sinc = if k == 0 {
                    2.0 * cutoff
                } else {
                    (2.0 * PI * cutoff * t).sin() / (PI * t)
                };
                sinc * (0.42
                    + 0.5 * (PI * t / half as f64).cos()
                    + 0.08 * (2.0 * PI * t / half as f64).cos())
            })
            .collect();
        let filtered: Vec<f64> = (0..x.len())
            .map(|n| {
                taps.iter()
                    .enumerate()
                    .filter_map(|(j, h)| {
                        let i = n as i64 + half - j as i64;
                        (0..x.len() as i64).contains(&i).then(|| h * x[i as usize])
                    })
                    .sum()
            })
            .collect();
        filtered.iter().skip(offset).step_by(4).copied().collect()
    }

    #[test]
    fn cases_20_to_23() {
        for offset in 0..4 {
            check(20 + offset as u32, &burst(offset), 0.0);
        }
    }
}

/// The BS.1770 reading is bit-compatible with the standard's filter: compare with a plain
/// zero-stuff-and-convolve implementation of the 48-tap prototype.
mod bs1770_reading {
    use super::*;

    /// The 48-tap prototype: tap 4k + p is phase p's tap k (BS.1770-5 Annex 2 table).
    fn prototype() -> Vec<f64> {
        (0..48)
            .map(|j| f64::from(BS1770_BANK[j / 4][j % 4]))
            .collect()
    }

    /// Zero-stuff by 4, convolve, keep the phases the rate calls for, max with the sample peak.
    fn reference(x: &[f32], phases: &[usize]) -> f64 {
        let h = prototype();
        let mut peak = x.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
        for m in 0..4 * x.len() {
            if !phases.contains(&(m % 4)) {
                continue;
            }
            let y: f64 = (0..48)
                .filter(|j| j <= &m && (m - j) % 4 == 0)
                .map(|j| h[j] * f64::from(x[(m - j) / 4]))
                .sum();
            peak = peak.max(y.abs());
        }
        peak
    }

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| (0.25 * rng.normal()) as f32).collect()
    }

    #[test]
    fn matches_the_standard_filter_at_every_factor() {
        for (fs, phases) in [
            (44_100.0, &[0usize, 1, 2, 3][..]),
            (48_000.0, &[0, 1, 2, 3]),
            (96_000.0, &[0, 2]),
            (192_000.0, &[]),
        ] {
            for seed in 0..3 {
                let x = noise(3_000, seed);
                let (_, bs1770) =
                    true_peaks(fs, &x.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
                let want = db(reference(&x, phases));
                assert!(
                    (bs1770 - want).abs() < 1e-4,
                    "{fs} Hz, seed {seed}: {bs1770} vs {want}"
                );
            }
        }
    }
}

/// The ideal band-limited peak of a finite signal: zero-pad, FFT, zero-fill the spectrum to 32×
/// the rate, inverse FFT, and refine the largest sample with a parabola.
fn ideal_peak_db(x: &[f64]) -> f64 {
    const UP: usize = 32;
    let n = (2 * x.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n * UP);
    let mut padded = vec![0.0; n];
    padded[n / 4..n / 4 + x.len()].copy_from_slice(x);
    let mut spectrum = forward.make_output_vec();
    forward.process(&mut padded, &mut spectrum).unwrap();
    let mut wide = inverse.make_input_vec();
    // Everything below Nyquist; the Nyquist bin of a band-limited signal is empty.
    wide[..n / 2].copy_from_slice(&spectrum[..n / 2]);
    let mut y = inverse.make_output_vec();
    inverse.process(&mut wide, &mut y).unwrap();
    let (i, _) = y
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .unwrap();
    let (a, b, c) = (y[i - 1].abs(), y[i].abs(), y[i + 1].abs());
    let curvature = a - 2.0 * b + c;
    let offset = 0.5 * (a - c) / curvature;
    db((b - 0.25 * (a - c) * offset) / n as f64)
}

/// The precise reading is within ±0.02 dB of the ideal band-limited peak for signals band-limited
/// to 0.45·fs, at every rate.
mod precise_reading {
    use super::*;

    fn check(fs: f64, x: &[f64], what: &str) {
        let (precise, _) = true_peaks(fs, x);
        let ideal = ideal_peak_db(x);
        assert!(
            (precise - ideal).abs() <= PRECISE_TOL_DB,
            "{what} at {fs} Hz: precise {precise:.4} dBTP, ideal {ideal:.4}"
        );
    }

    #[test]
    fn sines_at_random_frequencies_and_phases() {
        let mut rng = Rng::new(42);
        for fs in RATES_HZ {
            for _ in 0..12 {
                let f = rng.uniform(20.0 / fs, 0.45) * fs;
                let phase = rng.uniform(0.0, 2.0 * PI);
                let x = fade(sine(fs, f, 0.8, phase, 4_096.0 / fs), fs, 512.0 / fs);
                check(fs, &x, &format!("sine {f:.1} Hz, phase {phase:.3}"));
            }
        }
    }

    #[test]
    fn sines_near_the_band_edge() {
        for fs in [44_100.0, 48_000.0, 96_000.0] {
            for k in 0..8 {
                let f = (0.44 + 0.00125 * k as f64) * fs;
                let x = fade(
                    sine(fs, f, 0.7, 0.3 * k as f64, 4_096.0 / fs),
                    fs,
                    1_024.0 / fs,
                );
                check(fs, &x, &format!("sine {f:.1} Hz"));
            }
        }
    }

    /// A pulse band-limited to 0.45·fs centred between samples: sinc(0.9·(n − τ)) under a long
    /// Kaiser-like window.
    fn pulse(tau: f64, amplitude: f64) -> Vec<f64> {
        let half = 256.0;
        (0..1024)
            .map(|n| {
                let t = n as f64 - 512.0 - tau;
                let s = if t == 0.0 {
                    1.0
                } else {
                    (0.9 * PI * t).sin() / (0.9 * PI * t)
                };
                let w = (1.0 - (t / half).powi(2)).max(0.0).powi(2);
                amplitude * s * w
            })
            .collect()
    }

    #[test]
    fn band_limited_pulses_at_fractional_offsets() {
        let mut rng = Rng::new(9);
        for fs in RATES_HZ {
            for k in 0..10 {
                let tau = k as f64 / 10.0 + rng.uniform(0.0, 0.1);
                let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                check(fs, &pulse(tau, sign * 0.9), &format!("pulse at +{tau:.3}"));
            }
        }
    }

    #[test]
    fn random_three_tone_mixes() {
        let mut rng = Rng::new(5);
        for fs in [44_100.0, 48_000.0, 192_000.0] {
            for _ in 0..8 {
                let mut x = vec![0.0; 4_096];
                for _ in 0..3 {
                    let s = sine(
                        fs,
                        rng.uniform(0.01, 0.45) * fs,
                        0.3,
                        rng.uniform(0.0, 6.3),
                        4_096.0 / fs,
                    );
                    x.iter_mut().zip(s).for_each(|(a, b)| *a += b);
                }
                check(fs, &fade(x, fs, 512.0 / fs), "three tones");
            }
        }
    }

    /// The gate that decides what to refine relies on the standard filter never reading more than
    /// 2 dB under the ideal peak (the gate margin is 3 dB).
    #[test]
    fn standard_filter_never_reads_more_than_2_db_short() {
        let mut rng = Rng::new(77);
        let fs = 48_000.0;
        for k in 0..40 {
            let x = if k % 2 == 0 {
                let f = rng.uniform(0.2, 0.45) * fs;
                fade(
                    sine(fs, f, 0.8, rng.uniform(0.0, 6.3), 2_048.0 / fs),
                    fs,
                    256.0 / fs,
                )
            } else {
                pulse(rng.uniform(0.0, 1.0), 0.9)
            };
            let (_, bs1770) = true_peaks(fs, &x);
            let ideal = ideal_peak_db(&x);
            assert!(bs1770 >= ideal - 2.0, "{bs1770} vs ideal {ideal}");
        }
    }
}

mod overs {
    use super::*;

    /// Three 20 ms bursts of fs/4 at 45° (samples 3 dB below the true peak) at 0.1, 0.3 and
    /// 0.5 s, true peak +1 dBTP, in silence.
    fn bursts(fs: f64) -> Vec<f64> {
        let mut x = vec![0.0; (0.7 * fs) as usize];
        let amplitude = 10f64.powf(1.0 / 20.0);
        for start_s in [0.1, 0.3, 0.5] {
            let b = fade(sine(fs, fs / 4.0, amplitude, PI / 4.0, 0.02), fs, 0.002);
            let start = (start_s * fs) as usize;
            x[start..start + b.len()].copy_from_slice(&b);
        }
        x
    }

    #[test]
    fn each_burst_is_one_over_logged_with_time_and_level() {
        let fs = 48_000.0;
        let x = bursts(fs);
        let (frame, log) = meter_blocks(fs, &stereo(&x), 333, |_, _| {});
        assert_eq!(frame.channel[0].overs, 3);
        assert_eq!(frame.channel[1].overs, 3);
        assert_eq!(log.len(), 6);
        for ch in 0..2 {
            let times: Vec<f64> = log
                .iter()
                .filter(|e| e.channel == ch)
                .map(|e| e.time_s)
                .collect();
            for (t, want) in times.iter().zip([0.1, 0.3, 0.5]) {
                // The fade-in takes 2 ms to reach the threshold.
                assert!(
                    (t - want).abs() < 0.003,
                    "over at {t} s, expected about {want} s"
                );
            }
        }
        for e in &log {
            assert!(
                (f64::from(e.level_dbtp) - 1.0).abs() <= PRECISE_TOL_DB,
                "{e:?}"
            );
        }
    }

    #[test]
    fn over_times_count_from_the_last_measurement_reset() {
        let fs = 48_000.0;
        let x = to_f32(&bursts(fs));
        let mut meter = earstage::dsp::Meter::new(fs as f32, 1);
        let mut log = Vec::new();
        let reset_at = (0.2 * fs) as usize;
        meter.process(&[&x[..reset_at]], |e| log.push(e));
        meter.reset();
        log.clear();
        meter.process(&[&x[reset_at..]], |e| log.push(e));
        meter.finish(|e| log.push(e));
        let times: Vec<f64> = log.iter().map(|e| e.time_s).collect();
        assert_eq!(times.len(), 2, "{times:?}");
        for (t, want) in times.iter().zip([0.1, 0.3]) {
            assert!(
                (t - want).abs() < 0.003,
                "over at {t} s after the reset, expected about {want} s"
            );
        }
    }

    #[test]
    fn a_peak_below_the_threshold_is_not_an_over() {
        let fs = 48_000.0;
        let x: Vec<f64> = bursts(fs)
            .iter()
            .map(|v| v * 10f64.powf(-1.5 / 20.0))
            .collect();
        let (frame, log) = meter_blocks(fs, &stereo(&x), 512, |_, _| {});
        assert_eq!(frame.channel[0].overs, 0);
        assert!(log.is_empty());
    }
}

/// The readings do not depend on how the host slices the stream: blocks of 1 sample, odd sizes
/// and random sizes give the precise reading of one big block, including at an abrupt end.
mod block_independence {
    use super::*;

    #[test]
    fn any_block_pattern_reads_the_same() {
        let fs = 48_000.0;
        let signal = sine(fs, 1000.0, 0.1, 0.3, 0.25); // stops mid-cycle
        let x = to_f32(&signal);
        let reading = |sizes: &mut dyn FnMut() -> usize| {
            let mut meter = earstage::dsp::Meter::new(fs as f32, 1);
            let mut start = 0;
            while start < x.len() {
                let end = (start + sizes()).min(x.len());
                meter.process(&[&x[start..end]], |_| {});
                start = end;
            }
            meter.finish(|_| {});
            let c = meter.frame().channel[0];
            (c.true_peak_max_dbtp, c.true_peak_bs1770_max_dbtp)
        };
        let whole = reading(&mut || usize::MAX);
        let mut rng = Rng::new(3);
        let mut toggle = false;
        type BlockSizes = Box<dyn FnMut() -> usize>;
        let patterns: [(&str, BlockSizes); 4] = [
            ("1", Box::new(|| 1)),
            ("513", Box::new(|| 513)),
            (
                "512/1",
                Box::new(move || {
                    toggle = !toggle;
                    if toggle { 512 } else { 1 }
                }),
            ),
            (
                "random",
                Box::new(move || rng.uniform(1.0, 2_000.0) as usize),
            ),
        ];
        for (name, mut sizes) in patterns {
            let got = reading(&mut *sizes);
            assert!(
                (got.0 - whole.0).abs() < 1e-4,
                "blocks {name}: precise {} vs {}",
                got.0,
                whole.0
            );
            assert!(
                (got.1 - whole.1).abs() < 1e-4,
                "blocks {name}: BS.1770 {} vs {}",
                got.1,
                whole.1
            );
        }
        // And it is the ideal peak of the signal followed by silence (the abrupt end rings).
        let ideal = ideal_peak_db(&signal);
        assert!(
            (f64::from(whole.0) - ideal).abs() <= PRECISE_TOL_DB,
            "{} vs ideal {ideal}",
            whole.0
        );
    }
}
