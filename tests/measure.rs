//! `earstage measure`: the impedance of closed-form networks (a multi-BA IEM with crossover
//! branches, hybrids, a plain resistor) from simulated recordings of the jig, with an unknown
//! latency, mismatched inputs and a calibration recording, noise near −100 dBFS and 24-bit
//! samples, at 44.1–96 kHz, excited by the tool's own sweep and by pink noise. The simulation is
//! built here from the jig's circuit (V2 = V1·Z/(R + Z), applied exactly per DFT bin of the whole
//! recording), independently of the estimator.

mod support;

use std::path::Path;

use earstage::model::Complex64;
use earstage::model::catalog::Catalog;
use realfft::RealFftPlanner;
use support::{Rng, TempDir, WavFormat, earstage_stdout, write_wav};

/// The accuracy the issue asks: |Z| within 0.5 %, phase within 0.5°, 20 Hz–20 kHz.
const MAGNITUDE_PERCENT: f64 = 0.5;
const PHASE_DEG: f64 = 0.5;
const SENSE_OHMS: f64 = 100.0;

/// An interface input's own response: a gain, a first-order high-pass (the coupling capacitor)
/// and a first-order low-pass (the anti-alias filter's skirt), as two inputs differ in practice.
#[derive(Clone, Copy)]
struct Input {
    gain: f64,
    high_pass_hz: f64,
    low_pass_hz: f64,
}

impl Input {
    fn response(&self, hz: f64) -> Complex64 {
        let j = Complex64::new(0.0, 1.0);
        let hp = j * (hz / self.high_pass_hz) / (j * (hz / self.high_pass_hz) + 1.0);
        let lp = 1.0 / (j * (hz / self.low_pass_hz) + 1.0);
        hp * lp * self.gain
    }
}

const INPUT_1: Input = Input {
    gain: 1.0,
    high_pass_hz: 2.0,
    low_pass_hz: 60_000.0,
};
const INPUT_2: Input = Input {
    gain: 0.97,
    high_pass_hz: 3.1,
    low_pass_hz: 45_000.0,
};

/// The two channels the jig's inputs record for `x` driving it: input 1 sees `x`, input 2 sees
/// `x·z/(R + z)` (none of it when `z` is `None`: both inputs on one node), each through its own
/// input, delayed by `latency` samples, with white noise of `noise_dbfs` RMS.
fn record(
    x: &[f64],
    fs: f64,
    z: Option<&dyn Fn(f64) -> Complex64>,
    latency: usize,
    noise_dbfs: f64,
    rng: &mut Rng,
) -> Vec<Vec<f32>> {
    let len = x.len() + latency;
    let n = (len + fs as usize).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let mut padded = vec![0.0; n];
    padded[latency..latency + x.len()].copy_from_slice(x);
    let mut spectrum = forward.make_output_vec();
    forward.process(&mut padded, &mut spectrum).unwrap();
    let bin_hz = fs / n as f64;
    let sigma = 10f64.powf(noise_dbfs / 20.0);
    [0, 1]
        .iter()
        .map(|&ch| {
            let mut s: Vec<Complex64> = spectrum
                .iter()
                .enumerate()
                .map(|(k, &v)| {
                    let hz = (k as f64).max(0.5) * bin_hz;
                    let divider = match (ch, z) {
                        (1, Some(z)) => z(hz) / (z(hz) + SENSE_OHMS),
                        _ => Complex64::new(1.0, 0.0),
                    };
                    let input = if ch == 0 { INPUT_1 } else { INPUT_2 };
                    v * divider * input.response(hz)
                })
                .collect();
            s[0].im = 0.0;
            let last = s.len() - 1;
            s[last].im = 0.0;
            let mut out = inverse.make_output_vec();
            inverse.process(&mut s, &mut out).unwrap();
            out.truncate(len);
            out.iter()
                .map(|v| (v / n as f64 + sigma * rng.normal()) as f32)
                .collect()
        })
        .collect()
}

/// The tool's own sweep at `fs`, read back from the file it writes.
fn stimulus(dir: &Path, fs: u32) -> Vec<f64> {
    let path = dir.join(format!("sweep-{fs}.wav"));
    let text = earstage_stdout([
        "measure",
        "stimulus",
        path.to_str().unwrap(),
        "--rate",
        &fs.to_string(),
        "--seconds",
        "8",
        "--force",
    ]);
    assert!(text.contains("exponential sine sweep"), "{text}");
    let mut reader = hound::WavReader::open(&path).unwrap();
    assert_eq!(reader.spec().channels, 1);
    assert_eq!(reader.spec().bits_per_sample, 24);
    reader
        .samples::<i32>()
        .map(|s| f64::from(s.unwrap()) / 8_388_607.0)
        .collect()
}

/// Pink noise: a 1/√f spectrum of random phases, `seconds` long, −20 dBFS RMS.
fn pink(fs: f64, seconds: f64, rng: &mut Rng) -> Vec<f64> {
    let n = (seconds * fs) as usize;
    let mut planner = RealFftPlanner::<f64>::new();
    let inverse = planner.plan_fft_inverse(n);
    let mut s = inverse.make_input_vec();
    for (k, v) in s.iter_mut().enumerate() {
        let hz = k as f64 * fs / n as f64;
        if (5.0..0.49 * fs).contains(&hz) {
            *v = Complex64::new(rng.normal(), rng.normal()) / hz.sqrt();
        }
    }
    let mut x = inverse.make_output_vec();
    inverse.process(&mut s, &mut x).unwrap();
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    x.iter().map(|v| v * 0.1 / rms).collect()
}

/// The rows of a .zma file: (Hz, Ω, degrees).
fn read_zma(path: &Path) -> Vec<[f64; 3]> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('*') && !l.trim().is_empty())
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|f| f.parse().unwrap()).collect();
            [v[0], v[1], v[2]]
        })
        .collect()
}

enum Excitation {
    Sweep,
    Pink,
}

/// Measures `z` through the CLI (recording and calibration) and returns the curve and the JSON
/// report.
fn measure(
    dir: &Path,
    name: &str,
    z: &dyn Fn(f64) -> Complex64,
    fs: u32,
    excitation: Excitation,
    seed: u64,
    extra: &[&str],
) -> (Vec<[f64; 3]>, serde_json::Value) {
    let mut rng = Rng::new(seed);
    let x = match excitation {
        Excitation::Sweep => stimulus(dir, fs),
        Excitation::Pink => pink(f64::from(fs), 8.0, &mut rng),
    };
    let rate = f64::from(fs);
    let recording = dir.join(format!("{name}.wav"));
    let calibration = dir.join(format!("{name}-cal.wav"));
    let latency = 1_000 + (rng.next_u64() % 20_000) as usize;
    write_wav(
        &recording,
        fs,
        WavFormat::Int24,
        &record(&x, rate, Some(z), latency, -100.0, &mut rng),
    );
    write_wav(
        &calibration,
        fs,
        WavFormat::Int24,
        &record(&x, rate, None, latency / 2, -100.0, &mut rng),
    );
    let zma = dir.join(format!("{name}.zma"));
    let mut args = vec![
        "measure",
        "impedance",
        recording.to_str().unwrap(),
        "--sense-ohms",
        "100",
        "--calibration",
        calibration.to_str().unwrap(),
        "-o",
        zma.to_str().unwrap(),
        "--json",
        "--force",
    ];
    args.extend_from_slice(extra);
    let json = earstage_stdout(args);
    (read_zma(&zma), serde_json::from_str(&json).unwrap())
}

/// Asserts the curve matches `z` within the accuracy over 20 Hz–20 kHz, and that the
/// report calls all of it reliable; returns the worst errors (per cent, degrees).
fn assert_accurate(
    what: &str,
    rows: &[[f64; 3]],
    report: &serde_json::Value,
    z: &dyn Fn(f64) -> Complex64,
) -> (f64, f64) {
    let (mut worst_mag, mut worst_deg) = (0.0f64, 0.0f64);
    let (mut worst_mag_hz, mut worst_deg_hz) = (0.0, 0.0);
    let mut in_band = 0;
    for &[hz, ohms, deg] in rows {
        if !(20.0..=20_000.0).contains(&hz) {
            continue;
        }
        in_band += 1;
        let truth = z(hz);
        let mag = 100.0 * (ohms / truth.norm() - 1.0);
        let phase = deg - truth.arg().to_degrees();
        assert!(
            mag.abs() <= MAGNITUDE_PERCENT && phase.abs() <= PHASE_DEG,
            "{what}: at {hz:.1} Hz {ohms:.4} Ω {deg:.3}° vs {:.4} Ω {:.3}°",
            truth.norm(),
            truth.arg().to_degrees()
        );
        if mag.abs() > worst_mag {
            (worst_mag, worst_mag_hz) = (mag.abs(), hz);
        }
        if phase.abs() > worst_deg {
            (worst_deg, worst_deg_hz) = (phase.abs(), hz);
        }
    }
    assert!(in_band > 470, "{what}: {in_band} points in the band");
    // The stated errors (95 % confidence) hold the actual ones at all but a few points.
    let points = report["points"].as_array().unwrap();
    assert_eq!(points.len(), rows.len());
    let beyond = rows
        .iter()
        .zip(points)
        .filter(|(row, _)| (20.0..=20_000.0).contains(&row[0]))
        .filter(|(row, p)| {
            let [hz, ohms, _] = **row;
            let stated = p["error_percent"].as_f64().unwrap();
            (100.0 * (ohms / z(hz).norm() - 1.0)).abs() > stated
        })
        .count();
    println!("{what}: actual error beyond the stated one at {beyond} of {in_band} points");
    assert!(beyond * 10 <= in_band, "{what}: {beyond} of {in_band}");
    assert_eq!(
        report["reliable_percent"].as_f64().unwrap(),
        100.0,
        "{what}: {}",
        report["unreliable_bands"]
    );
    println!(
        "{what}: worst |Z| {worst_mag:.4} % (at {worst_mag_hz:.0} Hz), phase {worst_deg:.4}° \
         (at {worst_deg_hz:.0} Hz)"
    );
    (worst_mag, worst_deg)
}

fn catalog_impedance(name: &str) -> impl Fn(f64) -> Complex64 {
    let iem = Catalog::builtin().iem(name).unwrap().clone();
    move |hz| iem.impedance(hz)
}

#[test]
fn a_multi_ba_with_crossover_from_the_sweep_at_48k() {
    let dir = TempDir::new("measure-se846");
    let z = catalog_impedance("SE846");
    let (rows, report) = measure(&dir, "se846", &z, 48_000, Excitation::Sweep, 1, &[]);
    assert_accurate("SE846, sweep, 48 kHz", &rows, &report, &z);
    // The DC resistance, from the lowest octave, is what an ohmmeter reads (Z at 0.01 Hz).
    let dc = report["dc_resistance"]["ohms"].as_f64().unwrap();
    let ohmmeter = z(0.01).re;
    assert!((dc / ohmmeter - 1.0).abs() < 0.01, "{dc} vs {ohmmeter}");
    // The curve goes on above 20 kHz, to 0.45 fs.
    let top = rows.last().unwrap()[0];
    assert!(top > 20_000.0 && top <= 21_600.0, "{top}");
}

#[test]
fn a_hybrid_from_pink_noise_at_96k() {
    let dir = TempDir::new("measure-hybrid-96");
    let z = catalog_impedance("Blessing 2");
    let (rows, report) = measure(&dir, "blessing", &z, 96_000, Excitation::Pink, 2, &[]);
    assert_accurate("Blessing 2, pink noise, 96 kHz", &rows, &report, &z);
}

#[test]
fn a_hybrid_from_the_sweep_at_44k1() {
    let dir = TempDir::new("measure-hybrid-44");
    let z = catalog_impedance("ZS10");
    let (rows, report) = measure(&dir, "zs10", &z, 44_100, Excitation::Sweep, 3, &[]);
    assert_accurate("ZS10 Pro, sweep, 44.1 kHz", &rows, &report, &z);
}

/// A plain resistor: flat magnitude, zero phase, and the DC estimate is the resistance.
#[test]
fn a_resistor_from_pink_noise_at_44k1() {
    let dir = TempDir::new("measure-resistor");
    let z = |_: f64| Complex64::new(33.0, 0.0);
    let (rows, report) = measure(&dir, "resistor", &z, 44_100, Excitation::Pink, 4, &[]);
    assert_accurate("33 Ω resistor, pink noise, 44.1 kHz", &rows, &report, &z);
    let dc = report["dc_resistance"]["ohms"].as_f64().unwrap();
    assert!((dc / 33.0 - 1.0).abs() < 0.005, "{dc}");
}

/// Input 2's own input impedance loads the IEM (10 kΩ here: 0.45 % off a 45 Ω single BA);
/// `--input-ohms` allows for it.
#[test]
fn the_input_load_is_allowed_for() {
    let dir = TempDir::new("measure-input-load");
    let z = catalog_impedance("ER4SR");
    let r_in = 10_000.0;
    let loaded = |hz: f64| z(hz) * r_in / (z(hz) + r_in);
    let (rows, _) = measure(&dir, "er4", &loaded, 48_000, Excitation::Sweep, 6, &[]);
    let at_1k = rows.iter().find(|r| r[0] >= 1000.0).unwrap();
    let off = 100.0 * (at_1k[1] / z(at_1k[0]).norm() - 1.0);
    assert!(off < -0.3, "the load shows: {off} %");
    let (rows, report) = measure(
        &dir,
        "er4",
        &loaded,
        48_000,
        Excitation::Sweep,
        6,
        &["--input-ohms", "10000"],
    );
    assert_accurate("ER4SR on a 10 kΩ input, allowed for", &rows, &report, &z);
}

/// A unit whose parts are off the catalog's model by ordinary tolerances (the mid branch's
/// crossover capacitor −10 %, the tweeter's series resistor +20 %, the coils +3 %): the
/// measurement follows the unit, and the report says how far the model is from it, as the true
/// difference is. (This test also draws docs/images/measured-impedance.png: run it with
/// `EARSTAGE_KEEP_TEST_FILES=1` and copy `unit.png`.)
#[test]
fn a_unit_off_the_model_is_seen() {
    use earstage::model::ImpedanceModel;
    use earstage::model::circuit::Driver;
    let dir = TempDir::new("measure-unit");
    let model = Catalog::builtin().iem("SE846").unwrap().clone();
    let ImpedanceModel::Circuit(mut circuit) = model.impedance.clone() else {
        panic!("the SE846 is a circuit");
    };
    for branch in &mut circuit.branches {
        match branch.role.as_str() {
            "mid" => branch.series_uf = branch.series_uf.map(|uf| uf * 0.9),
            "tweeter" => branch.series_ohms *= 1.2,
            _ => {}
        }
        if let Driver::BalancedArmature { re_ohms, .. } = &mut branch.driver {
            *re_ohms *= 1.03;
        }
    }
    let unit = move |hz: f64| circuit.impedance(hz);
    let (rows, report) = measure(
        &dir,
        "unit",
        &unit,
        48_000,
        Excitation::Sweep,
        7,
        &[
            "--iem",
            "SE846",
            "--plot",
            dir.join("unit.png").to_str().unwrap(),
        ],
    );
    assert_accurate("SE846 unit off the model", &rows, &report, &unit);
    let (mut worst, mut worst_hz) = (0.0f64, 0.0);
    for &[hz, ..] in rows.iter().filter(|r| (20.0..=20_000.0).contains(&r[0])) {
        let off = 100.0 * (model.impedance(hz).norm() / unit(hz).norm() - 1.0);
        if off.abs() > worst.abs() {
            (worst, worst_hz) = (off, hz);
        }
    }
    let reported = report["model"]["worst_magnitude_percent"].as_f64().unwrap();
    println!("model off the unit by {reported:.2} % (true {worst:.2} % at {worst_hz:.0} Hz)");
    assert!(worst.abs() > 3.0, "the unit differs visibly: {worst} %");
    assert!(
        (reported - worst).abs() < MAGNITUDE_PERCENT,
        "{reported} vs {worst}"
    );
    let png = std::fs::read(dir.join("unit.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
}

/// The measured curve, given to `earstage chain` as the IEM's impedance, reproduces the true
/// network's response within 0.05 dB (here behind a 47 Ω mixer output, where the impedance
/// matters most).
#[test]
fn the_chain_follows_the_measurement() {
    let dir = TempDir::new("measure-chain");
    let z = catalog_impedance("SE846");
    let (_, _) = measure(&dir, "se846", &z, 48_000, Excitation::Sweep, 5, &[]);
    let zma = dir.join("se846.zma");
    let table = |extra: &[&str]| -> Vec<[f64; 2]> {
        let mut args = vec!["chain", "--iem", "SE846", "--source", "47", "--csv"];
        args.extend_from_slice(extra);
        earstage_stdout(args)
            .lines()
            .skip(1)
            .map(|l| {
                let v: Vec<f64> = l.split(',').map(|f| f.parse().unwrap()).collect();
                [v[0], v[1]]
            })
            .collect()
    };
    let model = table(&[]);
    let measured = table(&["--iem-impedance", zma.to_str().unwrap()]);
    let mut worst = 0.0f64;
    for (m, t) in measured.iter().zip(&model) {
        assert_eq!(m[0], t[0]);
        if (20.0..=20_000.0).contains(&m[0]) {
            worst = worst.max((m[1] - t[1]).abs());
        }
    }
    println!("chain response from the measurement: within {worst:.4} dB");
    assert!(worst < 0.05, "{worst} dB");

    // Plots: the measurement over the catalog model, and the chain over the model's |Z|.
    let recording = dir.join("se846.wav");
    let plot = dir.join("measured.png");
    let again = dir.join("again.zma");
    let json = earstage_stdout([
        "measure",
        "impedance",
        recording.to_str().unwrap(),
        "--sense-ohms",
        "100",
        "--calibration",
        dir.join("se846-cal.wav").to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
        "--iem",
        "SE846",
        "--plot",
        plot.to_str().unwrap(),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    // The catalog model is the network measured: it is off by no more than the measurement.
    let off = report["model"]["worst_magnitude_percent"].as_f64().unwrap();
    assert!(off.abs() < MAGNITUDE_PERCENT, "{off}");
    let chain_plot = dir.join("chain.png");
    earstage_stdout([
        "chain",
        "--iem",
        "SE846",
        "--iem-impedance",
        zma.to_str().unwrap(),
        "--source",
        "47",
        "--plot",
        chain_plot.to_str().unwrap(),
    ]);
    for png in [&plot, &chain_plot] {
        let bytes = std::fs::read(png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{}", png.display());
    }
}

use support::earstage_fails;

/// Each bad recording or option is refused with what and where, and no curve is written.
#[test]
fn bad_recordings_are_refused_by_name() {
    let dir = TempDir::new("measure-refusals");
    let fs = 48_000;
    let mut rng = Rng::new(9);
    let x = pink(f64::from(fs), 3.0, &mut rng);
    let z = |_: f64| Complex64::new(16.0, 0.0);
    let good = record(&x, f64::from(fs), Some(&z), 500, -100.0, &mut rng);
    let write = |name: &str, rate: u32, channels: &[Vec<f32>]| {
        let path = dir.join(name);
        write_wav(&path, rate, WavFormat::Int24, channels);
        path.to_str().unwrap().to_owned()
    };
    let recording = write("good.wav", fs, &good);
    let out = dir.join("out.zma");
    let out = out.to_str().unwrap();
    let refused = |recording: &str, extra: &[&str]| -> String {
        let mut args = vec!["measure", "impedance", recording, "-o", out];
        args.extend_from_slice(extra);
        if !extra.contains(&"--sense-ohms") {
            args.extend(["--sense-ohms", "100"]);
        }
        let err = earstage_fails(&args);
        assert!(!Path::new(out).exists(), "{args:?} left {out}");
        err
    };

    let mono = write("mono.wav", fs, &good[..1]);
    let err = refused(&mono, &[]);
    assert!(
        err.contains("mono.wav") && err.contains("has 1 channel"),
        "{err}"
    );

    let swapped = write("swapped.wav", fs, &[good[1].clone(), good[0].clone()]);
    let err = refused(&swapped, &[]);
    assert!(
        err.contains("swapped.wav") && err.contains("swapped"),
        "{err}"
    );

    // Input 1 driven into full scale from 1.5 s on.
    let mut hot = good.clone();
    for s in &mut hot[0][(1.5 * f64::from(fs)) as usize..] {
        *s = (*s * 20.0).clamp(-1.0, 1.0);
    }
    let clipped = write("clipped.wav", fs, &hot);
    let err = refused(&clipped, &[]);
    assert!(
        err.contains("clipped.wav") && err.contains("input 1 clips at 1.5"),
        "{err}"
    );

    let quiet: Vec<Vec<f32>> = good
        .iter()
        .map(|c| c.iter().map(|s| s * 1e-4).collect())
        .collect();
    let quiet = write("quiet.wav", fs, &quiet);
    let err = refused(&quiet, &[]);
    assert!(
        err.contains("quiet.wav") && err.contains("too little signal"),
        "{err}"
    );

    let err = refused(&recording, &["--sense-ohms", "5"]);
    assert!(err.contains("--sense-ohms") && err.contains("10"), "{err}");

    let same = record(&x, f64::from(fs), None, 500, -100.0, &mut rng);
    let same = write("same.wav", fs, &same);
    // Uncalibrated, the inputs' own 3 % mismatch is all there is: nothing reliable is left.
    let err = refused(&same, &[]);
    assert!(
        err.contains("same.wav") && err.contains("too little signal"),
        "{err}"
    );
    // Calibrated by itself: the IEM is not there.
    let err = refused(&same, &["--calibration", &same]);
    assert!(
        err.contains("same.wav") && err.contains("input 2 equals input 1"),
        "{err}"
    );

    let other_rate = write("cal-44k.wav", 44_100, &good);
    let err = refused(&recording, &["--calibration", &other_rate]);
    assert!(
        err.contains("cal-44k.wav") && err.contains("44100 Hz") && err.contains("48000 Hz"),
        "{err}"
    );
    let three = write(
        "cal-3ch.wav",
        fs,
        &[good[0].clone(), good[1].clone(), good[1].clone()],
    );
    let err = refused(&recording, &["--calibration", &three]);
    assert!(
        err.contains("cal-3ch.wav") && err.contains("has 3 channel"),
        "{err}"
    );

    // A curve that exists is kept unless --force.
    std::fs::write(out, "mine").unwrap();
    let err = earstage_fails([
        "measure",
        "impedance",
        &recording,
        "--sense-ohms",
        "100",
        "-o",
        out,
    ]);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(out).unwrap(), "mine");
    let text = earstage_stdout([
        "measure",
        "impedance",
        &recording,
        "--sense-ohms",
        "100",
        "-o",
        out,
        "--force",
    ]);
    assert!(
        text.contains("|Z| minimum") && text.contains("not calibrated"),
        "{text}"
    );
    assert_eq!(read_zma(Path::new(out)).len(), rows_expected(fs));

    // Every output is checked before anything is written: an existing plot refuses the run and
    // the new curve is not made (so the same command, with --force, then works).
    let fresh = Path::new(out).with_file_name("fresh.zma");
    let plot = Path::new(out).with_file_name("kept.png");
    std::fs::write(&plot, "mine").unwrap();
    let args = [
        "measure",
        "impedance",
        &recording,
        "--sense-ohms",
        "100",
        "-o",
        fresh.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ];
    let err = earstage_fails(args);
    assert!(err.contains("kept.png") && err.contains("--force"), "{err}");
    assert!(
        !fresh.exists(),
        "the curve was written before the plot was refused"
    );
    assert_eq!(std::fs::read_to_string(&plot).unwrap(), "mine");
    earstage_stdout([&args[..], &["--force"]].concat());
    assert!(fresh.exists() && std::fs::read(&plot).unwrap().starts_with(b"\x89PNG"));
}

/// About 1/48 octave: the whole number of steps nearest it from 20 Hz to exactly 20 kHz
/// (478), then on at the same step to 0.45 fs.
fn rows_expected(fs: u32) -> usize {
    let steps = (48.0 * 1000f64.log2()).round();
    let step = 1000f64.log2() / steps;
    steps as usize + 1 + ((0.45 * f64::from(fs) / 20_000.0).log2() / step).floor() as usize
}

/// The stimulus: options out of range are refused, and an existing file is kept.
#[test]
fn the_stimulus_refuses_what_it_cannot_write() {
    let dir = TempDir::new("measure-stimulus");
    let path = dir.join("sweep.wav");
    let p = path.to_str().unwrap();
    for (option, value) in [
        ("--rate", "22050"),
        ("--seconds", "0.5"),
        ("--level-dbfs", "3"),
    ] {
        let err = earstage_fails(["measure", "stimulus", p, option, value]);
        assert!(err.contains(option), "{err}");
        assert!(!path.exists());
    }
    let err = earstage_fails(["measure", "stimulus", dir.join("s.mp3").to_str().unwrap()]);
    assert!(err.contains(".wav"), "{err}");
    let text = earstage_stdout([
        "measure",
        "stimulus",
        p,
        "--rate",
        "96000",
        "--seconds",
        "2",
    ]);
    assert!(
        text.contains("96000 Hz") && text.contains("10 Hz–40.0 kHz"),
        "{text}"
    );
    let err = earstage_fails(["measure", "stimulus", p]);
    assert!(err.contains("--force"), "{err}");
}
