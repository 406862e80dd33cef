//! Nothing hostile gets through the engine: every rate from 22.05 to 384 kHz, blocks from 1 sample
//! to the host's largest, the audition off, on, switching and ramping, the SPL meter and stage mode
//! on, fed silence, DC, a full-scale square, stretches of NaN, ±∞, 1e30 and f32::MAX, and
//! subnormals, one after another through one engine.
//!
//! The oracle is a second engine with the same settings fed the same input with each non-finite
//! sample replaced by silence and each subnormal by zero: the promise is that this is exactly what
//! the engine does, so the two outputs and the two sets of readings must be bit-identical,
//! including the block right after each bad stretch (recovery within one block). On top: no
//! allocation in `process`, no non-finite or subnormal output, every reading finite, and the bad
//! samples counted.

mod support;

use earstage::design::designer::InlineDesigner;
use earstage::dsp::audition::Selection;
use earstage::dsp::guard::InputHealth;
use earstage::dsp::{Engine, EngineFrame, EngineSettings, MeterSink, OverEvent, StageSettings};
use earstage::params::EarstageParams;

const RATES_HZ: [f32; 8] = [
    22_050.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0, 384_000.0,
];
/// The largest block hosts send (8192 is the common ceiling of host buffer settings).
const HOST_MAX_BLOCK: usize = 8192;
const BLOCKS: [usize; 6] = [1, 3, 64, 511, 4096, HOST_MAX_BLOCK];
/// Each kind of input lasts this long.
const SEGMENT_S: f64 = 0.04;

#[derive(Debug, Clone, Copy)]
enum Input {
    Sine,
    Silence,
    Dc,
    Square,
    Nan,
    PosInf,
    NegInf,
    Huge,
    Max,
    Subnormal,
}

const INPUTS: [Input; 13] = [
    Input::Sine,
    Input::Silence,
    Input::Dc,
    Input::Square,
    Input::Nan,
    Input::Sine,
    Input::PosInf,
    Input::NegInf,
    Input::Huge,
    Input::Sine,
    Input::Max,
    Input::Subnormal,
    Input::Sine,
];

/// One sample of `input` on `channel` at sample `i` of a segment of `n`. The bad values fill the
/// middle half of the segment, on the left channel for ±∞ alone (a host can break one channel).
fn sample(input: Input, channel: usize, i: usize, n: usize, fs: f64) -> f32 {
    let t = i as f64 / fs;
    let sine = (0.5 * (std::f64::consts::TAU * 997.0 * t).sin()) as f32;
    let middle = (n / 4..3 * n / 4).contains(&i);
    match input {
        Input::Sine => sine,
        Input::Silence => 0.0,
        Input::Dc => 0.7,
        Input::Square => {
            if (t * 441.0).fract() < 0.5 {
                1.0
            } else {
                -1.0
            }
        }
        Input::Nan if middle => f32::NAN,
        Input::PosInf if middle && channel == 0 => f32::INFINITY,
        Input::NegInf if middle && channel == 0 => f32::NEG_INFINITY,
        Input::Huge if middle => 1e30 * sine.signum(),
        Input::Max if middle => f32::MAX * sine.signum(),
        Input::Subnormal => f32::from_bits(1 + (i as u32 % 0x007f_ffff)) * sine.signum(),
        _ => sine,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Audition {
    Off,
    On,
    Switching,
    Ramping,
}

/// The settings for the block starting at `t` seconds of a run lasting `total_s`.
fn settings_at(base: &EngineSettings, audition: Audition, t: f64, total_s: f64) -> EngineSettings {
    let mut s = *base;
    s.audition.selection = match audition {
        Audition::Off => Selection::Rig,
        Audition::On | Audition::Ramping => Selection::A,
        Audition::Switching => match (t / 0.03) as usize % 3 {
            0 => Selection::A,
            1 => Selection::B,
            _ => Selection::Rig,
        },
    };
    if audition == Audition::Ramping {
        s.audition.values.a.output_ohms = 0.5 + 74.5 * (t / total_s);
        s.trim_db = (-6.0 + 12.0 * (t / total_s)) as f32;
    }
    s
}

fn frame_is_finite(frame: &EngineFrame) -> bool {
    let channels = frame.meter.channel[..frame.meter.channels].iter().all(|c| {
        [
            c.sample_peak_dbfs,
            c.true_peak_dbtp,
            c.sample_peak_max_dbfs,
            c.true_peak_max_dbtp,
            c.true_peak_bs1770_max_dbtp,
        ]
        .iter()
        .all(|v| v.is_finite())
    });
    let l = &frame.meter.loudness;
    let loudness = [
        l.momentary_lufs,
        l.short_term_lufs,
        l.momentary_max_lufs,
        l.short_term_max_lufs,
        l.integrated_lufs,
        l.loudness_range_lu,
    ]
    .iter()
    .all(|v| v.is_none_or(f64::is_finite))
        && l.measured_s.is_finite();
    let spl = &frame.spl;
    let ears = spl.ear_readings();
    let spl_ok = spl.totals.iter().all(|t| {
        [
            t.eardrum_pa2s,
            t.diffuse_pa2s,
            t.niosh_percent,
            t.peak_c_pa,
            t.laf_max_pa2,
        ]
        .iter()
        .all(|v| v.is_finite())
    }) && spl.mean_squares.iter().flatten().all(|v| v.is_finite())
        && ears[..spl.ears].iter().all(|e| {
            [
                e.laf_db,
                e.las_db,
                e.lcs_db,
                e.las_df_db,
                e.exposure_dba,
                e.laeq_db,
                e.laeq_df_db,
                e.laf_max_db,
                e.lcpeak_db,
                e.niosh_percent,
                e.who_percent,
                e.niosh_time_to_full_s,
                e.who_time_to_full_s,
            ]
            .iter()
            .all(|v| !v.is_nan())
        });
    channels && loudness && spl_ok
}

/// Keeps the newest frame and counts overs, without allocating (a `Vec` of overs would).
#[derive(Default)]
struct Collector {
    frame: EngineFrame,
    overs: usize,
}

impl MeterSink for Collector {
    fn frame(&mut self, frame: &EngineFrame) {
        self.frame = *frame;
    }
    fn over(&mut self, _event: OverEvent) {
        self.overs += 1;
    }
}

struct Run {
    engine: Engine,
    designer: InlineDesigner,
    collector: Collector,
}

impl Run {
    fn new(fs: f32, settings: &EngineSettings, params: &EarstageParams) -> Self {
        let mut designer = InlineDesigner::new(params.audition_chains());
        designer.prime(&settings.audition.values, f64::from(fs));
        Self {
            engine: Engine::new(fs, 2, settings),
            designer,
            collector: Collector::default(),
        }
    }
}

/// One engine through every kind of input at `fs` in blocks of `block`; returns the number of
/// non-finite samples fed.
fn run_case(fs: f32, block: usize, audition: Audition, params: &EarstageParams) -> u64 {
    let fsd = f64::from(fs);
    let segment = (SEGMENT_S * fsd).round() as usize;
    let len = segment * INPUTS.len();
    let total_s = len as f64 / fsd;
    let mut base = EngineSettings {
        audition: params.audition_settings(),
        stage: Some(StageSettings {
            ambient_dba: 100.0,
            isolation_db: 25.0,
            prefer_catalog: true,
        }),
        ..EngineSettings::default()
    };
    base.audition.values.ceiling_db = 12.0;
    let mut input: [Vec<f32>; 2] = [Vec::with_capacity(len), Vec::with_capacity(len)];
    for kind in INPUTS.iter() {
        for i in 0..segment {
            for (c, channel) in input.iter_mut().enumerate() {
                channel.push(sample(*kind, c, i, segment, fsd));
            }
        }
    }
    let bad = input.iter().flatten().filter(|x| !x.is_finite()).count() as u64;
    let cleaned: Vec<Vec<f32>> = input
        .iter()
        .map(|c| {
            c.iter()
                .map(|&x| {
                    if x.is_finite() && !x.is_subnormal() {
                        x
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();

    let first = settings_at(&base, audition, 0.0, total_s);
    let mut tested = Run::new(fs, &first, params);
    let mut oracle = Run::new(fs, &first, params);
    // The ramp's designer answers every 0.1 s, as a busy designer thread would; the others after
    // every block.
    let design_every = if audition == Audition::Ramping {
        ((0.1 * fsd) as usize / block).max(1)
    } else {
        1
    };
    let case = format!("{fs} Hz, blocks of {block}, audition {audition:?}");
    let (mut left, mut right) = (vec![0.0f32; block], vec![0.0f32; block]);
    let (mut oracle_left, mut oracle_right) = (vec![0.0f32; block], vec![0.0f32; block]);
    for (b, start) in (0..len).step_by(block).enumerate() {
        let end = (start + block).min(len);
        let n = end - start;
        let settings = settings_at(&base, audition, start as f64 / fsd, total_s);
        left[..n].copy_from_slice(&input[0][start..end]);
        right[..n].copy_from_slice(&input[1][start..end]);
        oracle_left[..n].copy_from_slice(&cleaned[0][start..end]);
        oracle_right[..n].copy_from_slice(&cleaned[1][start..end]);
        {
            let channels: &mut [&mut [f32]] = &mut [&mut left[..n], &mut right[..n]];
            let run = &mut tested;
            nice_assert_no_alloc::assert_no_alloc(|| {
                run.engine
                    .process_with(channels, &settings, &mut run.collector, &mut run.designer);
            });
        }
        let channels: &mut [&mut [f32]] = &mut [&mut oracle_left[..n], &mut oracle_right[..n]];
        oracle.engine.process_with(
            channels,
            &settings,
            &mut oracle.collector,
            &mut oracle.designer,
        );
        if b % design_every == 0 {
            tested.designer.run_pending();
            oracle.designer.run_pending();
        }
        for (got, want) in left[..n]
            .iter()
            .chain(&right[..n])
            .zip(oracle_left[..n].iter().chain(&oracle_right[..n]))
        {
            assert!(
                got.is_finite() && !got.is_subnormal(),
                "{case}: output {got} at sample {start}"
            );
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{case}: block at sample {start} differs from silence in place of the bad input"
            );
        }
        let (mut frame, mut expected) = (tested.collector.frame, oracle.collector.frame);
        assert!(
            frame_is_finite(&frame),
            "{case}: readings at {start}: {frame:?}"
        );
        // Everything but the count of bad input (which NaN fields make unequal to itself).
        frame.input = InputHealth::default();
        frame.input.last_at_s = 0.0;
        frame.input.last_timeline_s = 0.0;
        expected.input = frame.input;
        assert_eq!(frame, expected, "{case}: readings at {start}");
        assert_eq!(
            tested.collector.overs, oracle.collector.overs,
            "{case}: overs at {start}"
        );
    }
    let health = tested.engine.input_health();
    assert_eq!(health.non_finite_samples, bad, "{case}");
    assert!(
        tested.collector.frame.spl.ready,
        "{case}: the SPL meter ran"
    );
    assert!(tested.engine.exposure_totals().seconds > 0.0, "{case}");
    bad
}

#[test]
fn nothing_hostile_gets_through_the_engine() {
    let params = EarstageParams::default();
    let mut cases = 0;
    for fs in RATES_HZ {
        for block in BLOCKS {
            for audition in [
                Audition::Off,
                Audition::On,
                Audition::Switching,
                Audition::Ramping,
            ] {
                let bad = run_case(fs, block, audition, &params);
                assert!(bad > 0);
                cases += 1;
            }
        }
    }
    eprintln!(
        "{cases} runs of {} inputs each: outputs and readings identical to silence in place of the \
         bad samples",
        INPUTS.len()
    );
}
