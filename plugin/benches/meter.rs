//! The whole meter: the `ebur128` crate with true peak, momentary, short-term, integrated and
//! loudness range on, and Earstage's meter (both true-peak readings, M/S every 5 ms, I, LRA), on
//! the same buffers in the same group. The crate is measured twice: ingesting only (its best
//! case, as in file analysis) and read at 10 Hz like a live meter (Tech 3341 §2.2). Earstage's
//! meter is measured with its loudness history and without, for what the history costs; as the
//! plugin runs it (without, each block copied to the history thread); and 59 minutes into a
//! session, for what an hour of it costs.

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;

use earstage::dsp::Meter;
use earstage::dsp::meter::MeterEvent;
use earstage::dsp::meter::history::HistoryStore;
use earstage::dsp::meter::history_feed::{HistoryFeed, HistoryFollower, history_feed};
use ebur128::{EbuR128, Mode};

mod signals;
use signals::{BLOCK, FS};

const ALL: Mode = Mode::I
    .union(Mode::M)
    .union(Mode::S)
    .union(Mode::LRA)
    .union(Mode::TRUE_PEAK);

fn run_ebur128(input: &[Vec<f32>; 2], live: bool) -> f64 {
    let mut meter = EbuR128::new(2, FS, ALL).unwrap();
    let tenth = FS as usize / 10;
    let mut since_read = 0;
    let mut acc = 0.0;
    for (l, r) in input[0].chunks(BLOCK).zip(input[1].chunks(BLOCK)) {
        meter.add_frames_planar_f32(&[l, r]).unwrap();
        since_read += l.len();
        if live && since_read >= tenth {
            since_read -= tenth;
            acc += meter.loudness_momentary().unwrap() + meter.loudness_shortterm().unwrap();
        }
    }
    acc + meter.loudness_global().unwrap() + meter.true_peak(0).unwrap()
}

fn run_earstage(input: &[Vec<f32>; 2], history: bool) -> f32 {
    let mut meter = Meter::new(FS as f32, 2);
    meter.keep_history(history);
    feed(&mut meter, input)
}

/// The input through a meter, block by block, as the plugin feeds it.
fn feed(meter: &mut Meter, input: &[Vec<f32>; 2]) -> f32 {
    let mut points = 0u32;
    for (l, r) in input[0].chunks(BLOCK).zip(input[1].chunks(BLOCK)) {
        meter.process_events(&[l, r], |event| {
            if matches!(event, MeterEvent::Point(_)) {
                points += 1;
            }
        });
    }
    meter.frame().channel[0].true_peak_max_dbtp + points as f32
}

/// A history feed and its follower for the bench's stereo input (the ring holds 2 s).
fn fresh_feed() -> (HistoryFeed, HistoryFollower) {
    history_feed(FS as f32, 2, Arc::new(HistoryStore::default()))
}

/// A meter with its history that has measured `minutes` of the input repeated: its integrated
/// loudness holds that many minutes of gating blocks.
fn aged_meter(input: &[Vec<f32>; 2], minutes: usize) -> Meter {
    let mut meter = Meter::new(FS as f32, 2);
    meter.keep_history(true);
    let repeats = minutes * 60 * FS as usize / input[0].len();
    for _ in 0..repeats {
        feed(&mut meter, input);
    }
    meter
}

fn meter(c: &mut Criterion) {
    for (name, input) in [
        ("music", signals::music()),
        ("noise", signals::noise_stereo()),
    ] {
        let mut group = c.benchmark_group(format!("meter_48k_stereo/{name}"));
        group.throughput(Throughput::Elements(input[0].len() as u64));
        group.bench_function(BenchmarkId::new("ebur128_all_ingest", name), |b| {
            b.iter(|| run_ebur128(std::hint::black_box(&input), false))
        });
        group.bench_function(BenchmarkId::new("ebur128_all_live_10hz", name), |b| {
            b.iter(|| run_ebur128(std::hint::black_box(&input), true))
        });
        group.bench_function(BenchmarkId::new("earstage_meter", name), |b| {
            b.iter(|| run_earstage(std::hint::black_box(&input), true))
        });
        group.bench_function(BenchmarkId::new("earstage_meter_no_history", name), |b| {
            b.iter(|| run_earstage(std::hint::black_box(&input), false))
        });
        // As the plugin runs it: the meter without its history, each block copied to the history
        // thread's ring (the ring, which holds the second, made outside the timing; the meter
        // inside, as in the rows above).
        group.bench_function(
            BenchmarkId::new("earstage_meter_feeding_history_thread", name),
            |b| {
                b.iter_batched(
                    fresh_feed,
                    |(mut feed, follower)| {
                        let mut meter = Meter::new(FS as f32, 2);
                        meter.keep_history(false);
                        let input = std::hint::black_box(&input);
                        for (l, r) in input[0].chunks(BLOCK).zip(input[1].chunks(BLOCK)) {
                            meter.process_events(&[l, r], |_| {});
                            feed.push(&[l, r]);
                        }
                        (meter.frame().channel[0].true_peak_max_dbtp, feed, follower)
                    },
                    BatchSize::LargeInput,
                )
            },
        );
        // The copy alone: what the plugin's audio thread pays for the history.
        group.bench_function(BenchmarkId::new("history_feed_copy_only", name), |b| {
            b.iter_batched(
                fresh_feed,
                |(mut feed, follower)| {
                    let input = std::hint::black_box(&input);
                    for (l, r) in input[0].chunks(BLOCK).zip(input[1].chunks(BLOCK)) {
                        feed.push(&[l, r]);
                    }
                    (feed, follower)
                },
                BatchSize::LargeInput,
            )
        });
        if name == "music" {
            // The same second, measured by a meter 59 minutes into a session: what a block costs
            // must not grow with the session (integrated loudness over an hour of blocks).
            // Made on first use, so a run that filters this row out does not wait for it.
            let mut aged = None;
            group.bench_function(BenchmarkId::new("earstage_meter_after_59_min", name), |b| {
                let meter = aged.get_or_insert_with(|| aged_meter(&input, 59));
                b.iter(|| feed(meter, std::hint::black_box(&input)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, meter);
criterion_main!(benches);
