//! Several files as one programme (album mode), checked three ways: against the closed form for
//! steady tones, against the `ebur128` crate's own album figures (`loudness_global_multiple`,
//! `loudness_range_multiple`) on the same files, and against the same files concatenated into
//! one, with the difference bounded by the blocks that straddle the joins. Also: results do not
//! depend on the thread count, come in input order, and one bad file fails alone.

mod support;
use support::TempDir;

use std::path::{Path, PathBuf};

use earstage::dsp::EngineSettings;
use earstage::offline::analysis::{
    FileAnalysis, MeterReport, album, analyze_file, analyze_files, collect_audio_files,
};
use support::{Rng, to_f32, tone_1k};

const FS: f64 = 48_000.0;
/// EBU Tech 3341 §2.9 / 3342: a meter agrees with the reference to ±0.1 LU.
const TOL_LU: f64 = 0.1;
/// Half a histogram bin either side for each percentile of the loudness range.
const LRA_BIN_LU: f64 = 0.02;
/// Gating blocks a file of whole 100 ms steps loses at its start: the first block ends at 400 ms.
const BLOCKS_BEFORE_FULL: usize = 3;

fn write_stereo(path: &Path, channels: &[Vec<f32>]) {
    support::write_wav(path, FS as u32, support::WavFormat::Float32, channels);
}

/// A 997 Hz-ish sine (support's 1 kHz tone) at `dbfs` peak in both channels for `seconds`.
fn tone(dbfs: f64, seconds: f64) -> Vec<Vec<f32>> {
    let x = to_f32(&tone_1k(FS, dbfs, seconds));
    vec![x.clone(), x]
}

/// Noise whose level wanders, so loudness range and gating see many values.
fn wandering_noise(seconds: f64, seed: u64, gain_db: f64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    let n = (seconds * FS) as usize;
    let g = 10f64.powf(gain_db / 20.0);
    (0..2)
        .map(|_| {
            (0..n)
                .map(|i| {
                    let t = i as f64 / FS;
                    let envelope = 0.05 + 0.2 * (0.5 + 0.5 * (t * 0.4 + seed as f64).sin());
                    (g * envelope * rng.normal()) as f32
                })
                .collect()
        })
        .collect()
}

fn analyse(path: &Path) -> FileAnalysis {
    analyze_file(path, &EngineSettings::default(), None, |_| {}).unwrap()
}

fn concatenate(parts: &[Vec<Vec<f32>>]) -> Vec<Vec<f32>> {
    (0..2)
        .map(|c| parts.iter().flat_map(|p| p[c].iter().copied()).collect())
        .collect()
}

/// ebur128's album figures over the same signals, one meter per file.
fn ebur128_album(parts: &[Vec<Vec<f32>>]) -> (f64, f64) {
    use ebur128::{EbuR128, Mode};
    let meters: Vec<EbuR128> = parts
        .iter()
        .map(|p| {
            let mut m = EbuR128::new(2, FS as u32, Mode::I | Mode::LRA).unwrap();
            let views: Vec<&[f32]> = p.iter().map(Vec::as_slice).collect();
            m.add_frames_planar_f32(&views).unwrap();
            m
        })
        .collect();
    (
        EbuR128::loudness_global_multiple(meters.iter()).unwrap(),
        EbuR128::loudness_range_multiple(meters.iter()).unwrap(),
    )
}

/// What the album tests compare: the files' analyses, their album, and the concatenation's.
struct Measured {
    files: Vec<FileAnalysis>,
    album: MeterReport,
    concatenated: MeterReport,
}

/// Writes `parts` as files and as one concatenated file in `dir`, analyses them, and checks the
/// album's integrated loudness and range against ebur128's album figures for the same signals.
fn measure_album(dir: &Path, parts: &[Vec<Vec<f32>>]) -> Measured {
    let paths: Vec<PathBuf> = (0..parts.len())
        .map(|i| dir.join(format!("{i}.wav")))
        .collect();
    for (path, part) in paths.iter().zip(parts) {
        write_stereo(path, part);
    }
    let files: Vec<FileAnalysis> = paths.iter().map(|p| analyse(p)).collect();
    let album = album(&files.iter().collect::<Vec<_>>());
    let (i_ref, lra_ref) = ebur128_album(parts);
    let integrated = album.integrated_lufs.unwrap();
    let range = album.loudness_range_lu.unwrap();
    assert!(
        (integrated - i_ref).abs() <= TOL_LU,
        "{integrated} vs ebur128 {i_ref}"
    );
    assert!(
        (range - lra_ref).abs() <= TOL_LU,
        "LRA {range} vs ebur128 {lra_ref}"
    );
    let whole = dir.join("whole.wav");
    write_stereo(&whole, &concatenate(parts));
    Measured {
        files,
        album,
        concatenated: analyse(&whole).meters,
    }
}

/// Three steady tones, 20 s each, at −20, −26 and −23 dBFS: every gating block of a file is at
/// its level (a 997 Hz sine at −x dBFS in both channels reads −x LUFS), so the album's integrated
/// loudness is the power mean of the levels weighted by their block counts, and its loudness
/// range the spread between the loudest and the quietest plateau.
#[test]
fn steady_tones_against_the_closed_form_ebur128_and_the_concatenation() {
    let dir = TempDir::new("tones");
    let levels = [-20.0, -26.0, -23.0];
    let seconds = 20.0;
    let parts: Vec<Vec<Vec<f32>>> = levels.iter().map(|&l| tone(l, seconds)).collect();
    let Measured {
        files,
        album: report,
        concatenated: single,
    } = measure_album(&dir, &parts);
    let integrated = report.integrated_lufs.unwrap();
    let range = report.loudness_range_lu.unwrap();

    // Closed form: equal block counts, so the plain power mean of the levels.
    let power_mean = levels.iter().map(|l| 10f64.powf(l / 10.0)).sum::<f64>() / 3.0;
    let closed = 10.0 * power_mean.log10();
    assert!(
        (integrated - closed).abs() <= TOL_LU,
        "{integrated} vs {closed}"
    );
    assert!((range - 6.0).abs() <= TOL_LU, "LRA {range} vs 6");

    // The concatenation has the album's blocks plus 3 per join that straddle it, each at a power
    // between the quietest and the loudest file's: that bounds the difference.
    let per_file = (seconds * 10.0) as usize - BLOCKS_BEFORE_FULL;
    let n = (per_file * levels.len()) as f64;
    let m = (BLOCKS_BEFORE_FULL * (levels.len() - 1)) as f64;
    let p = |l: f64| 10f64.powf(l / 10.0);
    let (p_min, p_max) = (p(-26.0) / power_mean, p(-20.0) / power_mean);
    let low = 10.0 * ((n + m * p_min) / (n + m)).log10() - TOL_LU;
    let high = 10.0 * ((n + m * p_max) / (n + m)).log10() + TOL_LU;
    let diff = single.integrated_lufs.unwrap() - integrated;
    assert!(
        (low..=high).contains(&diff),
        "concatenated − album = {diff} LU, outside [{low}, {high}]"
    );
    // The plateaus hold 30 % of the short-term values each, the joins 10 %: the 10th and 95th
    // percentiles stay on the quietest and loudest plateau.
    let lra_single = single.loudness_range_lu.unwrap();
    assert!(
        (lra_single - range).abs() <= 2.0 * LRA_BIN_LU,
        "LRA concatenated {lra_single} vs album {range}"
    );

    // Peaks: the loudest file's, exactly; duration: the sum.
    assert_eq!(report.true_peak_dbtp, files[0].meters.true_peak_dbtp);
    assert_eq!(report.sample_peak_dbfs, files[0].meters.sample_peak_dbfs);
    assert!((report.duration_s - 3.0 * seconds).abs() < 1e-9);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Programme-like files of different lengths and levels: the album against ebur128's album, and
/// against the concatenation within the straddling blocks' reach.
#[test]
fn wandering_noise_against_ebur128_and_the_concatenation() {
    let dir = TempDir::new("noise");
    let parts = [
        wandering_noise(31.0, 1, 0.0),
        wandering_noise(17.3, 2, -6.0),
        wandering_noise(42.6, 3, 3.0),
    ];
    let Measured {
        album: report,
        concatenated: single,
        ..
    } = measure_album(&dir, &parts);
    // 3 of ~900 gating blocks per join, each within the files' loudness spread: well under 0.1 LU.
    let diff = single.integrated_lufs.unwrap() - report.integrated_lufs.unwrap();
    assert!(diff.abs() <= TOL_LU, "concatenated − album = {diff} LU");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The same files on 1 and 3 threads give identical reports, in input order; a damaged file in
/// the middle fails alone, naming itself, and the album is the others'.
#[test]
fn threads_order_and_a_failing_file() {
    let dir = TempDir::new("threads");
    let mut paths = Vec::new();
    for (i, level) in [-14.0, -18.0, -22.0, -10.0].into_iter().enumerate() {
        let path = dir.join(format!("{i}.wav"));
        write_stereo(&path, &tone(level, 3.0 + i as f64));
        paths.push(path);
    }
    let bad = dir.join("2b-damaged.wav");
    std::fs::write(&bad, b"RIFF\x10\0\0\0WAVEjunkjunk").unwrap();
    paths.insert(2, bad.clone());
    let settings = EngineSettings::default();
    let one = analyze_files(&paths, 1, &settings, None, &|_| {});
    let three = analyze_files(&paths, 3, &settings, None, &|_| {});
    assert_eq!(one.len(), paths.len());
    for (i, (a, b)) in one.iter().zip(&three).enumerate() {
        match (a, b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.path, paths[i]);
                assert_eq!(a.meters, b.meters, "file {i}");
                assert_eq!(
                    a.blocks.integrated_lufs().map(f64::to_bits),
                    b.blocks.integrated_lufs().map(f64::to_bits)
                );
            }
            (Err(a), Err(b)) => {
                assert_eq!(i, 2);
                assert_eq!(a.to_string(), b.to_string());
                assert!(a.to_string().contains("2b-damaged.wav"), "{a}");
            }
            _ => panic!("file {i}: one run failed, the other did not"),
        }
    }
    // The loudest file's level (−10 dBFS) is the album's true peak, within the meter's 0.1 dB.
    let ok: Vec<&FileAnalysis> = one.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 4);
    let report = album(&ok);
    let peak = report.true_peak_dbtp[0].unwrap();
    assert!((f64::from(peak) + 10.0).abs() < 0.1, "{peak}");
    let report3 = album(
        &three
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .collect::<Vec<_>>(),
    );
    assert_eq!(report, report3);

    // A folder gives its audio files in name order, the damaged one among them.
    let listed = collect_audio_files(&[dir.to_path_buf()]).unwrap();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    std::fs::remove_dir_all(&dir).unwrap();
}
