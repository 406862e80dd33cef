//! True peak only: the `ebur128` crate's true-peak mode and Earstage's two readings, on the same
//! buffers in the same group. Throughput in samples per channel.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use earstage::dsp::meter::true_peak::TruePeak;
use ebur128::{EbuR128, Mode};

mod signals;
use signals::{BLOCK, FS};

fn run_ebur128(input: &[Vec<f32>; 2]) -> f64 {
    let mut meter = EbuR128::new(2, FS, Mode::TRUE_PEAK).unwrap();
    for (l, r) in input[0].chunks(BLOCK).zip(input[1].chunks(BLOCK)) {
        meter.add_frames_planar_f32(&[l, r]).unwrap();
    }
    meter.true_peak(0).unwrap().max(meter.true_peak(1).unwrap())
}

fn run_earstage(input: &[Vec<f32>; 2], precise: bool) -> f32 {
    let mut channels = [
        TruePeak::new(FS as f32, BLOCK),
        TruePeak::new(FS as f32, BLOCK),
    ];
    let mut max = [0.0f32; 2];
    for ch in &mut channels {
        ch.set_precise(precise);
    }
    for (l, r) in input[0].chunks(BLOCK).zip(input[1].chunks(BLOCK)) {
        for ((tp, x), m) in channels.iter_mut().zip([l, r]).zip(&mut max) {
            let peaks = tp.process(x, *m * 0.708, 1.0, |_| {});
            *m = m.max(if precise { peaks.precise } else { peaks.bs1770 });
        }
    }
    max[0].max(max[1])
}

fn true_peak(c: &mut Criterion) {
    for (name, input) in [
        ("music", signals::music()),
        ("noise", signals::noise_stereo()),
    ] {
        let mut group = c.benchmark_group(format!("true_peak_48k_stereo/{name}"));
        group.throughput(Throughput::Elements(input[0].len() as u64));
        group.bench_function(BenchmarkId::new("ebur128_true_peak", name), |b| {
            b.iter(|| run_ebur128(std::hint::black_box(&input)))
        });
        group.bench_function(BenchmarkId::new("earstage_bs1770", name), |b| {
            b.iter(|| run_earstage(std::hint::black_box(&input), false))
        });
        group.bench_function(BenchmarkId::new("earstage_precise", name), |b| {
            b.iter(|| run_earstage(std::hint::black_box(&input), true))
        });
        group.finish();
    }
}

criterion_group!(benches, true_peak);
criterion_main!(benches);
