//! The loudness history: momentary and short-term over time with the integrated loudness as a
//! line, the delivery target's line and band, true-peak overs marked on the time axis, a cursor
//! readout, zoom from the last 30 s to the whole session, and exports (CSV of the history and of
//! the over log, PNG of the graph). The points come from the audio side's store
//! ([`HistoryStore`]), so closing and reopening the editor keeps them.

use std::path::PathBuf;

use egui::{Color32, Pos2, Rect, Sense, Stroke, pos2, vec2};

use crate::dsp::meter::history::{HistoryPoint, HistoryStore, StoredPoint};
use crate::dsp::meter::loudness::STEP_S;
use crate::model::delivery::DeliveryTarget;
use crate::model::units::format_clock;

/// The spans the graph can show, seconds (`None`: the whole session).
const SPANS: [(&str, Option<f64>); 6] = [
    ("30 s", Some(30.0)),
    ("1 min", Some(60.0)),
    ("5 min", Some(300.0)),
    ("15 min", Some(900.0)),
    ("1 h", Some(3600.0)),
    ("all", None),
];
/// The loudness axis, LUFS.
const AXIS_LUFS: (f64, f64) = (-60.0, 0.0);
const HEIGHT: f32 = 170.0;

const MOMENTARY: Color32 = Color32::from_rgb(120, 160, 210);
const SHORT_TERM: Color32 = Color32::from_rgb(90, 200, 255);
const INTEGRATED: Color32 = Color32::from_rgb(110, 210, 110);
const TARGET: Color32 = Color32::from_rgb(255, 160, 60);
const OVER: Color32 = Color32::from_rgb(240, 80, 70);

/// The editor's copy of the current run, packed as the store keeps it (8 bytes a point).
pub struct HistoryView {
    words: Vec<u64>,
    /// The store index of `words[0]`, and of the next point to read.
    first: u64,
    next: u64,
    span: usize,
    /// What the last export wrote, or why it failed.
    pub export_note: Option<String>,
    /// The blocks, and seconds of audio, the history thread fell too far behind to take.
    dropped: (u64, f64),
}

impl HistoryView {
    pub fn new() -> Self {
        Self {
            words: Vec::new(),
            first: 0,
            next: 0,
            span: 0,
            export_note: None,
            dropped: (0, 0.0),
        }
    }

    /// Catch up with the store: a new run starts the copy again, points the ring overwrote
    /// before we read them are gone from the store and from the copy.
    pub fn follow(&mut self, store: &HistoryStore) {
        let run = store.run_start();
        if run > self.first || self.next < self.first {
            self.words.clear();
            self.first = run;
            self.next = run;
        }
        let first = store.read_words_from(self.next, &mut self.words);
        if first > self.next && self.words.is_empty() {
            self.first = first;
        }
        self.next = store.written();
        self.dropped = store.dropped();
        // Keep what the store keeps: the copy never outgrows the ring.
        let excess = self.words.len().saturating_sub(store.capacity());
        if excess > 0 {
            self.words.drain(..excess);
            self.first += excess as u64;
        }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// The point at `index` of the run (0-based), unpacked.
    fn point(&self, index: usize) -> StoredPoint {
        StoredPoint::unpack(self.words[index])
    }

    /// What the history is missing, if its thread fell behind.
    fn missing(&self) -> Option<String> {
        crate::offline::history::missing_note(self.dropped.0, self.dropped.1)
    }

    /// The run as history points (for the exports).
    pub fn points(&self) -> Vec<HistoryPoint> {
        (0..self.words.len())
            .map(|i| self.point(i).to_history(i as u64 + 1))
            .collect()
    }

    /// The highest true peak of the last `seconds`, dBTP.
    pub fn recent_true_peak_dbtp(&self, seconds: f64) -> Option<f64> {
        let n = (seconds / STEP_S).round() as usize;
        let start = self.words.len().saturating_sub(n);
        (start..self.words.len())
            .map(|i| self.point(i).true_peak_dbtp)
            .filter(|v| v.is_finite())
            .reduce(f64::max)
    }
}

fn y_of(rect: Rect, lufs: f64) -> f32 {
    let f = ((lufs - AXIS_LUFS.0) / (AXIS_LUFS.1 - AXIS_LUFS.0)).clamp(0.0, 1.0) as f32;
    rect.bottom() - f * rect.height()
}

/// A column's readings: the loudest momentary and short-term in it, the last integrated.
fn column(
    view: &HistoryView,
    range: std::ops::Range<usize>,
) -> (Option<f64>, Option<f64>, Option<f64>, f64) {
    let mut m: Option<f64> = None;
    let mut s: Option<f64> = None;
    let mut i = None;
    let mut peak = f64::NEG_INFINITY;
    for index in range {
        let p = view.point(index);
        m = max_option(m, p.momentary_lufs);
        s = max_option(s, p.short_term_lufs);
        i = p.integrated_lufs.or(i);
        peak = peak.max(p.true_peak_dbtp);
    }
    (m, s, i, peak)
}

fn max_option(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The graph and its controls. `target` draws its line and band; peaks above
/// `over_threshold_dbtp` are marked as overs.
pub fn show(
    ui: &mut egui::Ui,
    view: &mut HistoryView,
    target: Option<&DeliveryTarget>,
    over_threshold_dbtp: f64,
    over_log_csv: impl FnOnce() -> String,
) {
    span_row(ui, view);
    graph(ui, view, target, over_threshold_dbtp);
    legend(ui, view.len());
    if let Some(missing) = view.missing() {
        ui.small(egui::RichText::new(missing).color(TARGET));
    }
    export_row(ui, view, target, over_threshold_dbtp, over_log_csv);
}

/// The title and the span buttons, from the last 30 s to the whole session.
fn span_row(ui: &mut egui::Ui, view: &mut HistoryView) {
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new("Loudness history").strong());
        for (i, (label, _)) in SPANS.iter().enumerate() {
            ui.selectable_value(&mut view.span, i, *label);
        }
    });
}

/// The graph: the loudness axis, the target, the traces and overs, and the cursor readout.
fn graph(
    ui: &mut egui::Ui,
    view: &HistoryView,
    target: Option<&DeliveryTarget>,
    over_threshold_dbtp: f64,
) {
    let width = ui.available_width().max(200.0);
    let (rect, response) = ui.allocate_exact_size(vec2(width, HEIGHT), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(22));
    axis(&painter, rect);
    if let Some(t) = target {
        target_band(&painter, rect, t);
    }
    let window = Window::new(view, rect);
    traces(&painter, view, &window, over_threshold_dbtp);
    if let Some(hover) = response.hover_pos() {
        cursor(&painter, view, &window, hover);
    }
}

/// The loudness axis: a line and a label at a few levels, LUFS.
fn axis(painter: &egui::Painter, rect: Rect) {
    for lufs in [-50.0, -40.0, -30.0, -23.0, -14.0] {
        let y = y_of(rect, lufs);
        painter.hline(rect.x_range(), y, Stroke::new(1.0, Color32::from_gray(45)));
        painter.text(
            pos2(rect.left() + 2.0, y - 1.0),
            egui::Align2::LEFT_BOTTOM,
            format!("{lufs:.0}"),
            egui::FontId::monospace(9.0),
            Color32::from_gray(120),
        );
    }
}

/// The delivery target's loudness as a line, within its tolerance band.
fn target_band(painter: &egui::Painter, rect: Rect, t: &DeliveryTarget) {
    let band = Rect::from_x_y_ranges(
        rect.x_range(),
        y_of(rect, t.integrated_lufs + t.tolerance_lu)
            ..=y_of(rect, t.integrated_lufs - t.tolerance_lu),
    );
    painter.rect_filled(band, 0.0, TARGET.gamma_multiply(0.18));
    painter.hline(
        rect.x_range(),
        y_of(rect, t.integrated_lufs),
        Stroke::new(1.0, TARGET),
    );
}

/// The stretch of the run the graph shows: its last `span_points` of `n` points across `rect`.
struct Window {
    rect: Rect,
    n: usize,
    span_points: usize,
}

impl Window {
    fn new(view: &HistoryView, rect: Rect) -> Self {
        let n = view.len();
        let span_points = SPANS[view.span]
            .1
            .map_or(n, |s| (s / STEP_S).round() as usize)
            .max(1);
        Self {
            rect,
            n,
            span_points,
        }
    }

    /// Where the point boundary `index` sits: the newest at the right edge, the graph scrolls.
    fn x_of(&self, index: f64) -> f32 {
        let rect = self.rect;
        rect.right() - ((self.n as f64 - index) / self.span_points as f64) as f32 * rect.width()
    }
}

/// The momentary, short-term and integrated lines, a point per pixel column, and the overs.
fn traces(painter: &egui::Painter, view: &HistoryView, window: &Window, over_threshold_dbtp: f64) {
    let (rect, n) = (window.rect, window.n);
    let start = n.saturating_sub(window.span_points);
    let columns = rect.width().max(1.0) as usize;
    let per_column = (window.span_points as f64 / columns as f64).max(1.0);
    let mut lines: [Vec<Pos2>; 3] = Default::default();
    let mut c = 0usize;
    loop {
        let a = start + (c as f64 * per_column) as usize;
        let b = (start + ((c + 1) as f64 * per_column) as usize).min(n);
        if a >= n {
            break;
        }
        let b = b.max(a + 1);
        let (m, s, i, peak) = column(view, a..b);
        let x = window.x_of(b as f64);
        for (line, value) in lines.iter_mut().zip([m, s, i]) {
            if let Some(v) = value {
                line.push(pos2(x, y_of(rect, v)));
            }
        }
        if peak > over_threshold_dbtp {
            painter.vline(
                x,
                (rect.bottom() - 8.0)..=rect.bottom(),
                Stroke::new(2.0, OVER),
            );
        }
        c += 1;
    }
    for (line, (colour, width)) in
        lines
            .into_iter()
            .zip([(MOMENTARY, 1.0), (SHORT_TERM, 2.0), (INTEGRATED, 1.5)])
    {
        if line.len() > 1 {
            painter.add(egui::Shape::line(line, Stroke::new(width, colour)));
        }
    }
}

/// The cursor at the pointer's `hover` position, and the readings of the point under it.
fn cursor(painter: &egui::Painter, view: &HistoryView, window: &Window, hover: Pos2) {
    let (rect, n) = (window.rect, window.n);
    let back = f64::from((rect.right() - hover.x) / rect.width()) * window.span_points as f64;
    let at = n as f64 - back;
    let index = (at.floor().max(0.0) as usize).min(n.saturating_sub(1));
    if n > 0 && at >= 0.0 {
        painter.vline(
            hover.x,
            rect.y_range(),
            Stroke::new(1.0, Color32::from_gray(140)),
        );
        let p = view.point(index);
        let text = format!(
            "{}  M {}  S {}  I {}  TP {}",
            format_clock((index + 1) as f64 * STEP_S),
            lufs_text(p.momentary_lufs),
            lufs_text(p.short_term_lufs),
            lufs_text(p.integrated_lufs),
            lufs_text(Some(p.true_peak_dbtp)),
        );
        painter.text(
            pos2(rect.left() + 30.0, rect.top() + 2.0),
            egui::Align2::LEFT_TOP,
            text,
            egui::FontId::monospace(11.0),
            Color32::from_gray(230),
        );
    }
}

/// How long the history is (`n` points), and the colours of the lines.
fn legend(ui: &mut egui::Ui, n: usize) {
    ui.horizontal(|ui| {
        ui.small(format!("{} of history · ", format_clock(n as f64 * STEP_S)));
        ui.small(egui::RichText::new("— momentary").color(MOMENTARY));
        ui.small(egui::RichText::new("— short-term").color(SHORT_TERM));
        ui.small(egui::RichText::new("— integrated").color(INTEGRATED));
    });
}

/// The export buttons (history CSV, graph PNG, over log CSV) and what the last export did.
fn export_row(
    ui: &mut egui::Ui,
    view: &mut HistoryView,
    target: Option<&DeliveryTarget>,
    over_threshold_dbtp: f64,
    over_log_csv: impl FnOnce() -> String,
) {
    ui.horizontal(|ui| {
        ui.small("Export:");
        if ui
            .button("History CSV")
            .on_hover_text("The history, one row per 100 ms, into Documents/Earstage")
            .clicked()
        {
            view.export_note = Some(export_history_csv(view));
        }
        if ui
            .button("Graph PNG")
            .on_hover_text("The whole history as a graph, into Documents/Earstage")
            .clicked()
        {
            view.export_note = Some(export_graph(view, target, over_threshold_dbtp));
        }
        if ui
            .button("Overs CSV")
            .on_hover_text(
                "The over log with timeline and wall-clock times, into Documents/Earstage",
            )
            .clicked()
        {
            let csv = over_log_csv();
            view.export_note = Some(export(
                |path| {
                    crate::offline::output::write_bytes_atomically(path, csv.as_bytes())
                        .map_err(anyhow::Error::from)
                },
                "overs.csv",
            ));
        }
    });
    if let Some(note) = &view.export_note {
        ui.small(note);
    }
}

/// Exports the history as CSV, with what it is missing as a comment line; says what it did.
fn export_history_csv(view: &HistoryView) -> String {
    let note = view.missing();
    export(
        |path| {
            crate::offline::history::write_csv_noted(path, &view.points(), note.as_deref(), false)
        },
        "history.csv",
    )
}

/// Exports the graph of the whole history as PNG (its title says what is missing); says what it
/// did.
fn export_graph(
    view: &HistoryView,
    target: Option<&DeliveryTarget>,
    over_threshold_dbtp: f64,
) -> String {
    let points = view.points();
    let title = match view.dropped {
        (0, _) => "Earstage: loudness history".to_owned(),
        (_, seconds) => format!("Earstage: loudness history ({seconds:.1} s missing)"),
    };
    let options = crate::offline::history::GraphOptions {
        title: &title,
        target: target.copied(),
        over_threshold_dbtp,
    };
    export(
        |path| crate::offline::history::write_plot(path, &points, &options, false),
        "history.png",
    )
}

fn lufs_text(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        Some(_) => "-inf".into(),
        None => "—".into(),
    }
}

/// Where exports go: the user's documents folder (else home), `Earstage/`, named with the time.
fn export_path(name: &str) -> anyhow::Result<PathBuf> {
    let base = dirs::document_dir()
        .or_else(dirs::home_dir)
        .ok_or_else(|| anyhow::anyhow!("no documents or home folder to export to"))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(crate::offline::output::export_path(
        &base.join("Earstage"),
        name,
        stamp,
    )?)
}

fn export(write: impl FnOnce(&std::path::Path) -> anyhow::Result<()>, name: &str) -> String {
    match export_path(name).and_then(|path| write(&path).map(|()| path)) {
        Ok(path) => format!("Written: {}", path.display()),
        Err(e) => format!("Not written: {e:#}"),
    }
}
