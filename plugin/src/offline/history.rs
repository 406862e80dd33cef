//! The loudness history as files: one CSV row per 100 ms step and the graph of it (PNG or SVG),
//! for `earstage analyze --history/--plot` and the editor's exports.
//!
//! A row at `t` holds the momentary loudness of the 400 ms ending at `t`, the short-term loudness
//! of the 3 s ending at `t`, the integrated loudness up to `t` and the highest precise true peak in
//! the 100 ms ending at `t` ([`crate::dsp::meter::history`]). A loudness below the absolute gate
//! (−70 LUFS) — or an integrated loudness with nothing through the gates — is written `-inf`, as
//! is the true peak of silence; a window not yet full (momentary before 0.4 s, short-term before
//! 3 s) is left empty.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::chart_style::{Axis, chart_on, draw_grid, draw_legend, line_key};
use super::figure::{Figure, write_figure};
use super::output::{check_new_file, write_atomically};
use crate::dsp::meter::history::HistoryPoint;
use crate::dsp::meter::loudness::STEP_S;
use crate::model::delivery::DeliveryTarget;
use crate::model::units::format_clock;

/// The CSV's header.
pub const CSV_HEADER: &str = "time_s,momentary_lufs,short_term_lufs,integrated_lufs,true_peak_dbtp";
/// BS.1770-5's absolute gate: loudness below it is written `-inf`.
pub const GATE_LUFS: f64 = -70.0;

/// A point's time: the end of its step, seconds of measured time.
pub fn time_s(point: &HistoryPoint) -> f64 {
    point.row as f64 * STEP_S
}

/// A loudness as the CSV writes it: empty before its window is full, `-inf` below the gate.
fn loudness_cell(lufs: Option<f64>) -> String {
    match lufs {
        None => String::new(),
        Some(v) if v < GATE_LUFS || v.is_nan() => "-inf".into(),
        Some(v) => format!("{v:.3}"),
    }
}

/// One CSV row, without its line end.
pub fn csv_row(point: &HistoryPoint) -> String {
    let integrated = point.integrated_lufs.or(Some(f64::NEG_INFINITY));
    let peak = point.true_peak_dbtp();
    format!(
        "{:.1},{},{},{},{}",
        time_s(point),
        loudness_cell(point.momentary_lufs),
        loudness_cell(point.short_term_lufs),
        loudness_cell(integrated),
        if peak.is_finite() {
            format!("{peak:.3}")
        } else {
            "-inf".into()
        }
    )
}

/// Write the history to `out` as CSV.
pub fn write_csv_to(out: &mut impl Write, points: &[HistoryPoint]) -> std::io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for point in points {
        writeln!(out, "{}", csv_row(point))?;
    }
    out.flush()
}

/// Write the history as CSV to `path` (an existing file only with `force`).
pub fn write_csv(path: &Path, points: &[HistoryPoint], force: bool) -> Result<()> {
    write_csv_noted(path, points, None, force)
}

/// [`write_csv`], with `note` (what is missing from the history) as a `#` comment line before
/// the header.
pub fn write_csv_noted(
    path: &Path,
    points: &[HistoryPoint],
    note: Option<&str>,
    force: bool,
) -> Result<()> {
    check_new_file(path, force, &[], "the loudness history (CSV)")?;
    write_atomically(path, |partial| {
        let file = std::fs::File::create(partial).map_err(|e| e.to_string())?;
        let mut out = BufWriter::new(file);
        if let Some(note) = note {
            writeln!(out, "# {note}").map_err(|e| e.to_string())?;
        }
        write_csv_to(&mut out, points).map_err(|e| e.to_string())
    })?;
    Ok(())
}

/// What a history is missing when its thread fell behind: `blocks` blocks, `seconds` of audio.
pub fn missing_note(blocks: u64, seconds: f64) -> Option<String> {
    (blocks > 0).then(|| {
        format!(
            "{blocks} block(s), {seconds:.1} s of audio, missing: the history thread fell \
             behind and each gap starts a new run"
        )
    })
}

/// What the graph shows besides the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphOptions<'a> {
    pub title: &'a str,
    pub target: Option<DeliveryTarget>,
    /// True peaks above this are marked as overs on the time axis, dBTP.
    pub over_threshold_dbtp: f64,
}

/// Write the graph of the history to `path`, PNG or SVG by its extension (an existing file only
/// with `force`).
pub fn write_plot(
    path: &Path,
    points: &[HistoryPoint],
    options: &GraphOptions,
    force: bool,
) -> Result<()> {
    write_figure(path, &Graph { points, options }, force)
}

/// The loudness range the graph's axis spans: 3 LU under the quietest finite reading (at most
/// −60) to 3 LU above the loudest (at least −10, and the target's band).
fn loudness_axis(points: &[HistoryPoint], target: Option<&DeliveryTarget>) -> (f64, f64) {
    let values = points
        .iter()
        .flat_map(|p| [p.momentary_lufs, p.short_term_lufs, p.integrated_lufs])
        .flatten()
        .filter(|v| v.is_finite() && *v >= GATE_LUFS);
    let (lo, hi) = values.fold((-40.0f64, -10.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = match target {
        Some(t) => (
            lo.min(t.integrated_lufs - t.tolerance_lu),
            hi.max(t.integrated_lufs + t.tolerance_lu),
        ),
        None => (lo, hi),
    };
    (
        ((lo - 3.0) / 5.0).floor() * 5.0,
        ((hi + 3.0) / 5.0).ceil() * 5.0,
    )
}

struct Graph<'a> {
    points: &'a [HistoryPoint],
    options: &'a GraphOptions<'a>,
}

const MOMENTARY: RGBColor = RGBColor(150, 190, 230);
const SHORT_TERM: RGBColor = RGBColor(31, 119, 180);
const INTEGRATED: RGBColor = RGBColor(44, 160, 44);
const TARGET: RGBColor = RGBColor(255, 127, 14);
const OVER: RGBColor = RGBColor(214, 39, 40);

/// The graph's chart: seconds across, LUFS up.
type LoudnessChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Which reading of a point a line draws.
type Reading = fn(&HistoryPoint) -> Option<f64>;

impl Figure for Graph<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let points = self.points;
        let end_s = points.last().map_or(1.0, time_s).max(1.0);
        let (lo, hi) = loudness_axis(points, self.options.target.as_ref());
        let mut chart = chart_on(root, self.options.title, false)?
            .build_cartesian_2d(0.0..end_s, lo..hi)
            .map_err(|e| e.to_string())?;
        if let Some(target) = &self.options.target {
            draw_target(&mut chart, target, end_s)?;
        }
        draw_grid(
            &mut chart,
            4,
            Axis {
                desc: "time",
                label: &|s: &f64| format_clock(*s),
            },
            Axis {
                desc: "loudness, LUFS",
                label: &|lufs: &f64| format!("{lufs:.0}"),
            },
        )?;
        self.draw_readings(&mut chart, (lo, hi))?;
        self.draw_overs(&mut chart, (lo, hi))?;
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

impl Graph<'_> {
    /// The momentary, short-term and integrated loudness as lines; a reading below the axis (and
    /// −∞) is drawn along its floor, so silence reads as the bottom.
    fn draw_readings<DB: DrawingBackend>(
        &self,
        chart: &mut LoudnessChart<'_, DB>,
        (lo, hi): (f64, f64),
    ) -> Result<(), String> {
        let series = |pick: Reading| {
            self.points
                .iter()
                .filter_map(move |p| pick(p).map(|v| (time_s(p), v.clamp(lo, hi))))
                .collect::<Vec<_>>()
        };
        let readings: [(&str, RGBColor, u32, Reading); 3] = [
            ("momentary", MOMENTARY, 1, |p| p.momentary_lufs),
            ("short-term", SHORT_TERM, 2, |p| p.short_term_lufs),
            ("integrated", INTEGRATED, 2, |p| p.integrated_lufs),
        ];
        for (label, colour, width, pick) in readings {
            chart
                .draw_series(LineSeries::new(series(pick), colour.stroke_width(width)))
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(line_key(colour));
        }
        Ok(())
    }

    /// True-peak overs as ticks along the time axis.
    fn draw_overs<DB: DrawingBackend>(
        &self,
        chart: &mut LoudnessChart<'_, DB>,
        (lo, hi): (f64, f64),
    ) -> Result<(), String> {
        let threshold = self.options.over_threshold_dbtp;
        let tick = (hi - lo) * 0.04;
        let overs: Vec<f64> = self
            .points
            .iter()
            .filter(|p| p.true_peak_dbtp() > threshold)
            .map(time_s)
            .collect();
        if overs.is_empty() {
            return Ok(());
        }
        chart
            .draw_series(
                overs
                    .iter()
                    .map(|&t| PathElement::new([(t, lo), (t, lo + tick)], OVER.stroke_width(2))),
            )
            .map_err(|e| e.to_string())?
            .label(format!("true peak over {threshold:+.1} dBTP"))
            .legend(|(x, y)| PathElement::new([(x + 10, y - 5), (x + 10, y + 5)], OVER));
        Ok(())
    }
}

/// The target's tolerance band, shaded, and its integrated loudness as a dashed line.
fn draw_target<DB: DrawingBackend>(
    chart: &mut LoudnessChart<'_, DB>,
    target: &DeliveryTarget,
    end_s: f64,
) -> Result<(), String> {
    let band = (
        target.integrated_lufs - target.tolerance_lu,
        target.integrated_lufs + target.tolerance_lu,
    );
    chart
        .draw_series([Rectangle::new(
            [(0.0, band.0), (end_s, band.1)],
            TARGET.mix(0.15).filled(),
        )])
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(DashedLineSeries::new(
            [
                (0.0, target.integrated_lufs),
                (end_s, target.integrated_lufs),
            ],
            8,
            5,
            TARGET.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label(format!("target: {target}"))
        .legend(line_key(TARGET));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(row: u64, m: Option<f64>, s: Option<f64>, i: Option<f64>, tp: f32) -> HistoryPoint {
        HistoryPoint {
            row,
            momentary_lufs: m,
            short_term_lufs: s,
            integrated_lufs: i,
            true_peak: tp,
        }
    }

    /// Not yet measured is empty, below the gate or silence is `-inf`, the rest to 0.001.
    #[test]
    fn rows_say_empty_and_minus_infinity_apart() {
        assert_eq!(csv_row(&point(1, None, None, None, 0.0)), "0.1,,,-inf,-inf");
        assert_eq!(
            csv_row(&point(35, Some(-70.5), Some(-23.04), Some(-23.0), 0.5)),
            "3.5,-inf,-23.040,-23.000,-6.021"
        );
        assert_eq!(
            csv_row(&point(5, Some(f64::NEG_INFINITY), None, None, 1.0)),
            "0.5,-inf,,-inf,0.000"
        );
    }

    #[test]
    fn the_axis_holds_the_readings_and_the_target() {
        let points = [point(1, Some(-30.0), Some(-28.0), Some(-29.0), 0.1)];
        assert_eq!(loudness_axis(&points, None), (-45.0, -5.0));
        let r128 = crate::model::delivery::PRESETS[0];
        let quiet = [point(1, Some(-62.0), None, None, 0.0)];
        assert_eq!(loudness_axis(&quiet, Some(&r128)), (-65.0, -5.0));
    }

    /// The editor's exports as it makes them: the graph and the CSV under stamped names in a
    /// folder made for them, each written through the atomic writer (a readable PNG of the
    /// figure's size, no temporary file left), and a second export under a taken name refused
    /// with the first file kept.
    #[test]
    fn exports_are_written_whole_and_never_replace() {
        use crate::offline::output::export_path;
        let dir = std::env::temp_dir().join(format!("earstage-hexport-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let folder = dir.join("Earstage");
        let points: Vec<HistoryPoint> = (1..=50)
            .map(|row| point(row, Some(-23.0), Some(-22.0), Some(-23.0), 0.5))
            .collect();
        let options = GraphOptions {
            title: "export",
            target: None,
            over_threshold_dbtp: 0.0,
        };
        let png_path = export_path(&folder, "history.png", 7).unwrap();
        write_plot(&png_path, &points, &options, false).unwrap();
        let csv_path = export_path(&folder, "history.csv", 7).unwrap();
        write_csv(&csv_path, &points, false).unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(&png_path).unwrap(),
        ));
        let info = decoder.read_info().unwrap().info().clone();
        assert_eq!((info.width, info.height), (1000, 560));
        let csv = std::fs::read_to_string(&csv_path).unwrap();
        assert_eq!(csv.lines().count(), 51, "the header and one row a point");
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["earstage-7-history.csv", "earstage-7-history.png"]);
        let before = std::fs::read(&png_path).unwrap();
        assert!(export_path(&folder, "history.png", 7).is_err());
        let refused = write_plot(&png_path, &points[..3], &options, false).unwrap_err();
        assert!(refused.to_string().contains("--force"), "{refused}");
        assert_eq!(std::fs::read(&png_path).unwrap(), before);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A history whose thread fell behind says so in its export: one `#` line before the
    /// header, naming the blocks and seconds missing; a whole history has no such line.
    #[test]
    fn a_history_with_gaps_says_what_is_missing() {
        let dir = std::env::temp_dir().join(format!("earstage-hnote-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let points = [point(1, None, None, None, 0.0)];
        assert_eq!(missing_note(0, 0.0), None);
        let note = missing_note(19, 2.5).unwrap();
        assert!(
            note.starts_with("19 block(s), 2.5 s of audio, missing"),
            "{note}"
        );
        let path = dir.join("h.csv");
        write_csv_noted(&path, &points, Some(&note), false).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("# {note}"));
        assert_eq!(lines[1], CSV_HEADER);
        write_csv(&path, &points, true).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with(CSV_HEADER)
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
