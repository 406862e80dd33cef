//! The audition filter and the SPL meter beside the metering engine, in the same group and run:
//! 48 kHz stereo in 64-sample blocks (a small host buffer, where per-block overheads show).
//! Measured: the simulation alone (a settled design), the meter alone, the SPL/exposure meter
//! alone, the whole engine on the rig (meters + SPL, with the audition filter kept warm for a
//! click-free switch), the whole engine with chain B selected and stage mode on (everything), and
//! the cost of one redesign at each rate (the audition's, and the rig's SPL filters').

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use earstage::design::designer::Designer;
use earstage::design::fit::design;
use earstage::design::handoff::AuditionChains;
use earstage::design::spl::design_spl;
use earstage::dsp::audition::Selection;
use earstage::dsp::bank::BankFilter;
use earstage::dsp::spl::SplStage;
use earstage::dsp::{EngineSettings, StageSettings};
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

fn run_filter(bank: &mut BankFilter, input: &[Vec<f32>; 2], work: &mut [Vec<f32>; 2]) -> f32 {
    let [wl, wr] = work;
    wl.copy_from_slice(&input[0]);
    wr.copy_from_slice(&input[1]);
    for (l, r) in wl.chunks_mut(HOST_BLOCK).zip(wr.chunks_mut(HOST_BLOCK)) {
        bank.process(&mut [l, r]);
    }
    wl[wl.len() - 1]
}

fn run_engine(engine: &mut OfflineEngine, input: &[Vec<f32>; 2], work: &mut [Vec<f32>; 2]) -> f32 {
    let [wl, wr] = work;
    wl.copy_from_slice(&input[0]);
    wr.copy_from_slice(&input[1]);
    for (l, r) in wl.chunks_mut(HOST_BLOCK).zip(wr.chunks_mut(HOST_BLOCK)) {
        engine.process(&mut [l, r], &mut ());
    }
    wl[wl.len() - 1]
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
    bank.settle(&b.coefficients);
    group.bench_function(BenchmarkId::new("simulation", "bank"), |bench| {
        bench.iter(|| run_filter(&mut bank, std::hint::black_box(&input), &mut work))
    });
    group.bench_function(BenchmarkId::new("meters", "meter_only"), |bench| {
        bench.iter(|| {
            let mut meter = earstage::dsp::Meter::new(FS as f32, 2);
            for (l, r) in input[0].chunks(HOST_BLOCK).zip(input[1].chunks(HOST_BLOCK)) {
                meter.process(&[l, r], |_| {});
            }
            meter.frame().channel[0].true_peak_max_dbtp
        })
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
    let everything = EngineSettings {
        stage: Some(StageSettings {
            ambient_dba: 100.0,
            isolation_db: 25.0,
            prefer_catalog: true,
        }),
        ..settings
    };
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
    }
    group.finish();
}

criterion_group!(benches, audition);
criterion_main!(benches);
