//! `earstage analyze` on WAV files in every supported format, and its errors on bad files.

use std::path::Path;

mod support;
use support::TempDir;

/// A 1 kHz sine at −20 dBFS peak in every channel: −20 LUFS in stereo (BS.1770 calibration),
/// true peak −20 dBTP.
const LEVEL_DBFS: f64 = -20.0;

/// Write a WAV by hand (an independent writer): format tag, bits, channels, interleaved samples.
fn write_wav(path: &Path, tag: u16, bits: u16, channels: u16, fs: u32, frames: &[Vec<f64>]) {
    let bytes_per_sample = usize::from(bits / 8);
    let mut data = Vec::new();
    for frame in frames {
        for &x in frame {
            match (tag, bits) {
                (1, 16) => data.extend(((x * 32_767.0).round() as i16).to_le_bytes()),
                (1, 24) => data.extend(&((x * 8_388_607.0).round() as i32).to_le_bytes()[..3]),
                (1, 32) => data.extend(((x * 2_147_483_647.0).round() as i32).to_le_bytes()),
                (3, 32) => data.extend((x as f32).to_le_bytes()),
                (3, 64) => data.extend(x.to_le_bytes()),
                (1, 8) => data.push(((x * 127.0).round() as i16 + 128) as u8),
                _ => unreachable!(),
            }
        }
    }
    let block_align = bytes_per_sample as u16 * channels;
    let mut out = Vec::new();
    out.extend(b"RIFF");
    out.extend(((36 + data.len()) as u32).to_le_bytes());
    out.extend(b"WAVEfmt ");
    out.extend(16u32.to_le_bytes());
    out.extend(tag.to_le_bytes());
    out.extend(channels.to_le_bytes());
    out.extend(fs.to_le_bytes());
    out.extend((fs * u32::from(block_align)).to_le_bytes());
    out.extend(block_align.to_le_bytes());
    out.extend(bits.to_le_bytes());
    out.extend(b"data");
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(data);
    std::fs::write(path, out).unwrap();
}

fn sine_frames(fs: u32, channels: usize, seconds: f64) -> Vec<Vec<f64>> {
    let amplitude = 10f64.powf(LEVEL_DBFS / 20.0);
    (0..(seconds * f64::from(fs)) as usize)
        .map(|n| {
            let x =
                amplitude * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / f64::from(fs)).sin();
            vec![x; channels]
        })
        .collect()
}

fn analyze(path: &Path) -> (bool, String, String) {
    let out = support::earstage_command()
        .arg("analyze")
        .arg(path)
        .arg("--json")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn number(json: &serde_json::Value, key: &str) -> f64 {
    json[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no number at {key} in {json}"))
}

#[test]
fn every_format_reads_the_same() {
    let dir = TempDir::new("formats");
    let frames = sine_frames(48_000, 2, 5.0);
    for (tag, bits) in [(1, 16), (1, 24), (1, 32), (3, 32), (3, 64)] {
        let path = dir.join(format!("sine-{tag}-{bits}.wav"));
        write_wav(&path, tag, bits, 2, 48_000, &frames);
        let (ok, stdout, stderr) = analyze(&path);
        assert!(ok, "{bits}-bit: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["sample_rate"], 48_000);
        assert_eq!(json["channels"], 2);
        assert!((number(&json, "duration_s") - 5.0).abs() < 1e-9);
        // BS.1770 calibration: a stereo 1 kHz sine reads its peak level in LUFS (±0.1 LU,
        // Tech 3341); 16-bit quantization adds nothing measurable at −20 dBFS.
        for key in [
            "integrated_lufs",
            "momentary_max_lufs",
            "short_term_max_lufs",
        ] {
            let v = number(&json, key);
            assert!((v - LEVEL_DBFS).abs() <= 0.1, "{bits}-bit {key}: {v}");
        }
        for key in [
            "true_peak_dbtp",
            "true_peak_bs1770_dbtp",
            "sample_peak_dbfs",
        ] {
            for v in json[key].as_array().unwrap() {
                let v = v.as_f64().unwrap();
                assert!((v - LEVEL_DBFS).abs() <= 0.02, "{bits}-bit {key}: {v}");
            }
        }
        assert_eq!(json["overs"], serde_json::json!([0, 0]));
        assert!(number(&json, "loudness_range_lu").abs() <= 1.0);
    }
}

#[test]
fn one_to_eight_channels() {
    let dir = TempDir::new("channels");
    for channels in [1u16, 3, 6, 8] {
        let path = dir.join(format!("{channels}ch.wav"));
        write_wav(
            &path,
            3,
            32,
            channels,
            44_100,
            &sine_frames(44_100, usize::from(channels), 1.0),
        );
        let (ok, stdout, stderr) = analyze(&path);
        assert!(ok, "{channels} channels: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["channels"], channels);
        assert_eq!(
            json["true_peak_dbtp"].as_array().unwrap().len(),
            usize::from(channels)
        );
    }
}

#[test]
fn bad_files_get_errors_that_name_the_file_and_the_problem() {
    let dir = TempDir::new("errors");
    let text = dir.join("notes.wav");
    std::fs::write(&text, "these are not samples").unwrap();
    let nine_channels = dir.join("nine.wav");
    write_wav(&nine_channels, 1, 16, 9, 8_000, &sine_frames(8_000, 9, 0.1));
    let slow = dir.join("slow.wav");
    write_wav(&slow, 1, 16, 1, 4_000, &sine_frames(4_000, 1, 0.1));
    let truncated = dir.join("cut.wav");
    write_wav(&truncated, 1, 16, 2, 48_000, &sine_frames(48_000, 2, 0.5));
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let missing = dir.join("missing.wav");

    for (path, wanted) in [
        (
            &text,
            "not a readable audio file: its contents are not an audio format",
        ),
        (&nine_channels, "unsupported: 9 channels"),
        (&slow, "unsupported: sample rate 4000 Hz"),
        (&truncated, "truncated"),
        (&missing, "cannot read the file"),
    ] {
        let (ok, _, stderr) = analyze(path);
        assert!(!ok, "{} should fail", path.display());
        assert!(
            stderr.contains(&path.display().to_string()),
            "no file name in: {stderr}"
        );
        assert!(stderr.contains(wanted), "expected {wanted:?} in: {stderr}");
        if path != &missing {
            assert!(
                stderr.contains("Earstage reads") || stderr.contains("a file must"),
                "the message says what is allowed: {stderr}"
            );
        }
    }
}

/// `analyze` with chain options: a 1 kHz sine at −20 dBFS through a known chain, against the
/// closed form (docs/chain.md): SPL = S_V + 20·log10(0.1·V_fs·|H(1 kHz)|), A- and C-weighting are
/// 0 dB at 1 kHz, the C-weighted peak is the RMS + 3.01 dB, the diffuse-field equivalent is the
/// eardrum level minus the table's 1 kHz value, and the doses follow from the level and the
/// duration. 0.05 dB (issue #5). The sine fades in and out over 100 ms (sin² ramps in amplitude),
/// so that no onset transient of the C-weighting's 20 Hz poles adds to the peak; the level
/// correction for the fades is exact.
mod delivered_spl {
    use super::*;
    use earstage::model::catalog::Catalog;
    use earstage::model::eardrum::diffuse_to_eardrum_db;

    fn run(path: &Path, chain: &[&str]) -> serde_json::Value {
        let path = path.to_str().unwrap();
        let out = support::earstage_stdout([&["analyze", path, "--json"][..], chain].concat());
        serde_json::from_str(&out).unwrap()
    }

    const FADE_S: f64 = 0.1;

    fn faded_sine(fs: u32, seconds: f64) -> Vec<Vec<f64>> {
        let fade = (FADE_S * f64::from(fs)) as usize;
        let mut frames = sine_frames(fs, 2, seconds);
        let n = frames.len();
        for (i, frame) in frames.iter_mut().enumerate() {
            let edge = i.min(n - 1 - i);
            if edge < fade {
                let g = (std::f64::consts::FRAC_PI_2 * edge as f64 / fade as f64)
                    .sin()
                    .powi(2);
                frame.iter_mut().for_each(|x| *x *= g);
            }
        }
        frames
    }

    fn check(json: &serde_json::Value, steady_db: f64, seconds: f64) {
        check_ears(json, [steady_db; 2], seconds);
    }

    /// [`check`] with a steady level per ear.
    fn check_ears(json: &serde_json::Value, steady_ears_db: [f64; 2], seconds: f64) {
        // The fades keep ≈ 3/8 of their energy (sin⁴ averages 3/8): 2 × 0.1 s × 5/8 is lost.
        let kept = (seconds - 2.0 * FADE_S * 5.0 / 8.0) / seconds;
        for (ch, steady_db) in steady_ears_db.into_iter().enumerate() {
            let spl_db = steady_db + 10.0 * kept.log10();
            let df = spl_db - diffuse_to_eardrum_db(1000.0);
            let at = |key: &str| {
                json[key][ch]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{key} in {json}"))
            };
            assert!(
                (at("laeq_dba") - spl_db).abs() < 0.05,
                "laeq {} vs {spl_db}",
                at("laeq_dba")
            );
            assert!(
                (at("laeq_df_dba") - df).abs() < 0.05,
                "df {} vs {df}",
                at("laeq_df_dba")
            );
            let peak = steady_db + 20.0 * 2f64.sqrt().log10();
            assert!(
                (at("lcpeak_dbc") - peak).abs() < 0.05,
                "lcpeak {} vs {peak}",
                at("lcpeak_dbc")
            );
            // NIOSH: T = 8 h / 2^((L − 85)/3); WHO: 1.6 Pa²h a week.
            let niosh = 100.0 * seconds / (8.0 * 3600.0 / 2f64.powf((df - 85.0) / 3.0));
            let who = 100.0 * (20e-6f64).powi(2) * 10f64.powf(df / 10.0) * seconds / 3600.0 / 1.6;
            assert!(
                (at("dose_niosh_percent") / niosh - 1.0).abs() < 0.012,
                "{} vs {niosh}",
                at("dose_niosh_percent")
            );
            assert!(
                (at("dose_who_percent") / who - 1.0).abs() < 0.012,
                "{} vs {who}",
                at("dose_who_percent")
            );
        }
    }

    /// A 16 Ω resistive IEM of 110 dB/mW on a 0.5 Ω, 1 Vrms source at full volume.
    const RESISTIVE_16: [&str; 10] = [
        "--iem-resistance",
        "16",
        "--iem-sensitivity",
        "110 dB/mW",
        "--source-vfs",
        "1.0",
        "--source-impedance",
        "0.5",
        "--source-volume",
        "0",
    ];

    #[test]
    fn resistive_chain() {
        let dir = TempDir::new("spl-resistive");
        let path = dir.join("sine.wav");
        write_wav(&path, 3, 32, 2, 48_000, &faded_sine(48_000, 20.0));
        let json = run(&path, &RESISTIVE_16);
        // 110 dB/mW at 16 Ω = 127.96 dB/V; 0.1 V EMF; divider 16/16.5.
        let spl = 110.0 + 10.0 * (1000.0f64 / 16.0).log10() + 20.0 * (0.1 * 16.0 / 16.5f64).log10();
        check(&json, spl, 20.0);
    }

    /// A chain that clips says so. RESISTIVE_16 inherits the default interface's 40 mA limit:
    /// its clip point is 40 mA × 16.5 Ω = 0.66 V of EMF, under the 1 V a 0 dBFS sine asks, so
    /// the headroom for the file's true peak P is 20·log10(0.66 / 10^(P/20)) — negative at
    /// this file's peak — and the text report names the clipping. With a 250 mA source it does
    /// not clip and says nothing.
    #[test]
    fn a_clipping_chain_is_named() {
        let dir = TempDir::new("spl-clips");
        let path = dir.join("sine.wav");
        // A 1 kHz sine at −1 dBFS.
        let amplitude = 10f64.powf(-1.0 / 20.0);
        let hot: Vec<Vec<f64>> = (0..48_000)
            .map(|n| {
                let x = amplitude
                    * (2.0 * std::f64::consts::PI * 1000.0 * f64::from(n) / 48_000.0).sin();
                vec![x; 2]
            })
            .collect();
        write_wav(&path, 3, 32, 2, 48_000, &hot);
        let json = run(&path, &RESISTIVE_16);
        let peak_dbtp = json["true_peak_dbtp"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .fold(f64::NEG_INFINITY, f64::max);
        let want = 20.0 * (0.040 * 16.5 / 10f64.powf(peak_dbtp / 20.0)).log10();
        let got = json["headroom_db"]
            .as_f64()
            .unwrap_or_else(|| panic!("{json}"));
        assert!(want < 0.0 && (got - want).abs() < 0.01, "{got} vs {want}");
        let file = path.to_str().unwrap();
        let text = support::earstage_stdout([&["analyze", file][..], &RESISTIVE_16].concat());
        assert!(text.contains("the chain CLIPS"), "{text}");
        let strong = [&RESISTIVE_16[..], &["--source-max-current", "250"]].concat();
        let text = support::earstage_stdout([&["analyze", file][..], &strong].concat());
        assert!(!text.contains("CLIPS"), "{text}");
    }

    /// The left earpiece 16 Ω, the right its own 32 Ω curve: each ear its own closed form.
    #[test]
    fn each_ear_its_own_earpiece() {
        let dir = TempDir::new("spl-ears");
        let (path, right) = (dir.join("sine.wav"), dir.join("right.zma"));
        write_wav(&path, 3, 32, 2, 48_000, &faded_sine(48_000, 20.0));
        support::write_impedance(&right, |_| (32.0, 0.0));
        let json = run(
            &path,
            &[
                &RESISTIVE_16[..],
                &["--iem-impedance-right", right.to_str().unwrap()],
            ]
            .concat(),
        );
        let spl =
            |z: f64| 110.0 + 10.0 * (1000.0 / z).log10() + 20.0 * (0.1 * z / (z + 0.5)).log10();
        check_ears(&json, [spl(16.0), spl(32.0)], 20.0);
    }

    /// A multi-BA IEM on a 10 Ω source at −12 dB volume, by catalog names, at 44.1 kHz.
    #[test]
    fn catalog_chain() {
        let dir = TempDir::new("spl-catalog");
        let path = dir.join("sine.wav");
        write_wav(&path, 1, 24, 2, 44_100, &faded_sine(44_100, 20.0));
        let json = run(
            &path,
            &[
                "--iem",
                "andromeda",
                "--source",
                "10 Ω headphone",
                "--source-volume",
                "-12",
            ],
        );
        let catalog = Catalog::builtin();
        let mut chain = earstage::model::Chain {
            iem: catalog.iem("andromeda").unwrap().clone(),
            source: catalog.source("10 Ω headphone").unwrap().clone(),
            attenuator: earstage::model::Attenuator::none(),
            cable: Default::default(),
        };
        chain.source.volume_db = -12.0;
        let spl = chain.spl_at_full_scale_db() - 20.0;
        check(&json, spl, 20.0);
    }

    /// Without chain options the report has no SPL keys.
    #[test]
    fn only_with_a_chain() {
        let dir = TempDir::new("spl-none");
        let path = dir.join("sine.wav");
        write_wav(&path, 1, 16, 2, 48_000, &sine_frames(48_000, 2, 1.0));
        let (ok, stdout, _) = analyze(&path);
        assert!(ok && !stdout.contains("laeq_dba"));
    }
}

/// `analyze` on the encoded fixtures (`tests/data/audio/`, see `tests/audio_files.rs`): the codec
/// and bit depth are reported. Lossless files read the left channel's 997 Hz sine at −20 dBFS to
/// within the sample grid's true-peak error; lossy ones, whose onset a codec smears into a
/// pre-echo, read the same momentary loudness as the lossless decode (a codec at 128 kbit/s or
/// more keeps a steady tone's energy to within a few hundredths of a dB).
#[test]
fn every_audio_format_through_the_cli() {
    let json_of = |name: &str| -> serde_json::Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/audio")
            .join(name);
        let (ok, stdout, stderr) = analyze(&path);
        assert!(ok, "{name}: {stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let reference = number(&json_of("tone.flac"), "momentary_max_lufs");
    for (name, codec, bits) in [
        ("tone.flac", "FLAC", Some(24u64)),
        ("tone.aiff", "PCM", Some(24)),
        ("tone-float.aifc", "float PCM", Some(32)),
        ("tone-alac.m4a", "ALAC", Some(24)),
        ("tone.mp3", "MP3", None),
        ("tone-aac.m4a", "AAC", None),
        ("tone.ogg", "Vorbis", None),
    ] {
        let json = json_of(name);
        assert_eq!(json["codec"], codec, "{name}");
        assert_eq!(json["bits_per_sample"].as_u64(), bits, "{name}");
        assert_eq!(json["sample_rate"], 48_000, "{name}");
        assert_eq!(json["channels"], 2, "{name}");
        if bits.is_some() {
            let left_peak = json["sample_peak_dbfs"][0].as_f64().unwrap();
            assert!(
                (left_peak + 20.0).abs() <= 0.02,
                "{name}: left peak {left_peak} dBFS"
            );
        }
        let momentary = number(&json, "momentary_max_lufs");
        assert!(
            (momentary - reference).abs() <= 0.1,
            "{name}: momentary max {momentary} LUFS, the lossless decode's {reference}"
        );
    }
}

/// Album mode through the CLI: a folder of two tones and a damaged file gives a table, JSON with
/// `files` (each with `path`, the damaged one with its error) and `album`, and CSV; every form
/// exits non-zero because one file failed, after reporting the rest. The album's integrated
/// loudness is the power mean of the two levels (equal lengths, equal block counts).
#[test]
fn album_mode_json_csv_and_a_failed_file() {
    let dir = TempDir::new("album");
    let fs = 48_000;
    for (name, gain_db) in [("a.wav", 0.0), ("c.wav", -6.0)] {
        let g = 10f64.powf(gain_db / 20.0);
        let frames: Vec<Vec<f64>> = sine_frames(fs, 2, 10.0)
            .into_iter()
            .map(|f| f.into_iter().map(|x| x * g).collect())
            .collect();
        write_wav(&dir.join(name), 3, 32, 2, fs, &frames);
    }
    std::fs::write(dir.join("b.wav"), b"RIFF\x04\0\0\0WAVE").unwrap();
    let run = |format: &str| {
        let out = support::earstage_command()
            .args(["analyze", "--jobs", "2"])
            .arg(&*dir)
            .args((!format.is_empty()).then_some(format))
            .output()
            .unwrap();
        // A failed file fails the run.
        let stderr = support::failed(&out);
        assert!(
            stderr.contains("b.wav") && stderr.contains("1 of 3 files"),
            "{stderr}"
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let expected = 10.0
        * ((10f64.powf(LEVEL_DBFS / 10.0) + 10f64.powf((LEVEL_DBFS - 6.0) / 10.0)) / 2.0).log10();

    let json: serde_json::Value = serde_json::from_str(&run("--json")).unwrap();
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for (file, name) in files.iter().zip(["a.wav", "b.wav", "c.wav"]) {
        assert!(file["path"].as_str().unwrap().ends_with(name), "{file}");
    }
    assert!(files[1]["error"].as_str().unwrap().contains("b.wav"));
    assert!((number(&files[0], "integrated_lufs") - LEVEL_DBFS).abs() <= 0.1);
    let album = &json["album"];
    assert!(
        (number(album, "integrated_lufs") - expected).abs() <= 0.1,
        "album {album}"
    );
    assert!((number(album, "duration_s") - 20.0).abs() < 1e-6);
    assert_eq!(
        album["true_peak_dbtp"], files[0]["true_peak_dbtp"],
        "the album's peak is the loudest file's"
    );

    let csv_text = run("--csv");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4, "three files and the album:\n{csv_text}");
    assert_eq!(&rows[3][0], "album");
    assert!(rows[1][column("error")].contains("b.wav"));
    let album_i: f64 = rows[3][column("integrated_lufs")].parse().unwrap();
    assert!((album_i - expected).abs() <= 0.1, "{album_i}");

    let table = run("");
    assert!(table.contains("album (2 files)"), "{table}");
    assert!(table.contains("failed"), "{table}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A closed pipe ends the analysis quietly, in every output format (`earstage analyze FILE |
/// head -0`).
#[test]
fn closed_pipe_ends_quietly() {
    let dir = TempDir::new("pipe");
    let path = dir.join("tone.wav");
    write_wav(&path, 1, 16, 2, 48_000, &sine_frames(48_000, 2, 0.5));
    let file = path.to_str().unwrap();
    let bin = env!("CARGO_BIN_EXE_earstage");
    for args in [
        &["analyze", file][..],
        &["analyze", file, "--json"],
        &["analyze", file, "--csv"],
        &["analyze", file, file],
    ] {
        support::run_into_closed_pipe(bin, args).unwrap();
    }
}

/// Problems in the input are said: samples that are not numbers (read as silence) and a lossy
/// file cut short of the length its header declares each give a warning on stderr and in the
/// JSON's `warnings`, and the figures are still reported.
#[test]
fn problems_in_the_input_are_reported() {
    let dir = TempDir::new("problems");
    let path = dir.join("nan.wav");
    let mut frames = sine_frames(48_000, 2, 1.0);
    frames[24_000][0] = f64::NAN;
    frames[24_001][1] = f64::INFINITY;
    write_wav(&path, 3, 32, 2, 48_000, &frames);
    let (ok, stdout, stderr) = analyze(&path);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("2 sample(s) were not numbers"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["warnings"].as_array().unwrap().len(), 1, "{json}");

    // An MP3 declares its length (the Xing header); an Ogg stream ends with a page flagged
    // end-of-stream, which a file cut anywhere before it lacks.
    // (`pink.ogg`: 4 s of mono pink noise at 44.1 kHz, `ffmpeg -f lavfi -i anoisesrc=color=pink:
    // duration=4:sample_rate=44100:amplitude=0.25:seed=7 -c:a libvorbis -q:a 0`, in five pages.)
    for (fixture, says) in [
        ("tone.mp3", "declares"),
        ("pink.ogg", "without its last page"),
    ] {
        let whole = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/data/audio")
                .join(fixture),
        )
        .unwrap();
        let cut = dir.join(format!("cut-{fixture}"));
        std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
        let (ok, stdout, stderr) = analyze(&cut);
        assert!(ok, "{fixture}: {stderr}");
        assert!(stderr.contains("cut short"), "{fixture}: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert!(
            json["warnings"][0].as_str().unwrap().contains(says),
            "{fixture}: {json}"
        );
        // The whole file is not warned about.
        let whole_path = dir.join(fixture);
        std::fs::write(&whole_path, &whole).unwrap();
        let (ok, stdout, stderr) = analyze(&whole_path);
        assert!(ok && !stderr.contains("cut short"), "{fixture}: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["warnings"].as_array().map(Vec::len), Some(0), "{json}");
    }
}

/// With a chain, an album is one listening session: its LAeq is the energy mean over the files'
/// total length (two files of one steady tone: the tone's LAeq), its doses the sum of the files'
/// (a 1 s and a 2 s file: 3 s of the tone's dose rate), and `--csv` carries the SPL columns.
#[test]
fn album_with_a_chain_is_one_session() {
    let dir = TempDir::new("album-spl");
    let short = dir.join("a.wav");
    let long = dir.join("b.wav");
    write_wav(&short, 1, 24, 2, 48_000, &sine_frames(48_000, 2, 1.0));
    write_wav(&long, 1, 24, 2, 48_000, &sine_frames(48_000, 2, 2.0));
    let chain = [
        "--iem-resistance",
        "16",
        "--iem-sensitivity",
        "110 dB/mW",
        "--source-vfs",
        "1.0",
        "--source-volume",
        "0",
    ];
    let run = |extra: &[&str]| {
        let (short, long) = (short.to_str().unwrap(), long.to_str().unwrap());
        support::earstage_stdout([&["analyze", short, long][..], &chain, extra].concat())
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["--json"])).unwrap();
    let files = json["files"].as_array().unwrap();
    let album = &json["album"];
    let at = |v: &serde_json::Value, key: &str| v[key][0].as_f64().unwrap();
    let (a, b) = (&files[0], &files[1]);
    let energy = |v: &serde_json::Value, t: f64| 10f64.powf(at(v, "laeq_dba") / 10.0) * t;
    let laeq = 10.0 * ((energy(a, 1.0) + energy(b, 2.0)) / 3.0).log10();
    assert!((at(album, "laeq_dba") - laeq).abs() < 1e-9, "{album}");
    for key in ["dose_niosh_percent", "dose_who_percent"] {
        let sum = at(a, key) + at(b, key);
        assert!((at(album, key) / sum - 1.0).abs() < 1e-12, "{key}: {album}");
    }
    assert_eq!(
        at(album, "lcpeak_dbc"),
        at(a, "lcpeak_dbc").max(at(b, "lcpeak_dbc"))
    );

    let csv = run(&["--csv"]);
    let header = csv.lines().next().unwrap();
    for column in [
        "laeq_dba",
        "laeq_df_dba",
        "lcpeak_dbc",
        "dose_niosh_percent",
        "dose_who_percent",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let album_row = csv.lines().find(|l| l.starts_with("album")).unwrap();
    let cells: Vec<&str> = album_row.split(',').collect();
    let names: Vec<&str> = header.split(',').collect();
    let laeq_cell = cells[names.iter().position(|n| *n == "laeq_dba").unwrap()];
    // Printed to 0.01 dB, as the meters' columns: within half of that of the album's LAeq.
    assert_eq!(laeq_cell, format!("{laeq:.2}"), "{album_row}");
    assert!(
        (laeq_cell.parse::<f64>().unwrap() - laeq).abs() <= 0.005,
        "{album_row}"
    );
    let dose_cell = cells[names.iter().position(|n| *n == "dose_who_percent").unwrap()];
    assert_eq!(
        dose_cell,
        format!("{:.3}", at(album, "dose_who_percent")),
        "{album_row}"
    );
}

/// `--over-threshold` is range-checked like every other option: not a number, an infinity and an
/// absurd value are each refused with the option and its range named, before any work; a value
/// inside the range is taken.
#[test]
fn over_threshold_is_range_checked() {
    let dir = TempDir::new("over-threshold");
    let path = dir.join("tone.wav");
    write_wav(&path, 1, 16, 2, 48_000, &sine_frames(48_000, 2, 0.5));
    let file = path.to_str().unwrap();
    for bad in ["nan", "-inf", "1e9", "-13", "3.5"] {
        let err = support::earstage_fails(["analyze", file, "--over-threshold", bad]);
        assert!(
            err.contains("--over-threshold") && err.contains("-12") && err.contains('3'),
            "{bad}: {err}"
        );
    }
    let text = support::earstage_stdout(["analyze", file, "--over-threshold", "-1"]);
    assert!(text.contains("overs above -1.0 dBTP"), "{text}");
}

/// A folder with no audio is a failed row like a missing file: the other inputs are still
/// analysed and the exit status says something failed. A folder with a link to itself and to its
/// parent is analysed once, file by file, and the links skipped are said.
#[test]
fn folders_fail_alone_and_links_never_loop() {
    let dir = TempDir::new("folders");
    let tone = dir.join("tone.wav");
    write_wav(&tone, 1, 16, 2, 48_000, &sine_frames(48_000, 2, 0.5));
    let empty = dir.join("noaudio");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "text").unwrap();
    let out = support::earstage(["analyze", empty.to_str().unwrap(), tone.to_str().unwrap()]);
    let stderr = support::failed(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains("noaudio") && stderr.contains("no audio files"),
        "{stderr}"
    );
    assert!(stdout.contains("tone.wav"), "{stdout}");
    #[cfg(unix)]
    {
        let looped = dir.join("L");
        std::fs::create_dir_all(&looped).unwrap();
        std::fs::copy(&tone, looped.join("tone.wav")).unwrap();
        std::os::unix::fs::symlink(".", looped.join("self")).unwrap();
        std::os::unix::fs::symlink("..", looped.join("up")).unwrap();
        let out = support::earstage(["analyze", looped.to_str().unwrap(), "--csv"]);
        let csv = support::succeeded(&out);
        let said = String::from_utf8_lossy(&out.stderr);
        // The header, the one file, the album.
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(said.contains("self") && said.contains("up"), "{said}");
    }
}

/// The album table lines up on a terminal whatever the names: a name in CJK characters (two
/// columns each) pads to the same width as an ASCII one, so every row is as wide as the header.
#[test]
fn the_table_aligns_wide_names() {
    use unicode_width::UnicodeWidthStr;
    let dir = TempDir::new("wide-names");
    let (wide, plain) = (dir.join("音楽のテスト.wav"), dir.join("plain.wav"));
    for path in [&wide, &plain] {
        write_wav(path, 1, 16, 2, 48_000, &sine_frames(48_000, 2, 0.5));
    }
    let text =
        support::earstage_stdout(["analyze", wide.to_str().unwrap(), plain.to_str().unwrap()]);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines[0].width();
    // The header, the two files and the album (the units line has no length column).
    for line in [lines[0], lines[2], lines[3], lines[4]] {
        assert_eq!(line.width(), header, "{text}");
    }
    assert!(
        lines[2].contains("音楽") || lines[3].contains("音楽"),
        "{text}"
    );
}
