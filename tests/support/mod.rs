//! Test signals and helpers shared by the metering tests: built from their definitions here,
//! independently of the code under test.

#![allow(dead_code)] // each test target uses its own part of this module

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use earstage::dsp::Meter;
use earstage::dsp::MeterFrame;
use earstage::dsp::meter::overs::OverEvent;

pub mod host;

/// A folder of one test's own under the system's temporary folder, made empty and removed with
/// everything in it when dropped (a failing test's files stay behind only if it aborts, or when
/// `EARSTAGE_KEEP_TEST_FILES` is set, to look at them).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("earstage-test-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        Self(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("EARSTAGE_KEEP_TEST_FILES").is_some() {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The sample format of a WAV file written with [`write_wav`].
#[derive(Clone, Copy, Debug)]
pub enum WavFormat {
    /// 24-bit integer PCM, rounded.
    Int24,
    /// 32-bit float.
    Float32,
}

/// Writes planar `channels` as a WAV file through hound (a writer independent of the code under
/// test; `tests/cli_analyze.rs` has a hand-written one for the formats hound does not write).
pub fn write_wav(path: &Path, sample_rate_hz: u32, format: WavFormat, channels: &[Vec<f32>]) {
    let (bits, sample_format) = match format {
        WavFormat::Int24 => (24, hound::SampleFormat::Int),
        WavFormat::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: sample_rate_hz,
        bits_per_sample: bits,
        sample_format,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("a WAV file");
    for i in 0..channels.first().map_or(0, Vec::len) {
        for c in channels {
            match format {
                WavFormat::Int24 => w
                    .write_sample((f64::from(c[i]) * 8_388_607.0).round() as i32)
                    .unwrap(),
                WavFormat::Float32 => w.write_sample(c[i]).unwrap(),
            }
        }
    }
    w.finalize().unwrap();
}

/// The `earstage` binary as a command, for a run that needs more than arguments (an environment
/// of its own, input).
pub fn earstage_command() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_earstage"))
}

/// Runs the `earstage` binary with `args` and returns how it ended.
pub fn earstage<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    earstage_command()
        .args(args)
        .output()
        .expect("runs the earstage binary")
}

/// Asserts that a run succeeded (showing its status and stderr if not) and returns what it
/// printed.
#[track_caller]
pub fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "earstage failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// Asserts that a run failed and returns what it printed on stderr.
#[track_caller]
pub fn failed(out: &std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "earstage succeeded where it should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the `earstage` binary with `args`, asserts that it succeeded and returns what it printed.
#[track_caller]
pub fn earstage_stdout<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    succeeded(&earstage(args))
}

/// Runs the `earstage` binary with `args`, asserts that it failed and returns its stderr.
#[track_caller]
pub fn earstage_fails<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    failed(&earstage(args))
}

/// Runs the `earstage` binary with its stdout on a pipe whose reader is already gone (as in
/// `earstage catalog | head -0`) and says how it ended: `Ok` when it ended quietly (success, or
/// SIGPIPE's default action), `Err` with what it printed or how it died otherwise.
pub fn run_into_closed_pipe(bin: &str, args: &[&str]) -> Result<(), String> {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = std::process::Command::new(bin)
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("runs the binary");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    #[cfg(unix)]
    let by_sigpipe = {
        use std::os::unix::process::ExitStatusExt;
        out.status.signal() == Some(13)
    };
    #[cfg(not(unix))]
    let by_sigpipe = false;
    if (out.status.success() || by_sigpipe) && stderr.is_empty() {
        Ok(())
    } else {
        Err(format!("{args:?}: {} with {stderr:?}", out.status))
    }
}

/// A deterministic pseudo-random source (SplitMix64), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform(f64::MIN_POSITIVE, 1.0);
        let u2 = self.uniform(0.0, 1.0);
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }
}

/// `seconds` of a sine at `freq_hz`, peak `amplitude`, starting phase `phase` (radians).
pub fn sine(fs: f64, freq_hz: f64, amplitude: f64, phase: f64, seconds: f64) -> Vec<f64> {
    let n = (seconds * fs).round() as usize;
    (0..n)
        .map(|i| amplitude * (2.0 * PI * freq_hz * i as f64 / fs + phase).sin())
        .collect()
}

/// A 1 kHz stereo-style tone at `dbfs` peak per channel (EBU Tech 3341 "tones similar to #1").
pub fn tone_1k(fs: f64, dbfs: f64, seconds: f64) -> Vec<f64> {
    sine(fs, 1000.0, 10f64.powf(dbfs / 20.0), 0.0, seconds)
}

pub fn silence(fs: f64, seconds: f64) -> Vec<f64> {
    vec![0.0; (seconds * fs).round() as usize]
}

/// Raised-cosine fade-in and fade-out of `seconds` each.
pub fn fade(mut x: Vec<f64>, fs: f64, seconds: f64) -> Vec<f64> {
    let n = ((seconds * fs).round() as usize).min(x.len() / 2);
    let len = x.len();
    for i in 0..n {
        let g = 0.5 - 0.5 * (PI * i as f64 / n as f64).cos();
        x[i] *= g;
        x[len - 1 - i] *= g;
    }
    x
}

pub fn to_f32(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

/// Run `channels` through a fresh meter in blocks of `block`, calling `each_block` with the
/// frame after every block; returns the final frame and the over log.
pub fn meter_blocks(
    fs: f64,
    channels: &[Vec<f32>],
    block: usize,
    mut each_block: impl FnMut(usize, &MeterFrame),
) -> (MeterFrame, Vec<OverEvent>) {
    let mut meter = Meter::new(fs as f32, channels.len());
    let mut overs = Vec::new();
    let len = channels[0].len();
    let mut start = 0;
    while start < len {
        let end = (start + block).min(len);
        let views: Vec<&[f32]> = channels.iter().map(|c| &c[start..end]).collect();
        meter.process(&views, |e| overs.push(e));
        each_block(end, &meter.frame());
        start = end;
    }
    meter.finish(|e| overs.push(e));
    (meter.frame(), overs)
}

/// The same signal in both channels of a stereo pair.
pub fn stereo(x: &[f64]) -> Vec<Vec<f32>> {
    vec![to_f32(x), to_f32(x)]
}

pub fn db(amplitude: f64) -> f64 {
    20.0 * amplitude.log10()
}

/// Asserts an ear's NIOSH and WHO doses are within `relative` of the closed forms.
pub fn assert_doses(
    ear: &earstage::dsp::spl::exposure::EarReadings,
    niosh: f64,
    who: f64,
    relative: f64,
) {
    assert!(
        (ear.niosh_percent / niosh - 1.0).abs() < relative,
        "NIOSH {} % vs {niosh} %",
        ear.niosh_percent
    );
    assert!(
        (ear.who_percent / who - 1.0).abs() < relative,
        "WHO {} % vs {who} %",
        ear.who_percent
    );
}

/// A catalog chain the SPL tests share: a multi-BA IEM (SE846) behind a 75 Ω adapter on an
/// interface's 10 Ω output.
pub fn se846_behind_75_ohms() -> earstage::model::Chain {
    let catalog = earstage::model::catalog::Catalog::builtin();
    earstage::model::Chain {
        source: catalog.source("10 Ω").unwrap().clone(),
        attenuator: catalog.attenuator("75").unwrap().clone(),
        cable: earstage::model::Cable::default(),
        iem: catalog.iem("SE846").unwrap().clone(),
    }
}

/// An impedance file in REW's text form (Hz, Ω, degrees), from `z(hz) -> (ohms, degrees)` at 1/6
/// octave from 10 Hz to 40 kHz.
pub fn write_impedance(path: &Path, z: impl Fn(f64) -> (f64, f64)) {
    let mut text = String::from("* Freq(Hz) Magnitude(Ohm) Phase(Deg)\n");
    let mut hz: f64 = 10.0;
    while hz <= 40_000.0 {
        let (ohms, deg) = z(hz);
        text.push_str(&format!("{hz:.4} {ohms:.6} {deg:.4}\n"));
        hz *= 2f64.powf(1.0 / 6.0);
    }
    std::fs::write(path, text).expect("writes the impedance file");
}
