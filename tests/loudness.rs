//! Loudness against EBU Tech 3341 (cases 1–6, 9–14) and Tech 3342 (cases 1–4), synthesized here
//! from the tables' definitions, each checked with the standard's tolerance; and against the
//! `ebur128` crate on noise and a music-like signal.

mod support;

use earstage::dsp::MeterFrame;
use support::*;

const FS: f64 = 48_000.0;
/// Tech 3341 Table 1 tolerance for M, S and I, LU.
const TOL_LU: f64 = 0.1;
/// Tech 3342 Table 1 tolerance for LRA, LU.
const LRA_TOL_LU: f64 = 1.0;
/// 100 ms blocks: the meter is read at 10 Hz like a live meter.
const BLOCK_100MS: usize = 4_800;

fn concat(parts: &[Vec<f64>]) -> Vec<f64> {
    parts.concat()
}

fn run(x: &[f64]) -> MeterFrame {
    meter_blocks(FS, &stereo(x), BLOCK_100MS, |_, _| {}).0
}

fn assert_close(what: &str, got: Option<f64>, want: f64, tol: f64) {
    let got = got.unwrap_or_else(|| panic!("{what}: no reading"));
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got:.3}, expected {want} ±{tol}"
    );
}

mod tech_3341 {
    use super::*;

    #[test]
    fn case_1_stereo_sine_at_minus_23() {
        let f = run(&tone_1k(FS, -23.0, 20.0));
        assert_close("M", f.loudness.momentary_lufs, -23.0, TOL_LU);
        assert_close("S", f.loudness.short_term_lufs, -23.0, TOL_LU);
        assert_close("I", f.loudness.integrated_lufs, -23.0, TOL_LU);
    }

    #[test]
    fn case_2_stereo_sine_at_minus_33() {
        let f = run(&tone_1k(FS, -33.0, 20.0));
        assert_close("M", f.loudness.momentary_lufs, -33.0, TOL_LU);
        assert_close("S", f.loudness.short_term_lufs, -33.0, TOL_LU);
        assert_close("I", f.loudness.integrated_lufs, -33.0, TOL_LU);
    }

    #[test]
    fn case_3_relative_gate() {
        let x = concat(&[
            tone_1k(FS, -36.0, 10.0),
            tone_1k(FS, -23.0, 60.0),
            tone_1k(FS, -36.0, 10.0),
        ]);
        assert_close("I", run(&x).loudness.integrated_lufs, -23.0, TOL_LU);
    }

    #[test]
    fn case_4_absolute_and_relative_gates() {
        let x = concat(&[
            tone_1k(FS, -72.0, 10.0),
            tone_1k(FS, -36.0, 10.0),
            tone_1k(FS, -23.0, 60.0),
            tone_1k(FS, -36.0, 10.0),
            tone_1k(FS, -72.0, 10.0),
        ]);
        assert_close("I", run(&x).loudness.integrated_lufs, -23.0, TOL_LU);
    }

    #[test]
    fn case_5_gated_average() {
        let x = concat(&[
            tone_1k(FS, -26.0, 20.0),
            tone_1k(FS, -20.0, 20.1),
            tone_1k(FS, -26.0, 20.0),
        ]);
        assert_close("I", run(&x).loudness.integrated_lufs, -23.0, TOL_LU);
    }

    #[test]
    fn case_6_five_channels() {
        // L, R, C, Ls, Rs at −28, −28, −24, −30, −30 dBFS.
        let levels = [-28.0, -28.0, -24.0, -30.0, -30.0];
        let channels: Vec<Vec<f32>> = levels
            .iter()
            .map(|&l| to_f32(&tone_1k(FS, l, 20.0)))
            .collect();
        let (f, _) = meter_blocks(FS, &channels, BLOCK_100MS, |_, _| {});
        assert_close("I", f.loudness.integrated_lufs, -23.0, TOL_LU);
    }

    #[test]
    fn case_9_short_term_constant_after_3_s() {
        let period = concat(&[tone_1k(FS, -20.0, 1.34), tone_1k(FS, -30.0, 1.66)]);
        let x = period.repeat(5);
        let mut checked = 0;
        meter_blocks(FS, &stereo(&x), BLOCK_100MS, |end, f| {
            if end as f64 / FS >= 3.0 {
                assert_close("S", f.loudness.short_term_lufs, -23.0, TOL_LU);
                checked += 1;
            }
        });
        assert!(checked >= 100);
    }

    #[test]
    fn case_10_max_short_term_of_each_file() {
        for i in 0..20 {
            let x = concat(&[
                silence(FS, i as f64 * 0.15),
                tone_1k(FS, -23.0, 3.0),
                silence(FS, 1.0),
            ]);
            assert_close(
                &format!("segment {i} max S"),
                run(&x).loudness.short_term_max_lufs,
                -23.0,
                TOL_LU,
            );
        }
    }

    /// Live-meter cases 11 and 14: segment i is `i·step` of silence, a tone at −38 + i dBFS for
    /// `tone_s`, then silence to `2·tone_s`; the maximum of `reading` over each segment must be
    /// that segment's tone level.
    fn successive_maxima(
        what: &str,
        step_s: f64,
        tone_s: f64,
        reading: fn(&MeterFrame) -> Option<f64>,
    ) {
        let segments: Vec<Vec<f64>> = (0..20)
            .map(|i| {
                concat(&[
                    silence(FS, i as f64 * step_s),
                    tone_1k(FS, -38.0 + i as f64, tone_s),
                    silence(FS, tone_s - i as f64 * step_s),
                ])
            })
            .collect();
        let x = concat(&segments);
        let mut maxima = [f64::NEG_INFINITY; 20];
        meter_blocks(FS, &stereo(&x), 240, |end, f| {
            let seg = (((end - 1) as f64 / FS / (2.0 * tone_s)) as usize).min(19);
            if let Some(v) = reading(f) {
                maxima[seg] = maxima[seg].max(v);
            }
        });
        for (i, m) in maxima.iter().enumerate() {
            assert_close(
                &format!("segment {i} max {what}"),
                Some(*m),
                -38.0 + i as f64,
                TOL_LU,
            );
        }
    }

    #[test]
    fn case_11_successive_max_short_term_live() {
        successive_maxima("S", 0.15, 3.0, |f| f.loudness.short_term_lufs);
    }

    #[test]
    fn case_12_momentary_constant_after_1_s() {
        let period = concat(&[tone_1k(FS, -20.0, 0.18), tone_1k(FS, -30.0, 0.22)]);
        let x = period.repeat(25);
        let mut checked = 0;
        meter_blocks(FS, &stereo(&x), BLOCK_100MS, |end, f| {
            if end as f64 / FS >= 1.0 {
                assert_close("M", f.loudness.momentary_lufs, -23.0, TOL_LU);
                checked += 1;
            }
        });
        assert!(checked >= 80);
    }

    #[test]
    fn case_13_max_momentary_of_each_file() {
        for i in 0..20 {
            let x = concat(&[
                silence(FS, i as f64 * 0.02),
                tone_1k(FS, -23.0, 0.4),
                silence(FS, 1.0),
            ]);
            assert_close(
                &format!("segment {i} max M"),
                run(&x).loudness.momentary_max_lufs,
                -23.0,
                TOL_LU,
            );
        }
    }

    #[test]
    fn case_14_successive_max_momentary_live() {
        successive_maxima("M", 0.02, 0.4, |f| f.loudness.momentary_lufs);
    }
}

mod tech_3342 {
    use super::*;

    fn two_tones(a: f64, b: f64) -> Vec<f64> {
        concat(&[tone_1k(FS, a, 20.0), tone_1k(FS, b, 20.0)])
    }

    #[test]
    fn case_1_ten_lu_apart() {
        assert_close(
            "LRA",
            run(&two_tones(-20.0, -30.0)).loudness.loudness_range_lu,
            10.0,
            LRA_TOL_LU,
        );
    }

    #[test]
    fn case_2_five_lu_apart() {
        assert_close(
            "LRA",
            run(&two_tones(-20.0, -15.0)).loudness.loudness_range_lu,
            5.0,
            LRA_TOL_LU,
        );
    }

    #[test]
    fn case_3_twenty_lu_apart() {
        assert_close(
            "LRA",
            run(&two_tones(-40.0, -20.0)).loudness.loudness_range_lu,
            20.0,
            LRA_TOL_LU,
        );
    }

    #[test]
    fn case_4_five_segments() {
        let x = concat(&[-50.0, -35.0, -20.0, -35.0, -50.0].map(|l| tone_1k(FS, l, 20.0)));
        assert_close("LRA", run(&x).loudness.loudness_range_lu, 15.0, LRA_TOL_LU);
    }

    #[test]
    fn repeating_the_signal_does_not_change_the_result() {
        let x = two_tones(-20.0, -30.0);
        let once = run(&x).loudness.loudness_range_lu.unwrap();
        let twice = run(&x.repeat(2)).loudness.loudness_range_lu.unwrap();
        assert!((once - twice).abs() <= LRA_TOL_LU, "{once} vs {twice}");
    }
}

/// The same measurements by the `ebur128` crate, queried on the same 5 ms grid.
mod against_ebur128 {
    use super::*;
    use ebur128::{EbuR128, Mode};

    struct Reference {
        integrated: f64,
        momentary_max: f64,
        short_term_max: f64,
        range: f64,
    }

    fn reference(channels: &[Vec<f32>]) -> Reference {
        let mut r = EbuR128::new(
            channels.len() as u32,
            FS as u32,
            Mode::I | Mode::M | Mode::S | Mode::LRA,
        )
        .unwrap();
        let step = (FS * 0.005) as usize;
        let (mut m_max, mut s_max) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for (k, start) in (0..channels[0].len()).step_by(step).enumerate() {
            let end = (start + step).min(channels[0].len());
            let views: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
            r.add_frames_planar_f32(&views).unwrap();
            let elapsed = k + 1;
            if elapsed >= 80 {
                m_max = m_max.max(r.loudness_momentary().unwrap());
            }
            if elapsed >= 600 {
                s_max = s_max.max(r.loudness_shortterm().unwrap());
            }
        }
        Reference {
            integrated: r.loudness_global().unwrap(),
            momentary_max: m_max,
            short_term_max: s_max,
            range: r.loudness_range().unwrap(),
        }
    }

    fn compare(channels: &[Vec<f32>]) {
        let (f, _) = meter_blocks(FS, channels, 1_000, |_, _| {});
        let r = reference(channels);
        let l = f.loudness;
        assert_close("I", l.integrated_lufs, r.integrated, TOL_LU);
        assert_close("M max", l.momentary_max_lufs, r.momentary_max, TOL_LU);
        assert_close("S max", l.short_term_max_lufs, r.short_term_max, TOL_LU);
        assert_close("LRA", l.loudness_range_lu, r.range, LRA_TOL_LU);
    }

    /// Pink-ish noise whose level swells and falls, stereo with different channels.
    fn swelling_noise(seconds: f64, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = Rng::new(seed);
        let n = (seconds * FS) as usize;
        (0..2)
            .map(|_| {
                let mut lp = 0.0;
                (0..n)
                    .map(|i| {
                        let t = i as f64 / FS;
                        lp = 0.97 * lp + 0.03 * rng.normal();
                        let envelope = 0.05 + 0.2 * (0.5 + 0.5 * (t * 0.7).sin()).powi(3);
                        (envelope * (0.3 * rng.normal() + 3.0 * lp)) as f32
                    })
                    .collect()
            })
            .collect()
    }

    /// Chords with decaying notes and a percussive noise layer, quiet and loud sections.
    fn music_like(seconds: f64) -> Vec<Vec<f32>> {
        let mut rng = Rng::new(7);
        let n = (seconds * FS) as usize;
        let mut left = Vec::with_capacity(n);
        let mut right = Vec::with_capacity(n);
        for i in 0..n {
            let t = i as f64 / FS;
            let section = if ((t / 8.0) as usize).is_multiple_of(2) {
                0.3
            } else {
                1.0
            };
            let beat = (t * 2.0).fract();
            let notes: f64 = [110.0, 220.0, 277.18, 329.63, 440.0]
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    (2.0 * std::f64::consts::PI * f * t + k as f64).sin() / (k + 1) as f64
                })
                .sum();
            let tone = 0.15 * notes * (-2.0 * beat).exp();
            let hit = 0.2 * rng.normal() * (-30.0 * beat).exp();
            left.push((section * (tone + hit)) as f32);
            right.push((section * (0.8 * tone - hit)) as f32);
        }
        vec![left, right]
    }

    #[test]
    fn noise() {
        compare(&swelling_noise(40.0, 3));
    }

    #[test]
    fn music_like_signal() {
        compare(&music_like(40.0));
    }

    #[test]
    fn mono_noise_at_44k1() {
        let x = swelling_noise(20.0, 11).swap_remove(0);
        let channels = vec![x];
        let mut r = EbuR128::new(1, 44_100, Mode::I).unwrap();
        r.add_frames_planar_f32(&[&channels[0]]).unwrap();
        let (f, _) = meter_blocks(44_100.0, &channels, 777, |_, _| {});
        assert_close(
            "I",
            f.loudness.integrated_lufs,
            r.loudness_global().unwrap(),
            TOL_LU,
        );
    }
}
