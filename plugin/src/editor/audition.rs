//! The audition section: Rig / A / B, the mode and ceiling, the two audition chains (catalog
//! picks and live values), an impedance import for the rig's IEM, what the designer reports, and
//! a plot of what A and B do relative to the rig.

use nice_plug::prelude::*;
use std::sync::atomic::Ordering;

use egui::{Color32, Sense, Stroke};

use crate::design::designer::Designer;
use crate::design::handoff::{AuditionStatus, AuditionValues};
use crate::model::attenuator::Network;
use crate::model::audition::AuditionChain;
use crate::model::catalog::Catalog;
use crate::model::chain::{BAND_START_HZ, BAND_STOP_HZ, log_grid};
use crate::model::iem::{EARS, Ear};
use crate::model::import::read_impedance;
use crate::model::{ImpedanceModel, db, from_db};
use crate::params::{ChainParams, EarstageParams, Listen, shunt_from_param};
use crate::persist::StoredAuditions;

use super::chain::picker;
use super::widgets::file_row::{self, ear_name};
use super::widgets::outcome;
use super::widgets::param::{set_param, slider_row};
use super::widgets::response_plot;

const COLORS: [Color32; 2] = [
    Color32::from_rgb(90, 170, 250),
    Color32::from_rgb(240, 190, 70),
];
const HELD_BACK: Color32 = Color32::from_rgb(250, 150, 60);
const ERROR: Color32 = Color32::from_rgb(240, 90, 90);

/// What the panel derives from the settings, remade only when they change.
pub struct AuditionView {
    catalog: Catalog,
    key: Option<AuditionValues>,
    hz: Vec<f64>,
    /// 20·log10|F| of A and B (with their gains), per ear (left, right), dB.
    curves_db: [[Vec<f64>; EARS]; 2],
    /// The rig's earpieces have curves of their own: the right ear's curves are drawn too.
    ears_differ: bool,
    /// The path typed for an impedance import, and the result of the last import.
    import_path: String,
    /// Which earpiece the import is for (`None`: both).
    import_ear: Option<Ear>,
    import_message: Option<Result<String, String>>,
}

impl AuditionView {
    pub fn new() -> Self {
        Self {
            catalog: Catalog::builtin(),
            key: None,
            hz: log_grid(BAND_START_HZ, BAND_STOP_HZ, 24.0),
            curves_db: Default::default(),
            ears_differ: false,
            import_path: String::new(),
            import_ear: None,
            import_message: None,
        }
    }

    /// Recompute the curves if anything they depend on changed.
    fn refresh(&mut self, params: &EarstageParams) {
        let settings = params.audition_settings();
        if self.key == Some(settings.values) {
            return;
        }
        self.key = Some(settings.values);
        let chains = params.audition_chains();
        self.ears_differ = chains.rig.iem.ears_differ();
        // The same description of each chain and ear the designer builds.
        let request = settings.values.request_at(48_000.0);
        for slot in 0..2 {
            let audition = Designer::audition(&request, &chains, slot);
            for ear in [Ear::Left, Ear::Right] {
                let audition = audition.ear(ear);
                let gain = from_db(audition.gain().gain_db);
                self.curves_db[slot][ear as usize] = self
                    .hz
                    .iter()
                    .map(|&hz| db(audition.response_with_gain(hz, gain).norm()))
                    .collect();
            }
        }
    }
}

pub fn show(
    ui: &mut egui::Ui,
    params: &EarstageParams,
    setter: &ParamSetter,
    status: &AuditionStatus,
    view: &mut AuditionView,
) {
    view.refresh(params);
    ui.label(egui::RichText::new("Audition").strong());
    listen(ui, params, setter);
    slider_row(ui, "Mode", &params.mode, setter, 190.0);
    slider_row(ui, "Match", &params.level_match, setter, 190.0);
    slider_row(ui, "Ceiling", &params.ceiling_db, setter, 190.0)
        .on_hover_text("The audition never boosts any frequency by more than this");

    let mut stored = params.audition.get();
    let before = stored.clone();
    for (slot, label) in [(0, "A"), (1, "B")] {
        chain_section(ui, params, setter, status, view, &mut stored, slot, label);
    }
    if stored != before {
        params.audition.replace(stored);
    }

    let size = egui::vec2(ui.available_width().max(160.0), 110.0);
    plot(ui, view, size);
    import(ui, params, view);
    let design_ms = f64::from(status.design_us.load(Ordering::Relaxed)) / 1000.0;
    ui.label(
        egui::RichText::new(format!(
            "filters designed in {design_ms:.1} ms · within {:.2} dB / {:.2} dB of the model",
            status.fit_error_db[0].load(Ordering::Relaxed),
            status.fit_error_db[1].load(Ordering::Relaxed),
        ))
        .small()
        .weak(),
    );
}

/// The Rig / A / B choice of what is heard.
fn listen(ui: &mut egui::Ui, params: &EarstageParams, setter: &ParamSetter) {
    ui.horizontal(|ui| {
        ui.label("Listen");
        for (value, label, hint) in [
            (
                Listen::Rig,
                "Rig",
                "Your chain as it is: the feed passes unchanged",
            ),
            (Listen::A, "A", "Your rig made to sound as chain A would"),
            (Listen::B, "B", "Your rig made to sound as chain B would"),
        ] {
            let selected = params.listen.value() == value;
            if ui
                .selectable_label(selected, label)
                .on_hover_text(hint)
                .clicked()
                && !selected
            {
                set_param(setter, &params.listen, value);
            }
        }
    });
}

/// One audition chain: catalog picks, live values, and what the designer says of it.
#[allow(clippy::too_many_arguments)]
fn chain_section(
    ui: &mut egui::Ui,
    params: &EarstageParams,
    setter: &ParamSetter,
    status: &AuditionStatus,
    view: &AuditionView,
    stored: &mut StoredAuditions,
    slot: usize,
    label: &str,
) {
    let (chain, values) = if slot == 0 {
        (&mut stored.a, &params.a)
    } else {
        (&mut stored.b, &params.b)
    };
    ui.add_space(4.0);
    ui.label(egui::RichText::new(format!("Chain {label}")).color(COLORS[slot]));
    catalog_picks(ui, setter, &view.catalog, chain, values, label);
    sliders(ui, values, setter);
    designer_report(ui, status, slot, chain, values, view.ears_differ);
}

/// The source and pad pickers of one audition chain; a pick also moves its live values.
fn catalog_picks(
    ui: &mut egui::Ui,
    setter: &ParamSetter,
    catalog: &Catalog,
    chain: &mut AuditionChain,
    values: &ChainParams,
    label: &str,
) {
    let source_label = format!("{label} source");
    if let Some(source) = picker(
        ui,
        &source_label,
        &chain.source.name,
        &catalog.sources,
        |s| &s.name,
    ) {
        set_param(setter, &values.output_ohms, source.output_ohms as f32);
        set_param(setter, &values.volume_db, source.volume_db as f32);
        chain.source = source;
    }
    let pad_label = format!("{label} pad");
    if let Some(attenuator) = picker(
        ui,
        &pad_label,
        &chain.attenuator.name,
        &catalog.attenuators,
        |a| &a.name,
    ) {
        let (series, shunt) = attenuator.resistances();
        set_param(setter, &values.series_ohms, series as f32);
        set_param(
            setter,
            &values.shunt_ohms,
            shunt.unwrap_or(crate::model::audition::SHUNT_OHMS.max) as f32,
        );
        chain.attenuator = attenuator;
    }
}

/// What the designer says of the chain in `slot`: its level, what the ceiling holds back, a shunt.
fn designer_report(
    ui: &mut egui::Ui,
    status: &AuditionStatus,
    slot: usize,
    chain: &AuditionChain,
    values: &ChainParams,
    ears_differ: bool,
) {
    let held = status.held_back_db[slot].load(Ordering::Relaxed);
    let level = |ear: Ear| status.level_at_1k_db[slot][ear as usize].load(Ordering::Relaxed);
    ui.horizontal(|ui| {
        if ears_differ {
            ui.label(format!(
                "level at 1 kHz L {:+.1} dB · R {:+.1} dB",
                level(Ear::Left),
                level(Ear::Right)
            ));
        } else {
            ui.label(format!("level at 1 kHz {:+.1} dB", level(Ear::Left)));
        }
        if held > 0.05 {
            ui.label(
                egui::RichText::new(format!("ceiling holds back {held:.1} dB"))
                    .color(HELD_BACK)
                    .strong(),
            );
        }
    });
    if shunt_from_param(values.shunt_ohms.value()).is_some()
        && matches!(chain.attenuator.network, Network::SeriesRc { .. })
    {
        ui.label(
            egui::RichText::new("a shunt resistor replaces the barrel's capacitor")
                .small()
                .weak(),
        );
    }
}

/// The live values of one audition chain, a slider each.
fn sliders(ui: &mut egui::Ui, values: &ChainParams, setter: &ParamSetter) {
    for (name, param, hint) in [
        ("Zo", &values.output_ohms, "The source's output impedance"),
        (
            "Ra",
            &values.series_ohms,
            "Series resistance of the pad or adapter",
        ),
        (
            "Rb",
            &values.shunt_ohms,
            "Shunt resistance of an L-pad (top of the range: none)",
        ),
        ("Vol", &values.volume_db, "The source's volume"),
    ] {
        slider_row(ui, name, param, setter, 190.0).on_hover_text(hint);
    }
}

/// What A and B do relative to the rig, 20 Hz–20 kHz, dB (with their gains).
fn plot(ui: &mut egui::Ui, view: &AuditionView, size: egui::Vec2) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    // The right ear's curves only where the earpieces differ (dashed).
    let ears = if view.ears_differ { EARS } else { 1 };
    let span_db = response_plot::span_db(
        view.curves_db
            .iter()
            .flat_map(|per_ear| per_ear[..ears].iter().flatten()),
    );
    response_plot::frequency_grid(&painter, rect);
    response_plot::db_grid(&painter, rect, span_db, Color32::GRAY);
    for (slot, per_ear) in view.curves_db.iter().enumerate() {
        for (ear, curve) in per_ear[..ears].iter().enumerate() {
            let stroke = Stroke::new(2.0, COLORS[slot]);
            response_plot::db_curve(
                &painter,
                rect,
                (&view.hz, curve),
                span_db,
                (stroke, ear > 0),
            );
        }
    }
}

/// Import a measured impedance curve for the rig's IEM (it is what A and B are heard on), for both
/// earpieces or one of them.
fn import(ui: &mut egui::Ui, params: &EarstageParams, view: &mut AuditionView) {
    ui.horizontal(|ui| {
        let row = ("IEM |Z| file", ".zma, REW text or CSV", "import_ear");
        if file_row::fields(ui, row, &mut view.import_path, &mut view.import_ear) {
            let path = std::path::PathBuf::from(view.import_path.trim());
            view.import_message = Some(import_curve(params, &path, view.import_ear));
        }
    });
    if params.chain.get().iem.ears_differ() {
        ui.label(
            egui::RichText::new(
                "Left and right earpieces have their own curves: each channel is simulated and \
                 metered on its own (the curves here are the left's).",
            )
            .small(),
        );
    }
    outcome::show(ui, &view.import_message, ERROR);
}

/// Reads the curve at `path` onto the rig's IEM, for `ear` or both; what was imported, or why not.
fn import_curve(
    params: &EarstageParams,
    path: &std::path::Path,
    ear: Option<Ear>,
) -> Result<String, String> {
    match read_impedance(path) {
        Ok(curve) => {
            let mut rig = params.chain.get();
            let points = curve.rows().len();
            rig.iem
                .set_impedance(ImpedanceModel::Measured { points: curve }, ear);
            rig.iem.provenance = match ear {
                None => format!("imported from {}", path.display()),
                Some(e) => format!(
                    "{}; {} earpiece imported from {}",
                    rig.iem.provenance,
                    e.name(),
                    path.display()
                ),
            };
            params.chain.replace(rig);
            Ok(format!(
                "imported {points} points for the rig's IEM ({})",
                ear_name(ear)
            ))
        }
        // The rig keeps its curve: nothing is half-applied.
        Err(err) => Err(err.to_string()),
    }
}
