//! The egui editor: a thin shell that lays out small panels. It reads shared state and writes
//! parameters; it never reaches into DSP state.

use crate::week::WeekShared;
use nice_plug::prelude::*;
use nice_plug_egui::{EguiEditor, EguiEditorState, EguiNiceSettings, NiceEguiApp};
use std::sync::Arc;

use std::collections::VecDeque;
use std::time::Duration;

use nice_plug::context::gui::GuiContext;
use nice_plug::params::persist::PersistentField;

use crate::design::handoff::AuditionStatus;
use crate::dsp::level::SILENCE_DB;
use crate::dsp::{EngineFrame, MeterReceiver, OverEvent};
use crate::params::EarstageParams;
use crate::session::SessionInfo;

mod advisor;
mod audition;
mod calibration;
mod chain;
mod ears;
mod header;
mod history;
mod input;
mod loaded;
mod loudness;
mod output;
mod overs;
mod peaks;
mod reference;
mod takeover;
mod target;
mod tuning;
mod week;
mod widgets;

/// Over events the editor keeps for its log (newest first).
const OVER_LOG_LEN: usize = 200;
/// How often the meters redraw while the window is open.
const METER_REFRESH: Duration = Duration::from_millis(33);

/// Default and minimum editor size, logical points.
const DEFAULT_SIZE: (f32, f32) = (1260.0, 760.0);
const MIN_SIZE: (f32, f32) = (480.0, 300.0);

pub fn default_state() -> Arc<EguiEditorState> {
    EguiEditorState::from_size(
        nice_plug::editor::dpi::LogicalSize::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1),
        1.0,
    )
}

pub fn create(
    params: Arc<EarstageParams>,
    session: Arc<SessionInfo>,
    audition_status: Arc<AuditionStatus>,
    week: Arc<WeekShared>,
    state: Arc<EguiEditorState>,
    meters: MeterReceiver,
) -> Option<EguiEditor<EditorApp>> {
    let settings = EguiNiceSettings::new()
        .with_tile("Earstage")
        .with_resize_hint(ResizeHint::resizable().with_min_logical_size(
            nice_plug::editor::dpi::LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1),
        ));
    nice_plug_egui::create_egui_editor(
        state,
        Default::default(),
        settings,
        EditorApp {
            params,
            session,
            audition_status,
            week,
            audition_view: audition::AuditionView::new(),
            meters,
            over_log: VecDeque::with_capacity(OVER_LOG_LEN),
            chain_view: None,
            history_view: history::HistoryView::new(),
            advisor_view: advisor::AdvisorView::new(),
            reference_view: reference::ReferenceView::new(),
            calibration_view: calibration::CalibrationView::new(),
            tuning_view: tuning::TuningView::default(),
            confirm_reset: false,
            gui: None,
        },
    )
}

pub struct EditorApp {
    params: Arc<EarstageParams>,
    session: Arc<SessionInfo>,
    /// What the audition's designer last did.
    audition_status: Arc<AuditionStatus>,
    /// The week's week from every instance.
    week: Arc<WeekShared>,
    /// The audition panel's derived curves and import field.
    audition_view: audition::AuditionView,
    /// The tuning import's field and its last result.
    tuning_view: tuning::TuningView,
    meters: MeterReceiver,
    /// The newest overs, newest first.
    over_log: VecDeque<OverEvent>,
    /// The chain panel's derived figures, made when the window first draws.
    chain_view: Option<chain::ChainView>,
    /// The editor's copy of the loudness history.
    history_view: history::HistoryView,
    /// The advisor's target and advice.
    advisor_view: advisor::AdvisorView,
    /// The reference panel's derived figures.
    reference_view: reference::ReferenceView,
    calibration_view: calibration::CalibrationView,
    /// Whether the exposure reset is waiting for its confirmation.
    confirm_reset: bool,
    /// Set when the window opens; needed to write parameters.
    gui: Option<GuiContext>,
}

impl NiceEguiApp for EditorApp {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        gui: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::dark());
        self.gui = Some(gui);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        // A clone (one Arc) so the setter does not borrow `self` while the panels change it.
        let Some(gui) = self.gui.clone() else { return };
        let setter = gui.param_setter();
        self.drain_overs();
        let frame = *self.meters.latest();
        self.top_panels(ui, &frame);
        egui::Panel::bottom("output").show(ui, |ui| output::show(ui, &self.params, &setter));
        self.audition_panel(ui, &setter);
        self.chain_panel(ui, &setter, &frame);
        egui::Panel::left("peaks")
            .resizable(false)
            .show(ui, |ui| peaks::show(ui, &frame.meter, &self.meters));
        self.central_panel(ui, &setter, &frame);
        ui.ctx().request_repaint_after(METER_REFRESH);
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}

impl EditorApp {
    /// Moves the overs that arrived since the last frame into the log, newest first.
    fn drain_overs(&mut self) {
        let log = &mut self.over_log;
        self.meters.drain_overs(|event| {
            if log.len() == OVER_LOG_LEN {
                log.pop_back();
            }
            log.push_front(event);
        });
    }

    /// The title bar, and the banners (test signal on, state not restored, bad input) when due.
    fn top_panels(&self, ui: &mut egui::Ui, frame: &EngineFrame) {
        egui::Panel::top("header").show(ui, |ui| header::show(ui, &self.session));
        let monitoring = &self.params.monitoring;
        if let Some(band) = monitoring.generator() {
            egui::Panel::top("noise").show(ui, |ui| {
                let text = format!(
                    "CALIBRATION NOISE ON ({}, −20 dBFS RMS): the feed is replaced",
                    band.label()
                );
                if takeover::show(ui, text, "Stop the noise") {
                    monitoring.set_generator(None);
                }
            });
        }
        if let Some(tone) = monitoring.tone() {
            egui::Panel::top("tone").show(ui, |ui| {
                let text = format!(
                    "CALIBRATION TONE ON ({} Hz, {:+} dBFS): the output is replaced",
                    tone.hz, tone.dbfs
                );
                if takeover::show(ui, text, "Stop the tone") {
                    monitoring.set_tone(None);
                }
            });
        }
        if PersistentField::map(&self.params.load_report, |r| !r.is_empty()) {
            egui::Panel::top("loaded").show(ui, |ui| loaded::show(ui, &self.params.load_report));
        }
        if frame.input.non_finite_samples > 0 {
            egui::Panel::top("input").show(ui, |ui| input::show(ui, &frame.input, &self.meters));
        }
    }

    /// The audition column at the right edge.
    fn audition_panel(&mut self, ui: &mut egui::Ui, setter: &ParamSetter) {
        egui::Panel::right("audition")
            .resizable(false)
            .default_size(330.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    audition::show(
                        ui,
                        &self.params,
                        setter,
                        &self.audition_status,
                        &mut self.audition_view,
                    )
                })
            });
    }

    /// The chain column: the rig, the advisor, the reference level and the calibration.
    fn chain_panel(&mut self, ui: &mut egui::Ui, setter: &ParamSetter, frame: &EngineFrame) {
        let chain_view = self
            .chain_view
            .get_or_insert_with(|| chain::ChainView::new(&self.params.chain.get()));
        egui::Panel::right("chain")
            .resizable(false)
            .default_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    chain::show(ui, &self.params.chain, chain_view);
                    ui.add_space(8.0);
                    tuning::show(ui, &self.params, &mut self.tuning_view);
                    ui.add_space(8.0);
                    advisor::show(ui, &self.params.chain.get(), &mut self.advisor_view);
                    ui.add_space(8.0);
                    reference::show(
                        ui,
                        &self.params,
                        setter,
                        &frame.spl,
                        &mut self.reference_view,
                    );
                    ui.add_space(8.0);
                    calibration::show(ui, &self.params, &mut self.calibration_view);
                })
            });
    }

    /// The middle: loudness, the target, the history, the ears, the week and the overs.
    fn central_panel(&mut self, ui: &mut egui::Ui, setter: &ParamSetter, frame: &EngineFrame) {
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                self.history_view.follow(self.meters.history());
                let judged = self.judged(frame);
                let target = judged.target;
                loudness::show(ui, &frame.meter.loudness, &judged, &self.meters);
                ui.add_space(8.0);
                target::show(ui, &self.params, setter);
                let log = &self.over_log;
                history::show(
                    ui,
                    &mut self.history_view,
                    target.as_ref(),
                    f64::from(frame.meter.over_threshold_dbtp),
                    || overs::log_csv(log),
                );
                ui.add_space(8.0);
                ears::show(
                    ui,
                    &frame.spl,
                    &self.params.monitoring.exposure,
                    &mut self.confirm_reset,
                );
                ui.add_space(8.0);
                week::show(ui, &self.week, &frame.spl);
                ui.add_space(8.0);
                if overs::show(ui, &frame.meter, &self.over_log) {
                    self.over_log.clear();
                }
            })
        });
    }

    /// What the loudness section judges by; its 3 s peak reads the history, so after `follow`.
    fn judged(&self, frame: &EngineFrame) -> loudness::Judged {
        let channels = frame.meter.channels.max(1);
        loudness::Judged {
            target: self.params.delivery_target(),
            true_peak_max_dbtp: frame.meter.channel[..channels]
                .iter()
                .map(|c| f64::from(c.true_peak_max_dbtp))
                .filter(|&db| db > f64::from(SILENCE_DB))
                .reduce(f64::max),
            true_peak_3s_dbtp: self.history_view.recent_true_peak_dbtp(3.0),
        }
    }
}
