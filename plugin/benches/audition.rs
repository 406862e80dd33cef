//! The audition filter and the SPL meter beside the metering engine, in the same group and run:
//! 48 kHz stereo in 64-sample blocks (a small host buffer, where per-block overheads show).
//! Measured: the simulation alone (a settled design), the meter alone, the SPL/exposure meter
//! alone, the whole engine on the rig (meters + SPL, with the audition filter kept warm for a
//! click-free switch), the whole engine with chain B selected and stage mode on (everything), and
//! the cost of one redesign at each rate (the audition's, and the rig's SPL filters').

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use earstage::design::designer::{Designer, design_ears};
use earstage::design::fit::design;
use earstage::design::handoff::AuditionChains;
use earstage::design::spl::design_spl;
use earstage::dsp::audition::Selection;
use earstage::dsp::bank::BankFilter;
use earstage::dsp::spl::stage::SplStage;
use earstage::dsp::{EngineSettings, StageSettings};
use earstage::model::catalog::Catalog;
use earstage::model::iem::Ear;
use earstage::offline::engine::OfflineEngine;
use earstage::params::EarstageParams;

mod signals;
use signals::FS;

/// A small host buffer.
const HOST_BLOCK: usize = 64;

fn defaults() -> (EngineSettings, AuditionChains) {
    let params = EarstageParams::default();
    let mut audition = params.audition_settings();
    audition.selection = Selection::B;
    (
        EngineSettings {
            audition,
            ..EngineSettings::default()
        },
        params.audition_chains(),
    )
}

/// Chain B heard, with stage mode on: everything the engine does.
/// The chains with the rig's right earpiece on a curve of its own (for the timing, another
/// multi-driver IEM's: the catalog's SE846).
fn per_ear(chains: &AuditionChains) -> AuditionChains {
    let mut ears = chains.clone();
    let other = Catalog::builtin()
        .iem("se846")
        .expect("in the catalog")
        .impedance
        .clone();
    ears.rig.iem.right_impedance = Some(other);
    ears
}

fn everything_on(settings: EngineSettings) -> EngineSettings {
    EngineSettings {
        stage: Some(StageSettings {
            ambient_dba: 100.0,
            isolation_db: 25.0,
            prefer_catalog: true,
        }),
        ..settings
    }
}

fn run_filter(bank: &mut BankFilter, input: &[Vec<f32>; 2], work: &mut [Vec<f32>; 2]) -> f32 {
    run_filter_in(bank, input, work, HOST_BLOCK)
}

fn run_filter_in(
    bank: &mut BankFilter,
    input: &[Vec<f32>; 2],
    work: &mut [Vec<f32>; 2],
    block: usize,
) -> f32 {
    let [wl, wr] = work;
    wl.copy_from_slice(&input[0]);
    wr.copy_from_slice(&input[1]);
    for (l, r) in wl.chunks_mut(block).zip(wr.chunks_mut(block)) {
        bank.process(&mut [l, r]);
    }
    wl[wl.len() - 1]
}

fn run_engine(engine: &mut OfflineEngine, input: &[Vec<f32>; 2], work: &mut [Vec<f32>; 2]) -> f32 {
    run_engine_in(engine, input, work, HOST_BLOCK)
}

fn run_engine_in(
    engine: &mut OfflineEngine,
    input: &[Vec<f32>; 2],
    work: &mut [Vec<f32>; 2],
    block: usize,
) -> f32 {
    let [wl, wr] = work;
    wl.copy_from_slice(&input[0]);
    wr.copy_from_slice(&input[1]);
    for (l, r) in wl.chunks_mut(block).zip(wr.chunks_mut(block)) {
        engine.process(&mut [l, r], &mut ());
    }
    wl[wl.len() - 1]
}

fn run_meter(fs: u32, input: &[Vec<f32>; 2], block: usize) -> f32 {
    let mut meter = earstage::dsp::Meter::new(fs as f32, 2);
    for (l, r) in input[0].chunks(block).zip(input[1].chunks(block)) {
        meter.process(&[l, r], |_| {});
    }
    meter.frame().channel[0].true_peak_max_dbtp
}

/// The meter, the simulation and everything on (chain B and stage mode) at other rates and host
/// blocks: each group's rows run side by side, so their ratios hold within it.
fn rates_and_blocks(c: &mut Criterion) {
    for (fs, block) in [
        (44_100u32, 64usize),
        (96_000, 64),
        (192_000, 64),
        (48_000, 32),
        (48_000, 512),
    ] {
        let input = signals::music_at(fs);
        let rate = f64::from(fs);
        let (settings, chains) = defaults();
        let b = design(
            &Designer::audition(&settings.audition.values.request_at(rate), &chains, 1),
            rate,
        );
        let mut work = input.clone();
        let mut group = c.benchmark_group(format!("audition_{}k_stereo_{block}", fs / 1000));
        group.throughput(Throughput::Elements(input[0].len() as u64));
        group.bench_function(BenchmarkId::new("meters", "meter_only"), |bench| {
            bench.iter(|| run_meter(fs, std::hint::black_box(&input), block))
        });
        let mut bank = BankFilter::new(rate, 480);
        bank.settle(&[b.coefficients; earstage::model::iem::EARS]);
        group.bench_function(BenchmarkId::new("simulation", "bank"), |bench| {
            bench.iter(|| run_filter_in(&mut bank, std::hint::black_box(&input), &mut work, block))
        });
        let everything = everything_on(settings);
        let mut whole = OfflineEngine::new(rate, 2, everything, chains.clone());
        group.bench_function(BenchmarkId::new("everything", "engine_b_stage"), |bench| {
            bench.iter(|| run_engine_in(&mut whole, std::hint::black_box(&input), &mut work, block))
        });
        group.finish();
    }
}

fn audition(c: &mut Criterion) {
    let input = signals::music();
    let (settings, chains) = defaults();
    let fs = f64::from(FS);
    let b = design(
        &Designer::audition(&settings.audition.values.request_at(fs), &chains, 1),
        fs,
    );
    let mut work = input.clone();

    let mut group = c.benchmark_group("audition_48k_stereo_64");
    group.throughput(Throughput::Elements(input[0].len() as u64));
    let mut bank = BankFilter::new(fs, 480);
    bank.settle(&[b.coefficients; earstage::model::iem::EARS]);
    group.bench_function(BenchmarkId::new("simulation", "bank"), |bench| {
        bench.iter(|| run_filter(&mut bank, std::hint::black_box(&input), &mut work))
    });
    group.bench_function(BenchmarkId::new("meters", "meter_only"), |bench| {
        bench.iter(|| run_meter(FS, std::hint::black_box(&input), HOST_BLOCK))
    });
    let mut spl = SplStage::new(fs);
    spl.set_design(&design_spl(&chains.rig, fs));
    group.bench_function(BenchmarkId::new("spl", "spl_only"), |bench| {
        bench.iter(|| {
            for (l, r) in input[0].chunks(HOST_BLOCK).zip(input[1].chunks(HOST_BLOCK)) {
                spl.process(&[l, r]);
            }
            spl.readings(2).ear_readings()[0].laeq_db
        })
    });
    let on_rig = EngineSettings::default();
    let mut rig = OfflineEngine::new(fs, 2, on_rig, chains.clone());
    group.bench_function(BenchmarkId::new("everything", "engine_rig"), |bench| {
        bench.iter(|| run_engine(&mut rig, std::hint::black_box(&input), &mut work))
    });
    let everything = everything_on(settings);
    let mut whole = OfflineEngine::new(fs, 2, everything, chains.clone());
    group.bench_function(BenchmarkId::new("everything", "engine_b_stage"), |bench| {
        bench.iter(|| run_engine(&mut whole, std::hint::black_box(&input), &mut work))
    });
    group.finish();

    let mut group = c.benchmark_group("audition_redesign");
    for rate in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        let audition = Designer::audition(&settings.audition.values.request_at(rate), &chains, 1);
        group.bench_function(BenchmarkId::new("design", rate), |bench| {
            bench.iter(|| design(std::hint::black_box(&audition), rate))
        });
        group.bench_function(BenchmarkId::new("spl_design", rate), |bench| {
            bench.iter(|| design_spl(std::hint::black_box(&chains.rig), rate))
        });
        // Earpieces with curves of their own: both ears of the chain, as the designer makes
        // them (side by side), and one after the other as before.
        let ears = per_ear(&chains);
        let audition = Designer::audition(&settings.audition.values.request_at(rate), &ears, 1);
        let (left, right) = (audition.ear(Ear::Left), audition.ear(Ear::Right));
        group.bench_function(BenchmarkId::new("design_ears", rate), |bench| {
            bench.iter(|| design_ears(std::hint::black_box(&left), &right, rate))
        });
        group.bench_function(BenchmarkId::new("design_ears_in_turn", rate), |bench| {
            bench.iter(|| {
                (
                    design(std::hint::black_box(&left), rate),
                    design(&right, rate),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, audition, rates_and_blocks);
criterion_main!(benches);
