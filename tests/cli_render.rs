//! `earstage render`, run as a user would: the output against the circuit's closed form, its
//! format, and its refusals.

use std::path::Path;

use earstage::model::catalog::Catalog;
use earstage::model::{Cable, Chain, Source};

mod support;
use support::TempDir;

const FS: u32 = 44_100;

/// Two seconds of a stereo sine at `hz`, −6 dBFS, 24-bit (the right channel inverted).
fn write_sine(path: &Path, hz: f64) {
    let left: Vec<f32> = (0..2 * FS)
        .map(|n| {
            (0.5 * (2.0 * std::f64::consts::PI * hz * f64::from(n) / f64::from(FS)).sin()) as f32
        })
        .collect();
    let right = left.iter().map(|x| -x).collect();
    support::write_wav(path, FS, support::WavFormat::Int24, &[left, right]);
}

fn render(args: &[&str]) -> std::process::Output {
    support::earstage_command()
        .arg("render")
        .args(args)
        .output()
        .unwrap()
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Level mode on the default (ideal) rig outputs H = V_iem/V_EMF: a sine's level changes by
/// 20·log10|H(f)| of the circuit, within the audition's 0.1 dB.
#[test]
fn level_mode_is_the_circuits_response() {
    let dir = TempDir::new("level");
    let input = dir.join("in.wav");
    let catalog = Catalog::builtin();
    let chain = Chain {
        source: Source::ideal(1.0),
        attenuator: catalog.attenuator("75").unwrap().clone(),
        cable: Cable::default(),
        iem: catalog.iem("Andromeda").unwrap().clone(),
    };
    for hz in [100.0, 1_000.0, 8_000.0] {
        write_sine(&input, hz);
        let output = dir.join(format!("out-{hz}.wav"));
        let out = render(&[
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            "--iem",
            "Andromeda",
            "--source",
            "Ideal source",
            "--attenuator",
            "75",
            "--mode",
            "level",
            "--json",
        ]);
        support::succeeded(&out);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["held_back_db"], 0.0);
        let mut reader = hound::WavReader::open(&output).unwrap();
        let spec = reader.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, FS, 32)
        );
        assert_eq!(spec.sample_format, hound::SampleFormat::Float);
        let samples: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
        assert_eq!(samples.len(), 4 * FS as usize);
        let left: Vec<f32> = samples.iter().step_by(2).copied().collect();
        let steady = &left[FS as usize / 2..];
        let got_db = 20.0 * (rms(steady) / (0.5 / 2f64.sqrt())).log10();
        let want_db = 20.0 * chain.transfer(hz).norm().log10();
        assert!(
            (got_db - want_db).abs() < 0.1,
            "{hz} Hz: {got_db:.3} dB vs the circuit's {want_db:.3} dB"
        );
    }
}

/// Each earpiece on its own curve: in level mode the left channel follows the left's circuit, the
/// right the right's (a 75 Ω adapter in front of a 10 Ω and a 40 Ω earpiece: −18.6 and −9.2 dB),
/// within the audition's 0.1 dB.
#[test]
fn each_ear_through_its_own_earpiece() {
    let dir = TempDir::new("ears");
    let (input, output) = (dir.join("in.wav"), dir.join("out.wav"));
    let (left_z, right_z) = (dir.join("left.zma"), dir.join("right.zma"));
    support::write_impedance(&left_z, |_| (10.0, 0.0));
    support::write_impedance(&right_z, |_| (40.0, 0.0));
    write_sine(&input, 1_000.0);
    let out = render(&[
        input.to_str().unwrap(),
        output.to_str().unwrap(),
        "--iem-impedance",
        left_z.to_str().unwrap(),
        "--iem-impedance-right",
        right_z.to_str().unwrap(),
        "--iem-sensitivity",
        "110 dB/mW",
        "--source",
        "Ideal source",
        "--attenuator",
        "75",
        "--mode",
        "level",
    ]);
    support::succeeded(&out);
    let samples: Vec<f32> = hound::WavReader::open(&output)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect();
    for (channel, ohms) in [(0, 10.0), (1, 40.0)] {
        let x: Vec<f32> = samples.iter().skip(channel).step_by(2).copied().collect();
        let got_db = 20.0 * (rms(&x[FS as usize / 2..]) / (0.5 / 2f64.sqrt())).log10();
        let want_db = 20.0 * (ohms / (ohms + 75.0f64)).log10();
        assert!(
            (got_db - want_db).abs() < 0.1,
            "channel {channel}: {got_db:.3} dB vs {want_db:.3} dB"
        );
    }
}

/// It never overwrites the input, nor an existing file without --force; the messages say which
/// file and what to do.
#[test]
fn refusals_name_the_file() {
    let dir = TempDir::new("refuse");
    let input = dir.join("in.wav");
    write_sine(&input, 440.0);
    let same = render(&[input.to_str().unwrap(), input.to_str().unwrap(), "--force"]);
    let message = support::failed(&same);
    assert!(message.contains("overwrite the input"), "{message}");

    let existing = dir.join("existing.wav");
    std::fs::write(&existing, b"keep me").unwrap();
    let refused = render(&[input.to_str().unwrap(), existing.to_str().unwrap()]);
    let message = support::failed(&refused);
    assert!(
        message.contains("existing.wav") && message.contains("--force"),
        "{message}"
    );
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    let replaced = render(&[
        input.to_str().unwrap(),
        existing.to_str().unwrap(),
        "--force",
    ]);
    support::succeeded(&replaced);
    assert!(hound::WavReader::open(&existing).is_ok());

    let bad_ceiling = render(&[
        input.to_str().unwrap(),
        dir.join("x.wav").to_str().unwrap(),
        "--ceiling",
        "40",
    ]);
    let message = String::from_utf8_lossy(&bad_ceiling.stderr);
    assert!(
        message.contains("--ceiling") && message.contains("24"),
        "{message}"
    );
    assert!(!dir.join("x.wav").exists());
}

/// A folder or a name that says another format is refused before anything is written, and a
/// failed render leaves no `.partial` behind; `--json` holds each key once.
#[test]
fn wrong_outputs_leave_nothing_and_json_keys_are_unique() {
    let dir = TempDir::new("outputs");
    let input = dir.join("in.wav");
    write_sine(&input, 440.0);
    let folder = dir.join("d");
    std::fs::create_dir_all(&folder).unwrap();
    for (output, word) in [(&folder, "folder"), (&dir.join("out.flac"), ".wav")] {
        let out = render(&[input.to_str().unwrap(), output.to_str().unwrap(), "--force"]);
        let message = support::failed(&out);
        assert!(message.contains(word), "{message}");
    }
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.iter().all(|name| !name.ends_with(".partial"))
            && !left.iter().any(|n| n == "out.flac"),
        "{left:?}"
    );

    let out = render(&[
        input.to_str().unwrap(),
        dir.join("ok.wav").to_str().unwrap(),
        "--json",
    ]);
    support::succeeded(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    // serde_json keeps the last of repeated keys, so count them in the text.
    for key in ["\"sample_rate\"", "\"channels\"", "\"duration_s\""] {
        assert_eq!(text.matches(key).count(), 1, "{key} in {text}");
    }
}
