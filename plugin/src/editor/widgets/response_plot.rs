//! A small log-frequency plot of a chain: its coloration (dB, relative to 1 kHz) and, dashed, the
//! IEM's impedance magnitude on its own scale, with the catalog's model of a measured IEM beside
//! it.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Vec2};

use crate::model::chain::{BAND_START_HZ, BAND_STOP_HZ, log_grid};
use crate::model::{Chain, ImpedanceModel};

const COLORATION: Color32 = Color32::from_rgb(240, 120, 80);
const IMPEDANCE: Color32 = Color32::from_rgb(150, 150, 150);
/// The catalog model of an IEM whose curve is measured.
const MODEL: Color32 = Color32::from_rgb(90, 140, 200);
const GRID: Color32 = Color32::from_rgb(60, 60, 60);

/// The curves a plot draws, computed once per chain (not per frame).
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    hz: Vec<f64>,
    coloration_db: Vec<f64>,
    impedance_ohms: Vec<f64>,
    model_ohms: Option<Vec<f64>>,
}

impl Curves {
    /// The curves of `chain`; `model` is the catalog's impedance of its IEM when the chain's is
    /// a measurement.
    pub fn new(chain: &Chain, model: Option<&ImpedanceModel>) -> Self {
        let hz = log_grid(BAND_START_HZ, BAND_STOP_HZ, 24.0);
        let magnitude = |z: &ImpedanceModel| hz.iter().map(|&f| z.impedance(f).norm()).collect();
        Self {
            coloration_db: chain.coloration_db(&hz),
            impedance_ohms: magnitude(&chain.iem.impedance),
            model_ohms: model.map(magnitude),
            hz,
        }
    }
}

pub fn x_of(rect: Rect, hz: f64) -> f32 {
    let t = (hz / BAND_START_HZ).log10() / (BAND_STOP_HZ / BAND_START_HZ).log10();
    rect.left() + rect.width() * t as f32
}

/// The height of `db` on a plot spanning ±`span_db` around its middle.
pub fn y_of(rect: Rect, db: f64, span_db: f64) -> f32 {
    rect.center().y - (db / span_db) as f32 * rect.height() * 0.45
}

/// One dB curve over `hz` on a plot spanning ±`span_db`: solid, or dashed (a right earpiece).
pub fn db_curve(
    painter: &egui::Painter,
    rect: Rect,
    (hz, db): (&[f64], &[f64]),
    span_db: f64,
    (stroke, dashed): (Stroke, bool),
) {
    let points: Vec<Pos2> = hz
        .iter()
        .zip(db)
        .map(|(&f, &d)| Pos2::new(x_of(rect, f), y_of(rect, d, span_db)))
        .collect();
    if dashed {
        painter.extend(Shape::dashed_line(&points, stroke, 6.0, 4.0));
    } else {
        painter.add(Shape::line(points, stroke));
    }
}

/// A span in whole steps of 3 dB that holds every value of `curves`, at least ±3 dB.
pub fn span_db<'a>(curves: impl IntoIterator<Item = &'a f64>) -> f64 {
    let extreme = curves.into_iter().fold(1.0f64, |m, v| m.max(v.abs()));
    (extreme / 3.0).ceil() * 3.0
}

/// Vertical lines at 100 Hz, 1 kHz and 10 kHz, labelled.
pub fn frequency_grid(painter: &egui::Painter, rect: Rect) {
    let font = FontId::proportional(10.0);
    for hz in [100.0, 1000.0, 10_000.0] {
        let x = x_of(rect, hz);
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            Stroke::new(1.0, GRID),
        );
        let label = if hz >= 1000.0 {
            format!("{}k", hz / 1000.0)
        } else {
            format!("{hz}")
        };
        painter.text(
            Pos2::new(x + 2.0, rect.bottom() - 2.0),
            Align2::LEFT_BOTTOM,
            label,
            font.clone(),
            GRID.gamma_multiply(2.0),
        );
    }
}

/// Horizontal lines at −span, 0 and +span dB, labelled in `color`.
pub fn db_grid(painter: &egui::Painter, rect: Rect, span_db: f64, color: Color32) {
    let font = FontId::proportional(10.0);
    for db in [-span_db, 0.0, span_db] {
        let y = y_of(rect, db, span_db);
        painter.line_segment(
            [Pos2::new(rect.left(), y), Pos2::new(rect.right(), y)],
            Stroke::new(1.0, GRID),
        );
        painter.text(
            Pos2::new(rect.left() + 2.0, y),
            // The top label hangs below its line so the plot's edge does not clip it.
            if db > 0.0 {
                Align2::LEFT_TOP
            } else {
                Align2::LEFT_BOTTOM
            },
            format!("{db:+.0} dB"),
            font.clone(),
            color,
        );
    }
}

pub fn show(ui: &mut egui::Ui, curves: &Curves, size: Vec2) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    let font = FontId::proportional(10.0);
    let span_db = span_db(&curves.coloration_db);
    let y_of = |db: f64| y_of(rect, db, span_db);
    let z_max = curves
        .impedance_ohms
        .iter()
        .chain(curves.model_ohms.iter().flatten())
        .fold(1.0f64, |m, v| m.max(*v))
        * 1.1;
    let yz_of = |ohms: f64| rect.bottom() - (ohms / z_max) as f32 * rect.height();

    frequency_grid(&painter, rect);
    db_grid(&painter, rect, span_db, COLORATION);
    painter.text(
        rect.right_top() + Vec2::new(-2.0, 2.0),
        Align2::RIGHT_TOP,
        format!("|Z| to {z_max:.0} Ω"),
        font,
        IMPEDANCE,
    );
    let impedance_line = |ohms: &[f64]| -> Vec<Pos2> {
        curves
            .hz
            .iter()
            .zip(ohms)
            .map(|(&f, &z)| Pos2::new(x_of(rect, f), yz_of(z)))
            .collect()
    };
    if let Some(model) = &curves.model_ohms {
        painter.extend(Shape::dashed_line(
            &impedance_line(model),
            Stroke::new(1.0, MODEL),
            2.0,
            3.0,
        ));
        painter.text(
            rect.right_top() + Vec2::new(-2.0, 14.0),
            Align2::RIGHT_TOP,
            "catalog model",
            FontId::proportional(10.0),
            MODEL,
        );
    }
    painter.extend(Shape::dashed_line(
        &impedance_line(&curves.impedance_ohms),
        Stroke::new(1.0, IMPEDANCE),
        4.0,
        3.0,
    ));
    let coloration: Vec<Pos2> = curves
        .hz
        .iter()
        .zip(&curves.coloration_db)
        .map(|(&f, &d)| Pos2::new(x_of(rect, f), y_of(d)))
        .collect();
    painter.add(Shape::line(coloration, Stroke::new(2.0, COLORATION)));
}
