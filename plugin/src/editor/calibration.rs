//! Calibrating the level (docs/spl.md): play a tone, read it with a multimeter at the source's
//! jack or across the IEM, type the reading; the rig's full scale follows it, and every SPL,
//! reference and dose figure is marked calibrated instead of estimated from the spec sheet.

use crate::dsp::signal::tone::ToneSettings;
use crate::model::Chain;
use crate::model::calibration::{
    DEFAULT_TONE_DBFS, DEFAULT_TONE_HZ, LevelBasis, LevelReading, ProbePoint, TONE_DBFS,
};
use crate::model::units::today_utc;
use crate::params::EarstageParams;

use super::reference::NOISE_ON;
use super::widgets::outcome;

/// The tone frequencies offered: ordinary multimeters read AC volts accurately only low down.
const TONE_CHOICES_HZ: [f64; 3] = [60.0, 400.0, 1000.0];
const WARNING: egui::Color32 = egui::Color32::from_rgb(230, 170, 60);

/// What the user is setting up, kept while the editor is open.
pub struct CalibrationView {
    tone: ToneSettings,
    at: ProbePoint,
    reading: String,
    message: Option<Result<String, String>>,
}

impl CalibrationView {
    pub fn new() -> Self {
        Self {
            tone: ToneSettings {
                hz: DEFAULT_TONE_HZ,
                dbfs: DEFAULT_TONE_DBFS,
            },
            at: ProbePoint::Open,
            reading: String::new(),
            message: None,
        }
    }
}

/// The rig calibrated by the reading typed as `text` (Vrms) of `tone` taken `at`.
fn calibrate(
    chain: &Chain,
    text: &str,
    tone: ToneSettings,
    at: ProbePoint,
) -> Result<Chain, String> {
    let text = text.trim().trim_end_matches(['V', 'v']).trim();
    if text.contains(',') {
        return Err(format!("{text:?}: numbers use a decimal point (0.245)"));
    }
    let vrms: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a reading in volts (e.g. 0.245)"))?;
    let reading = LevelReading {
        vrms,
        at,
        tone_dbfs: tone.dbfs,
        tone_hz: tone.hz,
        volume_db: chain.source.volume_db,
        date: today_utc(),
        spec_vfs_volts: chain.source.vfs_volts,
    };
    chain.calibrated(&reading).map_err(|e| e.to_string())
}

/// The rig back on its spec sheet's full scale.
fn forget(chain: &Chain) -> Chain {
    let mut c = chain.clone();
    if let Some(reading) = c.source.calibration.take() {
        c.source.vfs_volts = reading.spec_vfs_volts;
    }
    c
}

pub fn show(ui: &mut egui::Ui, params: &EarstageParams, view: &mut CalibrationView) {
    let rig = params.chain.get();
    ui.label(egui::RichText::new("Calibrate the level").strong())
        .on_hover_text(
            "Play the tone, read the AC volts with a multimeter at the source's jack with nothing \
             plugged in, or across the IEM's terminals through an adapter (IEMs out of your \
             ears), and type the reading with the volume where you listen",
        );
    let basis = rig.level_basis();
    level_basis(ui, &basis);
    tone(ui, params, &mut view.tone);
    ui.horizontal(|ui| {
        ui.radio_value(&mut view.at, ProbePoint::Open, "open jack");
        ui.radio_value(&mut view.at, ProbePoint::Iem, "across the IEM");
    });
    reading(ui, params, view, &rig, basis.calibrated);
    outcome::show(ui, &view.message, NOISE_ON);
}

/// What the rig's level figures rest on, and anything that makes them doubtful.
fn level_basis(ui: &mut egui::Ui, basis: &LevelBasis) {
    ui.label(
        egui::RichText::new(basis.describe())
            .small()
            .color(if basis.stale {
                WARNING
            } else {
                egui::Color32::GRAY
            }),
    );
    for flag in &basis.flags {
        ui.label(egui::RichText::new(flag).small().color(WARNING));
    }
}

/// The tone's frequency and level and its play/stop button; a playing tone follows the settings.
fn tone(ui: &mut egui::Ui, params: &EarstageParams, settings: &mut ToneSettings) {
    let playing = params.monitoring.tone();
    ui.horizontal(|ui| {
        ui.label("Tone");
        egui::ComboBox::from_id_salt("tone hz")
            .selected_text(format!("{} Hz", settings.hz))
            .width(70.0)
            .show_ui(ui, |ui| {
                for hz in TONE_CHOICES_HZ {
                    ui.selectable_value(&mut settings.hz, hz, format!("{hz} Hz"));
                }
            });
        ui.add(
            egui::DragValue::new(&mut settings.dbfs)
                .range(TONE_DBFS.inclusive())
                .speed(0.5)
                .suffix(" dBFS"),
        );
        let label = if playing.is_some() { "Stop" } else { "Play" };
        if ui
            .button(label)
            .on_hover_text("Replaces the output with the tone while on")
            .clicked()
        {
            params
                .monitoring
                .set_tone(playing.is_none().then_some(*settings));
        } else if playing.is_some_and(|p| p != *settings) {
            params.monitoring.set_tone(Some(*settings));
        }
    });
    if playing.is_some() {
        ui.label(
            egui::RichText::new("tone on: the output is replaced")
                .small()
                .color(NOISE_ON),
        );
    }
}

/// The multimeter reading, its Apply button, and Forget while the rig is `calibrated`.
fn reading(
    ui: &mut egui::Ui,
    params: &EarstageParams,
    view: &mut CalibrationView,
    rig: &Chain,
    calibrated: bool,
) {
    ui.horizontal(|ui| {
        ui.label("Reading");
        ui.add(
            egui::TextEdit::singleline(&mut view.reading)
                .hint_text("Vrms")
                .desired_width(70.0),
        );
        if ui.button("Apply").clicked() {
            view.message = Some(calibrate(rig, &view.reading, view.tone, view.at).map(
                |calibrated| {
                    let text = format!(
                        "full scale {:.3} Vrms at maximum volume (spec sheet {:.3})",
                        calibrated.source.vfs_volts, rig.source.vfs_volts
                    );
                    params.chain.replace(calibrated);
                    text
                },
            ));
        }
        if calibrated && ui.button("Forget").clicked() {
            params.chain.replace(forget(rig));
            view.message = None;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;

    /// A reading applies to the rig, names what is wrong when it cannot, and forgetting it brings
    /// back the spec sheet's full scale.
    #[test]
    fn reading_applies_and_forgets() {
        let rig = Catalog::builtin().default_chain().unwrap();
        let tone = ToneSettings {
            hz: 400.0,
            dbfs: -20.0,
        };
        let calibrated = calibrate(&rig, " 0.12 V", tone, ProbePoint::Open).unwrap();
        let g = 10f64.powf(rig.source.volume_db / 20.0);
        assert!((calibrated.source.vfs_volts - 0.12 / 0.1 / g).abs() < 1e-12);
        assert!(calibrated.level_basis().calibrated);
        for bad in ["", "0,12", "loud", "0", "-1"] {
            assert!(
                calibrate(&rig, bad, tone, ProbePoint::Open).is_err(),
                "{bad:?}"
            );
        }
        let back = forget(&calibrated);
        assert_eq!(back, rig);
    }
}
