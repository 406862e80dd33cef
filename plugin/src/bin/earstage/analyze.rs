//! `earstage analyze <file|folder>...`: the meters over whole audio files through the plugin's
//! engine; with several files a table and the album as one programme. Parses and prints only:
//! the work is `earstage::offline::analysis`.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use earstage::dsp::EngineSettings;
use earstage::dsp::meter::OVER_THRESHOLD_DBTP;
use earstage::model::Chain;
use earstage::model::catalog::Catalog;
use earstage::model::units::format_clock;
use earstage::offline::analysis::{
    self, Collected, FileAnalysis, MeterReport, Progress, SplReport, analyze_file, analyze_files,
    collect_inputs,
};
use earstage::offline::audio_file::AudioFileError;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::chain_args::ChainArgs;
use crate::history::HistoryOutputs;
use crate::report::{print_meters, print_spl, print_target};

/// Jobs longer than this get a progress bar (on a terminal).
const PROGRESS_MIN_S: f64 = 30.0;

/// How the report is printed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

/// A progress bar for a job over `frames` frames, shown on long jobs only (hidden otherwise).
fn progress_bar(frames: u64, duration_s: f64, message: &str) -> ProgressBar {
    if duration_s <= PROGRESS_MIN_S {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(frames);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent}% · {left}")
            .expect("valid template")
            .with_key("left", time_left)
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

/// The time left, once there is enough of the job behind to tell (a rate measured over the first
/// instants of a job, while files open and buffers fill, says minutes for seconds of work).
fn time_left(state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write) {
    if state.elapsed() < std::time::Duration::from_secs(1) || state.fraction() < 0.05 {
        let _ = write!(out, "estimating");
    } else {
        let _ = write!(out, "{:#} left", indicatif::HumanDuration(state.eta()));
    }
}

/// A progress bar for one file's job, sized when the model has opened the file (hidden until then,
/// and for short files).
pub struct FileProgress {
    message: String,
    bar: ProgressBar,
}

impl FileProgress {
    pub fn new(message: String) -> Self {
        Self {
            message,
            bar: ProgressBar::hidden(),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for &mut FileProgress {
    fn opened(&mut self, frames: u64, seconds: f64) {
        self.bar = progress_bar(frames, seconds, &self.message);
    }

    fn advanced(&mut self, frames: u64) {
        self.bar.inc(frames);
    }
}

/// One file's report as JSON: how it is coded, then the meters (and SPL) as flat keys.
#[derive(Serialize)]
struct FileJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a Path>,
    /// "PCM", "float PCM", "FLAC", "ALAC", "MP3", "AAC" or "Vorbis".
    codec: &'static str,
    /// Bits per sample of a lossless file; absent for a lossy one.
    #[serde(skip_serializing_if = "Option::is_none")]
    bits_per_sample: Option<u32>,
    #[serde(flatten)]
    meters: &'a MeterReport,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    spl: Option<&'a SplReport>,
    /// What may make the figures other than the programme's (also printed on stderr).
    warnings: &'a [String],
}

impl<'a> FileJson<'a> {
    fn new(file: &'a FileAnalysis, with_path: bool) -> Self {
        Self {
            path: with_path.then_some(file.path.as_path()),
            codec: file.encoding.codec,
            bits_per_sample: file.encoding.bits_per_sample,
            meters: &file.meters,
            spl: file.spl.as_ref(),
            warnings: &file.warnings,
        }
    }
}

/// `earstage analyze`: one file named alone gets the full report; several (or a folder) get a
/// table, and the album measured as one programme.
pub fn run(
    inputs: &[PathBuf],
    format: Format,
    jobs: Option<usize>,
    over_threshold_dbtp: f32,
    chain: &ChainArgs,
    history: &HistoryOutputs,
) -> Result<()> {
    // Check the options first: a bad one fails before any work.
    OVER_THRESHOLD_DBTP.check("--over-threshold", f64::from(over_threshold_dbtp))?;
    let chain = if chain.is_empty() {
        None
    } else {
        Some(chain.resolve(&Catalog::builtin())?)
    };
    let settings = EngineSettings {
        over_threshold_dbtp,
        ..EngineSettings::default()
    };
    let Collected {
        files: paths,
        skipped,
    } = collect_inputs(inputs)?;
    for why in &skipped {
        eprintln!("earstage: skipped {why}");
    }
    // One file named as such (not a folder holding one) keeps the single-file report.
    let single = matches!((paths.as_slice(), inputs), ([path], [input]) if path == input);
    history.check(&paths, !single)?;
    if single {
        return run_one(&paths[0], format, &settings, chain.as_ref(), history);
    }
    run_album(&paths, format, jobs, &settings, chain.as_ref(), history)
}

/// Several files: each analysed (`jobs` at once), their histories written and the table or
/// report printed, with the album; then what could not be analysed or written is said, and fails
/// the command.
fn run_album(
    paths: &[PathBuf],
    format: Format,
    jobs: Option<usize>,
    settings: &EngineSettings,
    chain: Option<&Chain>,
    history: &HistoryOutputs,
) -> Result<()> {
    let results = analyze_all(paths, jobs, settings, chain);
    let analysed: Vec<&FileAnalysis> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let album = AlbumReport {
        meters: analysis::album(&analysed),
        spl: analysis::album_spl(&analysed),
    };
    for file in &analysed {
        warn_about(file);
    }
    let unwritten: Vec<anyhow::Error> = analysed
        .iter()
        .filter_map(|file| history.write(file, true).err())
        .collect();
    match format {
        Format::Json => print_json(paths, &results, &album)?,
        Format::Csv => print_csv(paths, &results, Some(&album), chain.is_some())?,
        Format::Text => {
            print_table(paths, &results, &album, chain.is_some());
            if let Some(target) = &history.target {
                println!("Album against the target:");
                print_target(&album.meters, target);
            }
        }
    }
    fail_on_errors(paths, &results, &unwritten)
}

/// Every file analysed, `jobs` at once (default: one per core), under one progress bar for them
/// all.
fn analyze_all(
    paths: &[PathBuf],
    jobs: Option<usize>,
    settings: &EngineSettings,
    chain: Option<&Chain>,
) -> Vec<Result<FileAnalysis, AudioFileError>> {
    let threads =
        jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let (frames, duration_s) = paths.iter().fold((0, 0.0), |(frames, seconds), path| {
        let (f, s) = analysis::declared_length(path);
        (frames + f, seconds + s)
    });
    let progress = progress_bar(
        frames,
        duration_s,
        &format!("analyzing {} files", paths.len()),
    );
    let results = analyze_files(paths, threads, settings, chain, &|n| progress.inc(n));
    progress.finish_and_clear();
    results
}

/// Each history that could not be written and each file that could not be analysed, on stderr;
/// then an error counting them (the histories first).
fn fail_on_errors(
    paths: &[PathBuf],
    results: &[Result<FileAnalysis, AudioFileError>],
    unwritten: &[anyhow::Error],
) -> Result<()> {
    if let Some(first) = unwritten.first() {
        for e in unwritten {
            eprintln!("earstage: {e:#}");
        }
        bail!(
            "{} history file(s) could not be written: {first:#}",
            unwritten.len()
        );
    }
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        for err in results.iter().filter_map(|r| r.as_ref().err()) {
            eprintln!("earstage: {err}");
        }
        bail!(
            "{failed} of {} files could not be analysed (the album is the other {})",
            paths.len(),
            paths.len() - failed
        );
    }
    Ok(())
}

/// What in the file may make its figures other than the programme's, on stderr.
fn warn_about(file: &FileAnalysis) {
    for warning in &file.warnings {
        eprintln!("warning: {}: {warning}", file.path.display());
    }
}

/// One file, as before the album mode: the full report.
fn run_one(
    path: &Path,
    format: Format,
    settings: &EngineSettings,
    chain: Option<&Chain>,
    history: &HistoryOutputs,
) -> Result<()> {
    let mut progress = FileProgress::new(format!("analyzing {}", path.display()));
    let file = analyze_file(path, settings, chain, &mut progress);
    progress.finish();
    let file = file?;
    warn_about(&file);
    history.write(&file, false)?;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&FileJson::new(&file, false))?
        ),
        Format::Csv => {
            let paths = [file.path.clone()];
            let with_spl = file.spl.is_some();
            print_csv(&paths, &[Ok(file)], None, with_spl)?;
        }
        Format::Text => {
            println!(
                "{}: {} Hz, {} channel(s), {}, {:.2} s",
                path.display(),
                file.meters.sample_rate.unwrap_or(0),
                file.meters.channels,
                file.encoding.describe(),
                file.meters.duration_s
            );
            print_meters(&file.meters);
            if let Some(target) = &history.target {
                print_target(&file.meters, target);
            }
            if let Some(spl) = &file.spl {
                print_spl(spl);
            }
        }
    }
    Ok(())
}

/// The album: the files measured as one programme and, with a chain, as one listening session.
#[derive(Serialize)]
struct AlbumReport {
    #[serde(flatten)]
    meters: MeterReport,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    spl: Option<SplReport>,
}

fn print_json(
    paths: &[PathBuf],
    results: &[Result<FileAnalysis, AudioFileError>],
    album: &AlbumReport,
) -> Result<()> {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Entry<'a> {
        File(FileJson<'a>),
        Failed { path: &'a Path, error: String },
    }
    #[derive(Serialize)]
    struct Album<'a> {
        files: Vec<Entry<'a>>,
        album: &'a AlbumReport,
    }
    let files = paths
        .iter()
        .zip(results)
        .map(|(path, result)| match result {
            Ok(file) => Entry::File(FileJson::new(file, true)),
            Err(err) => Entry::Failed {
                path,
                error: err.to_string(),
            },
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&Album { files, album })?);
    Ok(())
}

/// The CSV columns: per-channel readings as the highest channel's.
const CSV_HEADER: [&str; 15] = [
    "path",
    "codec",
    "bits_per_sample",
    "sample_rate",
    "channels",
    "duration_s",
    "true_peak_dbtp",
    "true_peak_bs1770_dbtp",
    "sample_peak_dbfs",
    "overs",
    "integrated_lufs",
    "momentary_max_lufs",
    "short_term_max_lufs",
    "loudness_range_lu",
    "error",
];

/// The CSV columns a chain adds (before "error"): the highest ear's levels and doses.
const CSV_SPL_HEADER: [&str; 5] = [
    "laeq_dba",
    "laeq_df_dba",
    "lcpeak_dbc",
    "dose_niosh_percent",
    "dose_who_percent",
];

/// A chain's CSV cells: the highest ear of each figure, empty without a report; levels to
/// 0.01 dB as the meters' columns, doses to 0.001 %.
fn csv_spl_cells(spl: Option<&SplReport>) -> Vec<String> {
    let highest = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match spl {
        Some(s) => {
            let levels = [&s.laeq_dba, &s.laeq_df_dba, &s.lcpeak_dbc];
            let doses = [&s.dose_niosh_percent, &s.dose_who_percent];
            levels
                .iter()
                .map(|v| format!("{:.2}", highest(v)))
                .chain(doses.iter().map(|v| format!("{:.3}", highest(v))))
                .collect()
        }
        None => vec![String::new(); CSV_SPL_HEADER.len()],
    }
}

fn csv_row(path: &str, codec: &str, bits: Option<u32>, m: &MeterReport) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let peak = |v: &[Option<f32>]| opt(MeterReport::highest(v).map(|x| format!("{x:.2}")));
    let lufs = |v: Option<f64>| opt(v.map(|x| format!("{x:.2}")));
    vec![
        path.to_owned(),
        codec.to_owned(),
        opt(bits.map(|b| b.to_string())),
        opt(m.sample_rate.map(|r| r.to_string())),
        m.channels.to_string(),
        format!("{:.3}", m.duration_s),
        peak(&m.true_peak_dbtp),
        peak(&m.true_peak_bs1770_dbtp),
        peak(&m.sample_peak_dbfs),
        m.overs.iter().sum::<u32>().to_string(),
        lufs(m.integrated_lufs),
        lufs(m.momentary_max_lufs),
        lufs(m.short_term_max_lufs),
        lufs(m.loudness_range_lu),
        String::new(),
    ]
}

/// The CSV report: a row per file, then the album's row when there is one; with a chain, its
/// columns before the error column.
fn print_csv(
    paths: &[PathBuf],
    results: &[Result<FileAnalysis, AudioFileError>],
    album: Option<&AlbumReport>,
    with_spl: bool,
) -> Result<()> {
    // A chain's columns go before the last one ("error"), in the header as in every row.
    let with_chain = |mut row: Vec<String>, cells: Vec<String>| {
        if with_spl {
            let error = row.pop().unwrap_or_default();
            row.extend(cells);
            row.push(error);
        }
        row
    };
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    let full_header = with_chain(
        CSV_HEADER.iter().map(|h| h.to_string()).collect(),
        CSV_SPL_HEADER.iter().map(|h| h.to_string()).collect(),
    );
    out.write_record(&full_header)?;
    for (path, result) in paths.iter().zip(results) {
        let path = path.display().to_string();
        match result {
            Ok(f) => out.write_record(with_chain(
                csv_row(
                    &path,
                    f.encoding.codec,
                    f.encoding.bits_per_sample,
                    &f.meters,
                ),
                csv_spl_cells(f.spl.as_ref()),
            ))?,
            Err(err) => {
                let mut row = vec![String::new(); full_header.len()];
                row[0] = path;
                row[full_header.len() - 1] = err.to_string();
                out.write_record(row)?;
            }
        }
    }
    if let Some(album) = album {
        out.write_record(with_chain(
            csv_row("album", "", None, &album.meters),
            csv_spl_cells(album.spl.as_ref()),
        ))?;
    }
    out.flush()?;
    Ok(())
}

/// The album's text report: a row per file and the album's, then with a chain what each file and
/// the whole session deliver.
fn print_table(
    paths: &[PathBuf],
    results: &[Result<FileAnalysis, AudioFileError>],
    album: &AlbumReport,
    with_spl: bool,
) {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let album_name = format!("album ({ok} file{})", if ok == 1 { "" } else { "s" });
    let width = names
        .iter()
        .chain([&album_name])
        .map(|n| n.width())
        .max()
        .unwrap_or(0);
    println!(
        "{}  {:>7}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}  {:>5}  {:>5}  {:>8}",
        padded("file", width),
        "TP",
        "TP 1770",
        "sample",
        "I",
        "M max",
        "S max",
        "LRA",
        "overs",
        "length"
    );
    println!(
        "{}  {:>7}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}  {:>5}  {:>5}",
        padded("", width),
        "dBTP",
        "dBTP",
        "dBFS",
        "LUFS",
        "LUFS",
        "LUFS",
        "LU",
        ""
    );
    for (name, result) in names.iter().zip(results) {
        match result {
            Ok(file) => print_table_row(name, width, &file.meters),
            Err(err) => println!("{}  failed: {err}", padded(name, width)),
        }
    }
    print_table_row(&album_name, width, &album.meters);
    if with_spl {
        for (name, result) in names.iter().zip(results) {
            if let Ok(FileAnalysis { spl: Some(spl), .. }) = result {
                println!("{name}:");
                print_spl(spl);
            }
        }
        if let Some(spl) = &album.spl {
            println!("{album_name}, as one session (doses added up):");
            print_spl(spl);
        }
    }
}

/// `name` padded with spaces to `width` columns of a terminal (a CJK character takes two; `{:<w$}`
/// counts characters, which misaligns such names).
fn padded(name: &str, width: usize) -> String {
    format!("{name}{}", " ".repeat(width.saturating_sub(name.width())))
}

/// One row of the album's table: the highest channel's peaks, the loudness, the overs and the
/// length, the name padded to `width`.
fn print_table_row(name: &str, width: usize, m: &MeterReport) {
    let peak = |v: &[Option<f32>]| {
        MeterReport::highest(v).map_or("-inf".to_owned(), |x| format!("{x:+.2}"))
    };
    let lu = |v: Option<f64>| v.map_or("—".to_owned(), |x| format!("{x:.1}"));
    println!(
        "{}  {:>7}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}  {:>5}  {:>5}  {:>8}",
        padded(name, width),
        peak(&m.true_peak_dbtp),
        peak(&m.true_peak_bs1770_dbtp),
        peak(&m.sample_peak_dbfs),
        lu(m.integrated_lufs),
        lu(m.momentary_max_lufs),
        lu(m.short_term_max_lufs),
        lu(m.loudness_range_lu),
        m.overs.iter().sum::<u32>(),
        format_clock(m.duration_s),
    );
}
