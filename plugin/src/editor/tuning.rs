//! The rig IEM's tuning (its eardrum response's shape, which every SPL figure goes through): a
//! plot of it per earpiece, where it comes from, a response import for both earpieces or one,
//! and a way back to the diffuse-field target (docs/spl.md, "The IEM's tuning").

use egui::{Color32, Sense, Stroke};

use crate::model::chain::{BAND_START_HZ, BAND_STOP_HZ, log_grid};
use crate::model::iem::{self, EARS, Ear, Iem};
use crate::model::import::read_response;
use crate::params::EarstageParams;

use super::widgets::file_row::{self, ear_name};
use super::widgets::{outcome, response_plot};

const COLOR: Color32 = Color32::from_rgb(120, 210, 140);
const ERROR: Color32 = Color32::from_rgb(240, 90, 90);

/// The panel's own state: the path typed, which earpiece, and the last import's result.
#[derive(Default)]
pub struct TuningView {
    path: String,
    ear: Option<Ear>,
    message: Option<Result<String, String>>,
}

pub fn show(ui: &mut egui::Ui, params: &EarstageParams, view: &mut TuningView) {
    let rig = params.chain.get();
    ui.label(
        egui::RichText::new(format!(
            "IEM tuning (every SPL figure goes through it): {}",
            rig.iem.tuning_source()
        ))
        .small(),
    );
    plot(ui, &rig.iem);
    ui.horizontal(|ui| {
        let row = (
            "IEM response file",
            "squig.link, AutoEQ or REW text",
            "tuning_ear",
        );
        if file_row::fields(ui, row, &mut view.path, &mut view.ear) {
            let path = std::path::PathBuf::from(view.path.trim());
            view.message = Some(import(params, &path, view.ear));
        }
        if ui
            .button("Target")
            .on_hover_text("Back to the diffuse-field target")
            .clicked()
        {
            let mut rig = params.chain.get();
            rig.iem.set_response(None, view.ear);
            params.chain.replace(rig);
            view.message = Some(Ok(format!(
                "{}: the diffuse-field target",
                ear_name(view.ear)
            )));
        }
    });
    outcome::show(ui, &view.message, ERROR);
}

/// Reads the response at `path` onto the rig's IEM, for `ear` or both; what was imported, or why
/// not. The rig keeps its tuning on any error: nothing is half-applied.
fn import(
    params: &EarstageParams,
    path: &std::path::Path,
    ear: Option<Ear>,
) -> Result<String, String> {
    let response = read_response(path).map_err(|e| e.to_string())?;
    iem::check_covers(&path.display().to_string(), &response).map_err(|e| e.to_string())?;
    let points = response.rows().len();
    let mut rig = params.chain.get();
    rig.iem.set_response(Some(response), ear);
    rig.iem.provenance = format!(
        "{}; {} tuning from {}",
        rig.iem.provenance,
        ear_name(ear),
        path.display()
    );
    params.chain.replace(rig);
    Ok(format!(
        "imported {points} points as the tuning ({})",
        ear_name(ear)
    ))
}

/// The tuning, dB re 1 kHz, 20 Hz–20 kHz: the left (or only) earpiece solid, the right dashed
/// where it has its own.
fn plot(ui: &mut egui::Ui, iem: &Iem) {
    let size = egui::vec2(ui.available_width().max(160.0), 80.0);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    let hz = log_grid(BAND_START_HZ, BAND_STOP_HZ, 12.0);
    let ears = if iem.ears_differ() { EARS } else { 1 };
    let curves: Vec<Vec<f64>> = Ear::BOTH[..ears]
        .iter()
        .map(|&ear| {
            let one = iem.ear(ear);
            hz.iter().map(|&f| one.tuning_db(f)).collect()
        })
        .collect();
    let span_db = response_plot::span_db(curves.iter().flatten());
    response_plot::frequency_grid(&painter, rect);
    response_plot::db_grid(&painter, rect, span_db, Color32::GRAY);
    for (ear, curve) in curves.iter().enumerate() {
        let stroke = (Stroke::new(2.0, COLOR), ear > 0);
        response_plot::db_curve(&painter, rect, (&hz, curve), span_db, stroke);
    }
}
