//! The audition filter beside the metering engine, in the same group and run: 48 kHz stereo in
//! 64-sample blocks (a small host buffer, where per-block overheads show). Measured: the
//! simulation alone (a settled design), the meter alone, the engine on the rig (meters, with the
//! filter kept warm for a click-free switch), the whole engine with chain B selected (meters +
//! audition), and the cost of one redesign at each rate.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use earstage::dsp::EngineSettings;
use earstage::dsp::audition::{AuditionChains, Designer, OfflineEngine, Selection};
use earstage::dsp::bank::BankFilter;
use earstage::dsp::design::design;
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
    let metering_only = EngineSettings::default();
    let mut meters = OfflineEngine::new(fs, 2, metering_only, chains.clone());
    group.bench_function(BenchmarkId::new("meters", "engine_rig"), |bench| {
        bench.iter(|| run_engine(&mut meters, std::hint::black_box(&input), &mut work))
    });
    let mut whole = OfflineEngine::new(fs, 2, settings, chains.clone());
    group.bench_function(
        BenchmarkId::new("meters_and_simulation", "engine_b"),
        |bench| bench.iter(|| run_engine(&mut whole, std::hint::black_box(&input), &mut work)),
    );
    group.finish();

    let mut group = c.benchmark_group("audition_redesign");
    for rate in [44_100.0, 48_000.0, 96_000.0, 192_000.0] {
        let audition = Designer::audition(&settings.audition.values.request_at(rate), &chains, 1);
        group.bench_function(BenchmarkId::new("design", rate), |bench| {
            bench.iter(|| design(std::hint::black_box(&audition), rate))
        });
    }
    group.finish();
}

criterion_group!(benches, audition);
criterion_main!(benches);
