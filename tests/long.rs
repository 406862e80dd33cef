//! Long runs, faster than real time (`cargo xtask test` runs them in their own step; they are
//! ignored in a plain `cargo test`):
//!
//! - eight hours at 48 kHz through the whole engine, checked against closed forms: integrated
//!   loudness (BS.1770 gating of two stationary levels), LAeq at the eardrum, and the NIOSH and
//!   WHO doses written out from their definitions here; no allocation in eight hours, resident
//!   memory flat, and the last hour no slower than the first;
//! - ten minutes at 48 kHz with every parameter automated at random, block by block, in blocks
//!   of random size: no click beyond the signal's own steps and no non-finite sample.

mod support;

use std::time::Instant;

use earstage::design::designer::InlineDesigner;
use earstage::design::handoff::AuditionChains;
use earstage::dsp::audition::AUDITION_RAMP_MS;
use earstage::dsp::audition::Selection;
use earstage::dsp::spl::exposure::ExposureStore;
use earstage::dsp::{BYPASS_RAMP_MS, PendingRequests, StageSettings};
use earstage::dsp::{Engine, EngineFrame, EngineSettings, MeterSink, OverEvent};
use earstage::model::Chain;
use earstage::model::audition::{AuditionChain, CEILING_DB, Mode, OUTPUT_OHMS, SERIES_OHMS};
use earstage::model::audition::{LevelMatch, SHUNT_OHMS, VOLUME_DB};
use earstage::model::catalog::Catalog;
use earstage::model::eardrum::diffuse_to_eardrum_db;
use earstage::model::spl::{AMBIENT_DBA, ISOLATION_DB};
use support::Rng;

const FS: f64 = 48_000.0;
const BLOCK: usize = 512;

/// A multi-BA IEM behind a 75 Ω adapter on an interface's 10 Ω output.
fn rig() -> Chain {
    support::se846_behind_75_ohms()
}

fn chains(rig: &Chain) -> AuditionChains {
    let catalog = Catalog::builtin();
    let mut b = AuditionChain::from_rig(rig);
    b.attenuator = catalog.attenuator("barrel").unwrap().clone();
    AuditionChains {
        rig: rig.clone(),
        a: AuditionChain::from_rig(rig),
        b,
    }
}

/// Resident set size of this process, bytes (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// NIOSH REL: 85 dBA for 8 h, 3 dB exchange rate (DHHS (NIOSH) 98-126).
fn niosh_percent(level_dba: f64, seconds: f64) -> f64 {
    let allowed_s = 8.0 * 3600.0 / 2f64.powf((level_dba - 85.0) / 3.0);
    100.0 * seconds / allowed_s
}

/// WHO/ITU-T H.870: 80 dBA for 40 h a week is 100 %.
fn who_percent(level_dba: f64, seconds: f64) -> f64 {
    100.0 * 10f64.powf((level_dba - 80.0) / 10.0) * seconds / (40.0 * 3600.0)
}

fn energy_sum_db(levels: &[f64]) -> f64 {
    10.0 * levels
        .iter()
        .map(|l| 10f64.powf(l / 10.0))
        .sum::<f64>()
        .log10()
}

/// Eight hours: four at a 1 kHz sine of −20 dBFS, four at −30 dBFS, in both channels, on the rig
/// with the SPL meter and stage mode (ambient 80 dBA, 25 dB isolation: a 55 dBA leak).
#[test]
#[ignore = "eight hours of audio: run by `cargo xtask test` (long sessions step)"]
fn eight_hours_match_the_closed_form() {
    const HOURS: usize = 8;
    let rig = rig();
    let settings = EngineSettings {
        stage: Some(StageSettings {
            ambient_dba: 80.0,
            isolation_db: 25.0,
            prefer_catalog: false,
        }),
        ..EngineSettings::default()
    };
    let store = std::sync::Arc::new(ExposureStore::default());
    let mut designer = InlineDesigner::new(chains(&rig));
    designer.prime(&settings.audition.values, FS);
    let mut engine = Engine::new(FS as f32, 2, &settings).with_exposure_store(store);
    let mut collector = Sink::default();
    let (mut left, mut right) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    // The sine's phase advances exactly per sample; one period table of 48 samples.
    let table: Vec<f64> = (0..48)
        .map(|n| (std::f64::consts::TAU * n as f64 / 48.0).sin())
        .collect();
    let resident_before = resident_bytes();
    let blocks_per_hour = (3600.0 * FS) as usize / BLOCK;
    let mut hour_seconds = Vec::new();
    let mut n = 0usize;
    for hour in 0..HOURS {
        let amplitude = if hour < HOURS / 2 {
            0.1
        } else {
            0.1 / 10f64.sqrt()
        };
        let start = Instant::now();
        for _ in 0..blocks_per_hour {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let x = (amplitude * table[n % 48]) as f32;
                (*l, *r) = (x, x);
                n += 1;
            }
            let channels: &mut [&mut [f32]] = &mut [&mut left, &mut right];
            nice_assert_no_alloc::assert_no_alloc(|| {
                engine.process_with(channels, &settings, &mut collector, &mut designer);
            });
            designer.run_pending();
        }
        hour_seconds.push(start.elapsed().as_secs_f64());
    }
    let resident_after = resident_bytes();
    let frame = collector.frame;
    let seconds = n as f64 / FS;
    assert_eq!(seconds, HOURS as f64 * 3600.0);

    // BS.1770-4: a stereo 1 kHz sine at X dBFS in both channels reads X LUFS (EBU Tech 3341 test
    // 1); the −30 dBFS half lies above the relative gate (−10 LU under the ungated mean), so the
    // integrated loudness is the energy mean of the two halves.
    let integrated = 10.0 * ((10f64.powf(-2.0) + 10f64.powf(-3.0)) / 2.0).log10();
    let measured = frame
        .meter
        .loudness
        .integrated_lufs
        .expect("integrated loudness");
    assert!(
        (measured - integrated).abs() < 0.1,
        "integrated {measured} LUFS vs {integrated}"
    );

    // At the eardrum: S_V + 20·log10(V_fs·|H(1 kHz)|) + dBFS; A(1 kHz) = 0 dB.
    let loud = rig.spl_at_full_scale_db() - 20.0;
    let quiet = loud - 10.0;
    let laeq = energy_sum_db(&[loud, quiet]) - 10.0 * 2f64.log10();
    // Diffuse-field equivalent, then the stage leak added, half the time at each level.
    let leak = 80.0 - 25.0;
    let df = |l: f64| energy_sum_db(&[l - diffuse_to_eardrum_db(1000.0), leak]);
    let half = seconds / 2.0;
    let niosh = niosh_percent(df(loud), half) + niosh_percent(df(quiet), half);
    let who = who_percent(df(loud), half) + who_percent(df(quiet), half);
    for ear in &frame.spl.ear_readings()[..2] {
        assert!(
            (ear.laeq_db - laeq).abs() < 0.05,
            "LAeq {} vs {laeq}",
            ear.laeq_db
        );
        support::assert_doses(ear, niosh, who, 0.01);
    }

    // Memory: nothing allocated in process (checked above, every block), and the process's
    // resident set did not grow by more than a page table's worth.
    if let (Some(before), Some(after)) = (resident_before, resident_after) {
        assert!(
            after <= before + (1 << 20),
            "resident {before} → {after} bytes"
        );
    }
    // Cost per block does not grow: the slowest of the last three hours against the fastest of
    // the first three (the first hour includes the design).
    let early = hour_seconds[..3].iter().cloned().fold(f64::MAX, f64::min);
    let late = hour_seconds[HOURS - 3..]
        .iter()
        .cloned()
        .fold(f64::MAX, f64::min);
    eprintln!(
        "8 h at 48 kHz: {:.1} s in all, per hour {hour_seconds:.2?}; integrated {measured:.3} LUFS \
         (closed form {integrated:.3}); LAeq {:.3} dB (closed form {laeq:.3}); NIOSH {:.1} % \
         ({niosh:.1}); resident {resident_before:?} → {resident_after:?} bytes",
        hour_seconds.iter().sum::<f64>(),
        frame.spl.ear_readings()[0].laeq_db,
        frame.spl.ear_readings()[0].niosh_percent,
    );
    assert!(late < 1.5 * early, "hours {hour_seconds:?}");
}

/// Keeps the newest frame and answers nothing; counts overs.
#[derive(Default)]
struct Sink {
    frame: EngineFrame,
    overs: usize,
    reset: bool,
}

impl MeterSink for Sink {
    fn frame(&mut self, frame: &EngineFrame) {
        self.frame = *frame;
    }
    fn over(&mut self, _event: OverEvent) {
        self.overs += 1;
    }
    fn requests(&mut self) -> PendingRequests {
        PendingRequests {
            reset_all: std::mem::take(&mut self.reset),
            ..PendingRequests::default()
        }
    }
}

/// A random value of every parameter the engine reads.
fn random_settings(rng: &mut Rng, base: &EngineSettings) -> EngineSettings {
    let mut s = *base;
    let mut pick = |lo: f64, hi: f64| rng.uniform(lo, hi);
    s.trim_db = pick(-24.0, 12.0) as f32;
    s.over_threshold_dbtp = pick(-12.0, 3.0) as f32;
    s.bypass = pick(0.0, 1.0) < 0.2;
    s.audition.selection = match (pick(0.0, 3.0)) as usize {
        0 => Selection::Rig,
        1 => Selection::A,
        _ => Selection::B,
    };
    s.audition.values.mode = if pick(0.0, 1.0) < 0.5 {
        Mode::Coloration
    } else {
        Mode::Level
    };
    s.audition.values.level_match = if pick(0.0, 1.0) < 0.5 {
        LevelMatch::PinkLoudness
    } else {
        LevelMatch::OneKilohertz
    };
    s.audition.values.ceiling_db = pick(CEILING_DB.min, CEILING_DB.max);
    for values in [&mut s.audition.values.a, &mut s.audition.values.b] {
        values.output_ohms = pick(OUTPUT_OHMS.min, OUTPUT_OHMS.max);
        values.series_ohms = pick(SERIES_OHMS.min, SERIES_OHMS.max);
        values.shunt_ohms = (pick(0.0, 1.0) < 0.5).then(|| pick(SHUNT_OHMS.min, SHUNT_OHMS.max));
        values.volume_db = pick(VOLUME_DB.min, VOLUME_DB.max);
    }
    s.stage = (pick(0.0, 1.0) < 0.5).then(|| StageSettings {
        ambient_dba: pick(AMBIENT_DBA.min, AMBIENT_DBA.max),
        isolation_db: pick(ISOLATION_DB.min, ISOLATION_DB.max),
        prefer_catalog: pick(0.0, 1.0) < 0.5,
    });
    s
}

/// Ten minutes of a 1 kHz sine at −20 dBFS with every parameter jumping to a random value at
/// random blocks (a third of the blocks change something), in random block sizes up to 4096,
/// with the designer answering every 100 ms as a busy designer thread would.
///
/// A click is a step the engine's smoothing cannot make. Between two samples the output can move
/// by the sine's own motion, at most ω·P (ω = 2π·1 kHz/fs, P the largest |y| within a period
/// either side), plus one step of a glide or crossfade. The audition glide and the bypass
/// crossfade are linear over 10 ms (R = 480 samples), so such a step is at most 2·A/R, with A
/// bounding either end's amplitude: the input's 0.1 times the largest trim gain of the last
/// 50 ms (its ramp lasts 20 ms) times the largest ceiling gain of the last second (no design
/// boosts past its ceiling, and designs lag the settings by up to the designer's answer time).
/// A discontinuity would step by up to 2·P. The check: every step within 2·ω·P + 2·A/R + 1e-6.
#[test]
#[ignore = "ten minutes of audio: run by `cargo xtask test` (long sessions step)"]
fn ten_minutes_of_random_automation_never_click() {
    use std::collections::VecDeque;

    let rig = rig();
    let base = EngineSettings {
        audition: earstage::dsp::audition::AuditionSettings::default(),
        ..EngineSettings::default()
    };
    let mut rng = Rng::new(0xa11_7e57);
    let mut designer = InlineDesigner::new(chains(&rig));
    designer.prime(&base.audition.values, FS);
    let mut engine = Engine::new(FS as f32, 2, &base);
    let mut sink = Sink::default();
    let total = (600.0 * FS) as usize;
    let omega = std::f64::consts::TAU * 1000.0 / FS;
    let period = 48;
    let glide_samples = (AUDITION_RAMP_MS.min(BYPASS_RAMP_MS) / 1000.0 * FS) as usize;
    let gain = |db: f64| 10f64.powf(db / 20.0);
    let mut settings = base;
    let mut history: Vec<f32> = Vec::with_capacity(total);
    // Per block: its first sample and the amplitude bound A for it.
    let mut bounds: Vec<(usize, f64)> = Vec::new();
    let mut trims: VecDeque<(usize, f64)> = VecDeque::new();
    let mut ceilings: VecDeque<(usize, f64)> = VecDeque::new();
    let (mut left, mut right) = (vec![0.0f32; 4096], vec![0.0f32; 4096]);
    let mut n = 0usize;
    let mut next_design = 0usize;
    let mut changes = 0usize;
    while n < total {
        let block = ((rng.uniform(0.0, 1.0).powi(3) * 4096.0) as usize).clamp(1, total - n);
        if rng.uniform(0.0, 1.0) < 1.0 / 3.0 {
            settings = random_settings(&mut rng, &base);
            changes += 1;
        }
        // Sliding maxima (monotonic queues) of the trim gain over 50 ms and the ceiling gain
        // over 1 s, this block included.
        for (queue, value, window) in [
            (&mut trims, gain(f64::from(settings.trim_db)), 0.05 * FS),
            (&mut ceilings, gain(settings.audition.values.ceiling_db), FS),
        ] {
            while queue.back().is_some_and(|&(_, v)| v <= value) {
                queue.pop_back();
            }
            queue.push_back((n, value));
            while queue
                .front()
                .is_some_and(|&(at, _)| (n - at) as f64 > window)
            {
                queue.pop_front();
            }
        }
        let amplitude = 0.1 * (trims[0].1 * ceilings[0].1).max(1.0);
        bounds.push((n, amplitude));
        for i in 0..block {
            let x = (0.1 * (omega * (n + i) as f64).sin()) as f32;
            left[i] = x;
            right[i] = -x;
        }
        let channels: &mut [&mut [f32]] = &mut [&mut left[..block], &mut right[..block]];
        nice_assert_no_alloc::assert_no_alloc(|| {
            engine.process_with(channels, &settings, &mut sink, &mut designer);
        });
        if n >= next_design {
            designer.run_pending();
            next_design = n + (0.1 * FS) as usize;
        }
        for (i, (&l, &r)) in left[..block].iter().zip(&right[..block]).enumerate() {
            assert!(l.is_finite() && r.is_finite(), "sample {}: {l} {r}", n + i);
        }
        history.extend_from_slice(&left[..block]);
        n += block;
    }
    let mut worst = 0.0f64;
    let mut block = 0;
    for i in period..history.len() - period {
        while block + 1 < bounds.len() && bounds[block + 1].0 <= i {
            block += 1;
        }
        let peak = history[i - period..i + period]
            .iter()
            .fold(0.0f32, |m, x| m.max(x.abs())) as f64;
        let step = f64::from((history[i] - history[i - 1]).abs());
        let limit = 2.0 * omega * peak + 2.0 * bounds[block].1 / glide_samples as f64 + 1e-6;
        worst = worst.max(step / limit);
        assert!(
            step <= limit,
            "click at sample {i} ({:.3} s): step {step} > {limit} (peak {peak}); around it: {:?}",
            i as f64 / FS,
            &history[i - 16..i + 16]
        );
    }
    eprintln!(
        "10 min at 48 kHz, {changes} random changes of every parameter: largest step {:.0} % of \
         the click limit",
        worst * 100.0
    );
    assert!(sink.frame.spl.ready);
}
