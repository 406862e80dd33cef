//! Delivered SPL and exposure, measured through the real processing path (the engine the plugin's
//! `process()` runs, with its designer) against closed forms that do not use the code under test:
//!
//! - a 1 kHz sine of known dBFS on a chain delivers `S_V + 20·log10(V_fs·g·|H(1 kHz)|)` + its
//!   level at the eardrum (the circuit's `Chain::transfer`), and A(1 kHz) = C(1 kHz) = 0 dB;
//! - its diffuse-field equivalent is that less the table's diffuse-field → eardrum transfer at
//!   1 kHz; doses follow NIOSH's and WHO's formulas from that level;
//! - the stage leak is ambient − isolation, energy-added;
//! - the calibration noise has the RMS AES17 defines for −20 dBFS and equal power per octave.

mod support;

use std::sync::Arc;

use earstage::design::handoff::AuditionChains;
use earstage::dsp::spl::exposure::ExposureStore;
use earstage::dsp::spl::stage::SplReadings;
use earstage::dsp::{Collector, EngineSettings, StageSettings};
use earstage::model::audition::AuditionChain;
use earstage::model::eardrum::diffuse_to_eardrum_db;
use earstage::model::spl::{PinkBand, mean_square_pa2, niosh_percent_per_s, who_dose_percent};
use earstage::model::{Attenuator, Cable, Chain, Iem, Sensitivity, Source};
use earstage::offline::engine::OfflineEngine;

/// Acceptance (issue 10): LAeq, LAF and LCpeak within 0.05 dB of the closed form.
const TOLERANCE_DB: f64 = 0.05;
const RATES_HZ: [f64; 3] = [44_100.0, 48_000.0, 96_000.0];
/// Host block size.
const BLOCK: usize = 64;

/// A resistive chain: a 16 Ω, 110 dB SPL/mW IEM on a 2 Vrms source with 10 Ω output impedance at
/// −6 dB volume (everything in the closed form is then a resistive divider).
fn resistive_chain() -> Chain {
    let mut source = Source::ideal(2.0);
    source.output_ohms = 10.0;
    source.volume_db = -6.0;
    Chain {
        source,
        attenuator: Attenuator::none(),
        cable: Cable::default(),
        iem: Iem::resistive(16.0, Sensitivity::DbPerMw(110.0)),
    }
}

/// A catalog chain: a multi-BA IEM behind a 75 Ω adapter on a phone's output.
fn catalog_chain() -> Chain {
    support::se846_behind_75_ohms()
}

/// An engine whose rig is `rig`, on Rig (the feed unchanged), with its exposure in a store.
fn engine(rig: &Chain, fs: f64, settings: EngineSettings) -> (OfflineEngine, Arc<ExposureStore>) {
    let chains = AuditionChains {
        rig: rig.clone(),
        a: AuditionChain::from_rig(rig),
        b: AuditionChain::from_rig(rig),
    };
    let store = Arc::new(ExposureStore::default());
    let engine = OfflineEngine::new(fs, 2, settings, chains).with_exposure_store(store.clone());
    (engine, store)
}

/// Feed `seconds` of `signal(n)` (the same in both channels) in host blocks; the newest readings.
fn run(
    engine: &mut OfflineEngine,
    fs: f64,
    seconds: f64,
    start: usize,
    signal: &dyn Fn(usize) -> f32,
) -> SplReadings {
    let mut collector = Collector::default();
    let total = (seconds * fs) as usize;
    let (mut left, mut right) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    let mut n = 0;
    while n < total {
        let m = BLOCK.min(total - n);
        for i in 0..m {
            left[i] = signal(start + n + i);
            right[i] = left[i];
        }
        engine.process(&mut [&mut left[..m], &mut right[..m]], &mut collector);
        n += m;
    }
    collector.frame.spl
}

fn sine_1k(fs: f64, amplitude: f64) -> impl Fn(usize) -> f32 {
    move |n| (amplitude * (std::f64::consts::TAU * 1000.0 * n as f64 / fs).sin()) as f32
}

/// The closed-form level at the eardrum of a 1 kHz sine of `dbfs` (AES17: peak 10^(dbfs/20)).
fn expected_eardrum_db(chain: &Chain, dbfs: f64) -> f64 {
    chain.spl_at_full_scale_db() + dbfs
}

/// A 1 kHz sine at −20 dBFS for 5 s after a 1 s settle (then the exposure is reset, so the
/// filters' onset is not in the peak): LAeq, LAF, LAS and LCpeak of both ears at the closed form,
/// on a resistive and a catalog chain, at 44.1, 48 and 96 kHz.
#[test]
fn one_khz_sine_reads_the_closed_form() {
    for chain in [resistive_chain(), catalog_chain()] {
        for fs in RATES_HZ {
            let (mut engine, store) = engine(&chain, fs, EngineSettings::default());
            let sine = sine_1k(fs, 0.1);
            run(&mut engine, fs, 1.0, 0, &sine);
            store.reset(1.0);
            let r = run(&mut engine, fs, 5.0, (fs * 1.0) as usize, &sine);
            let laeq = expected_eardrum_db(&chain, -20.0);
            let peak = laeq + 20.0 * 2f64.sqrt().log10();
            assert!(r.ready && r.ears == 2);
            assert!((r.seconds - 5.0).abs() < 1e-9, "{}", r.seconds);
            for ear in &r.ear_readings()[..2] {
                let what = format!("{} at {fs} Hz: {ear:?}", chain.iem.name);
                assert!(
                    (ear.laeq_db - laeq).abs() < TOLERANCE_DB,
                    "LAeq {laeq}, {what}"
                );
                assert!(
                    (ear.laf_db - laeq).abs() < TOLERANCE_DB,
                    "LAF {laeq}, {what}"
                );
                assert!(
                    (ear.las_db - laeq).abs() < TOLERANCE_DB,
                    "LAS {laeq}, {what}"
                );
                assert!(
                    (ear.lcpeak_db - peak).abs() < TOLERANCE_DB,
                    "LCpeak {peak}, {what}"
                );
            }
        }
    }
}

/// The IEM's tuning through the live path: sines of −20 dBFS at 200 Hz, 3 kHz and 6 kHz on the
/// resistive chain, whose IEM has the default tuning (the diffuse-field target). At the eardrum
/// each reads the 1 kHz closed form plus the target's gain there, `DF(f) − DF(1 kHz)` from the
/// diffuse-field → eardrum table, plus IEC 61672-1's closed-form A-weighting; the
/// diffuse-field-equivalent level is then the same at every frequency but for the A-weighting
/// (an IEM tuned to the diffuse field sounds like one). 0.2 dB: the fitted pressure filter's
/// realisation of the target's ear-gain peak (the weighting and the meter add under 0.05).
#[test]
fn the_default_tuning_reaches_the_eardrum() {
    use earstage::model::weighting::a_weighting_db;
    let chain = resistive_chain();
    assert!(chain.iem.response.is_none(), "the default tuning");
    for fs in RATES_HZ {
        for hz in [200.0, 3_000.0, 6_000.0] {
            let (mut engine, store) = engine(&chain, fs, EngineSettings::default());
            let sine =
                move |n: usize| (0.1 * (std::f64::consts::TAU * hz * n as f64 / fs).sin()) as f32;
            run(&mut engine, fs, 1.0, 0, &sine);
            store.reset(1.0);
            let r = run(&mut engine, fs, 3.0, fs as usize, &sine);
            let a = a_weighting_db(hz) - a_weighting_db(1000.0);
            let gain = diffuse_to_eardrum_db(hz) - diffuse_to_eardrum_db(1000.0);
            let eardrum = expected_eardrum_db(&chain, -20.0) + gain + a;
            let diffuse = expected_eardrum_db(&chain, -20.0) - diffuse_to_eardrum_db(1000.0) + a;
            for ear in &r.ear_readings()[..2] {
                assert!(
                    (ear.laeq_db - eardrum).abs() < 0.2,
                    "{hz} Hz at {fs}: LAeq {:.2}, want {eardrum:.2} (ear gain {gain:+.2})",
                    ear.laeq_db
                );
                assert!(
                    (ear.laeq_df_db - diffuse).abs() < 0.2,
                    "{hz} Hz at {fs}: diffuse-field LAeq {:.2}, want {diffuse:.2}",
                    ear.laeq_df_db
                );
            }
        }
    }
}

/// One minute of that sine at 48 kHz: the diffuse-field-equivalent LAeq is the eardrum level less
/// the table at 1 kHz, and both doses are the closed form of that level for 60 s (0.5 %: the
/// first second's filter onset); the time to 100 % follows from the dose and the level.
#[test]
fn doses_follow_the_closed_form() {
    let chain = catalog_chain();
    let fs = 48_000.0;
    let (mut engine, _store) = engine(&chain, fs, EngineSettings::default());
    let r = run(&mut engine, fs, 60.0, 0, &sine_1k(fs, 0.5));
    let level_df =
        expected_eardrum_db(&chain, 20.0 * 0.5f64.log10()) - diffuse_to_eardrum_db(1000.0);
    let ear = &r.ear_readings()[0];
    assert!(
        (ear.laeq_df_db - level_df).abs() < TOLERANCE_DB,
        "{ear:?} vs {level_df}"
    );
    let niosh = niosh_percent_per_s(level_df) * 60.0;
    let who = who_dose_percent(mean_square_pa2(level_df) * 60.0);
    support::assert_doses(ear, niosh, who, 0.005);
    assert_eq!(ear.exposure_dba, ear.las_df_db, "no stage, no leak");
    let left_s = (100.0 - ear.niosh_percent) / niosh_percent_per_s(ear.exposure_dba);
    assert!((ear.niosh_time_to_full_s / left_s - 1.0).abs() < 1e-9);
}

/// Stage mode on silence: the exposure is the leak alone, ambient − isolation, with the user's
/// figure or the catalog's (Shure SE215: 37 dB) as chosen; off, it is silence.
#[test]
fn stage_leak_joins_the_exposure() {
    let fs = 48_000.0;
    let mut chain = resistive_chain();
    chain.iem.isolation_db = Some(37.0);
    for (prefer_catalog, isolation) in [(false, 30.0), (true, 37.0)] {
        let settings = EngineSettings {
            stage: Some(StageSettings {
                ambient_dba: 110.0,
                isolation_db: 30.0,
                prefer_catalog,
            }),
            ..EngineSettings::default()
        };
        let (mut engine, _store) = engine(&chain, fs, settings);
        let r = run(&mut engine, fs, 10.0, 0, &|_| 0.0);
        let leak = 110.0 - isolation;
        assert_eq!(r.leak_dba, Some(leak));
        let ear = r.ear_readings()[0];
        assert!((ear.laeq_df_db - leak).abs() < 1e-6, "{ear:?}");
        assert!(ear.laeq_db < 0.0, "the leak is not in the eardrum reading");
    }
}

/// The calibration noise through the engine at 48 kHz on the default rig: it replaces the feed
/// (a loud sine disappears); one period after the fade has the RMS of −20 dBFS (AES17, 0.1/√2);
/// its power per octave in each octave band from 31.5 Hz to 16 kHz is the same within ±0.5 dB
/// (pink: −3 dB per octave of density), and the 500 Hz–2 kHz noise has nothing outside its band; and the live
/// meter reads the model's LAeq for it within the digital A-weighting's class-1 deviation (0.2 dB).
#[test]
fn calibration_noise_level_slope_and_reading() {
    use earstage::dsp::signal::pink::PERIOD;
    use realfft::RealFftPlanner;

    let fs = 48_000.0;
    let rig = earstage::persist::default_chain();
    for band in [PinkBand::Full, PinkBand::Mid] {
        let settings = EngineSettings {
            generator: Some(band),
            ..EngineSettings::default()
        };
        let (mut engine, store) = engine(&rig, fs, settings);
        let mut collector = Collector::default();
        let fade = 1024;
        let total = fade + PERIOD;
        let mut out = Vec::with_capacity(total);
        let loud = sine_1k(fs, 0.9);
        let mut n = 0;
        while n < total {
            let m = BLOCK.min(total - n);
            let mut l: Vec<f32> = (n..n + m).map(&loud).collect();
            let mut r = l.clone();
            engine.process(&mut [&mut l, &mut r], &mut collector);
            out.extend_from_slice(&l);
            n += m;
        }
        let period = &out[fade..];
        let rms =
            (period.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / PERIOD as f64).sqrt();
        let dbfs = 20.0 * (rms * 2f64.sqrt()).log10();
        assert!((dbfs + 20.0).abs() < 0.01, "{band:?}: {dbfs} dBFS RMS");

        // The spectrum of one whole period: every bin is exact.
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(PERIOD);
        let mut input: Vec<f64> = period.iter().map(|&x| f64::from(x)).collect();
        let mut spectrum = fft.make_output_vec();
        fft.process(&mut input, &mut spectrum).unwrap();
        let bin_hz = fs / PERIOD as f64;
        let power = |lo: f64, hi: f64| -> f64 {
            spectrum
                .iter()
                .enumerate()
                .filter(|(k, _)| (*k as f64 * bin_hz) >= lo && (*k as f64 * bin_hz) < hi)
                .map(|(_, c)| c.norm_sqr())
                .sum()
        };
        let total_power = power(0.0, fs);
        match band {
            PinkBand::Full => {
                // Power per octave of each band, counting only the part of an edge band that
                // lies inside the noise's 20 Hz–20 kHz.
                let octaves: Vec<f64> = (0..10)
                    .map(|i| {
                        let centre = 31.25 * 2f64.powi(i);
                        let (lo, hi) = (centre / 2f64.sqrt(), centre * 2f64.sqrt());
                        let inside = (hi.min(20_000.0) / lo.max(20.0)).log2();
                        power(lo, hi) / inside
                    })
                    .collect();
                let mean = octaves.iter().sum::<f64>() / octaves.len() as f64;
                for (i, p) in octaves.iter().enumerate() {
                    let dev = 10.0 * (p / mean).log10();
                    assert!(dev.abs() <= 0.5, "octave {i}: {dev:+.2} dB from the mean");
                }
            }
            PinkBand::Mid => {
                let outside = power(0.0, 499.0) + power(2001.0, fs);
                assert!(outside / total_power < 1e-9, "{}", outside / total_power);
                let low = power(500.0, 1000.0);
                let high = power(1000.0, 2000.0);
                assert!((10.0 * (low / high).log10()).abs() <= 0.5);
            }
        }

        // The meter's LAeq of the noise over whole periods against the model's.
        store.reset(0.0);
        let r = run(&mut engine, fs, 4.0 * PERIOD as f64 / fs, 0, &|_| 0.0);
        let model = rig.pink_laeq_dba(band.edges_hz());
        for ear in &r.ear_readings()[..2] {
            assert!(
                (ear.laeq_db - model).abs() < 0.2,
                "{band:?}: {} vs {model}",
                ear.laeq_db
            );
        }
    }
}

/// The calibration tone through the engine: it replaces the output after the audition and the
/// trim (a −6 dB trim and a loud feed change nothing of it), its RMS is the level asked for
/// (AES17), and the live meter reads what a 1 kHz sine at that level plays on the rig: the SPL
/// at full scale plus the tone's level (A-weighting is 0 dB at 1 kHz), within 0.05 dB.
#[test]
fn calibration_tone_replaces_the_output() {
    use earstage::dsp::signal::tone::ToneSettings;
    let fs = 48_000.0;
    let rig = resistive_chain();
    let tone = ToneSettings {
        hz: 1000.0,
        dbfs: -20.0,
    };
    let settings = EngineSettings {
        tone: Some(tone),
        trim_db: -6.0,
        ..EngineSettings::default()
    };
    let (mut engine, _store) = engine(&rig, fs, settings);
    let mut collector = Collector::default();
    let loud = sine_1k(fs, 0.9);
    let mut out = Vec::new();
    // Eight of LAS's 1 s time constants: it has risen to within 0.002 dB of the steady level.
    let total = fs as usize * 8;
    let mut n = 0;
    while n < total {
        let m = BLOCK.min(total - n);
        let mut l: Vec<f32> = (n..n + m).map(|i| loud(i) * 0.3).collect();
        let mut r = l.clone();
        engine.process(&mut [&mut l, &mut r], &mut collector);
        out.extend_from_slice(&l);
        n += m;
    }
    let steady = &out[fs as usize..];
    let rms =
        (steady.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / steady.len() as f64).sqrt();
    let dbfs = 20.0 * (rms * 2f64.sqrt()).log10();
    assert!((dbfs - tone.dbfs).abs() < 0.01, "{dbfs} dBFS");
    let ear = collector.frame.spl.ear_readings()[0];
    let expected = rig.spl_at_full_scale_db() + tone.dbfs;
    assert!(
        (ear.las_db - expected).abs() < 0.05,
        "{} vs {expected}",
        ear.las_db
    );
}
