//! Earstage: true-peak metering, delivered SPL and IEM playback-chain simulation for the monitor
//! bus. This file is glue: the plugin-format traits, forwarding audio to [`dsp::Engine`].

use nice_plug::prelude::*;
use std::num::NonZeroU32;
use std::sync::Arc;

pub mod design;
pub mod dsp;
mod editor;
pub mod model;
pub mod offline;
pub mod params;
pub mod persist;
mod session;
pub mod state;
pub mod week;

use design::designer::Designer;
use design::handoff::{
    AuditionLink, AuditionRequest, AuditionStatus, DesignPair, DesignReceiver, design_link,
};
use design::thread::{DesignThread, Worker};
use dsp::meter::history_feed::history_feed;
use dsp::{Engine, EngineSettings, MeterReceiver, MeterSender};
use params::EarstageParams;
use session::SessionInfo;

pub struct Earstage {
    params: Arc<EarstageParams>,
    session: Arc<SessionInfo>,
    editor_state: Arc<nice_plug_egui::EguiEditorState>,
    engine: Engine,
    /// Audio-thread end of the meter link.
    meters: MeterSender,
    /// Editor end, handed to the editor when the host asks for it.
    editor_meters: Option<MeterReceiver>,
    /// Audio-thread end of the audition's design handoff.
    designs: DesignReceiver,
    /// The audio thread's end of the request ring to the designer thread.
    requests: rtrb::Producer<AuditionRequest>,
    /// The instance's own designer thread, held for its lifetime: dropping it stops and joins it.
    _design_thread: DesignThread,
    /// What the designer last did, for the editor.
    audition_status: Arc<AuditionStatus>,
    /// The listener's week, for the editor, and whether the host plays in real time.
    week: Arc<week::WeekShared>,
    /// Books what this instance delivers into the user's weekly record; dropping it books the
    /// last seconds and joins it.
    week_thread: week::WeekThread,
    /// Makes the loudness history from what the audio thread measured (one per activation);
    /// dropping it joins it.
    _history_thread: Option<Worker>,
}

/// Requests the audio thread can have queued (it sends one and waits for the answer).
const REQUEST_RING: usize = 4;
/// How long the history thread sleeps when it has caught up (its ring holds seconds).
const HISTORY_PERIOD: std::time::Duration = std::time::Duration::from_millis(10);

impl Default for Earstage {
    fn default() -> Self {
        let (meters, editor_meters) = dsp::meter_link();
        let (sender, designs) = design_link();
        let audition_status = Arc::new(AuditionStatus::default());
        let params = Arc::new(EarstageParams::default());
        let (requests, pending) = rtrb::RingBuffer::new(REQUEST_RING);
        let designer = Designer::new(sender, audition_status.clone());
        let week = Arc::new(week::WeekShared::default());
        Self {
            week_thread: week::WeekThread::spawn(
                params.monitoring.exposure.clone(),
                week.clone(),
                None,
            ),
            week,
            _design_thread: DesignThread::spawn(
                {
                    let params = params.clone();
                    move || params.audition_chains()
                },
                designer,
                pending,
            ),
            requests,
            params,
            session: Arc::new(SessionInfo::default()),
            editor_state: editor::default_state(),
            engine: Engine::new(48_000.0, 2, &EngineSettings::default()),
            meters,
            editor_meters: Some(editor_meters),
            designs,
            audition_status,
            _history_thread: None,
        }
    }
}

/// The plugin's audition link: requests go through a wait-free ring to the instance's designer
/// thread, designs come back through the triple buffer.
struct ThreadDesigns<'a> {
    designs: &'a mut DesignReceiver,
    requests: &'a mut rtrb::Producer<AuditionRequest>,
}

impl AuditionLink for ThreadDesigns<'_> {
    fn request(&mut self, request: AuditionRequest) {
        // Full only if the designer is stalled; the stage asks again after its timeout.
        let _ = self.requests.push(request);
    }
    fn receive(&mut self) -> Option<DesignPair> {
        self.designs.take_new()
    }
}

impl Earstage {
    fn settings(&self) -> EngineSettings {
        EngineSettings {
            trim_db: self.params.trim_db.value(),
            over_threshold_dbtp: self.params.over_threshold_dbtp.value(),
            audition: self.params.audition_settings(),
            bypass: self.params.bypass.value(),
            generator: self.params.monitoring.generator(),
            tone: self.params.monitoring.tone(),
            stage: self.params.stage_settings(),
            timeline_s: None,
            playing: None,
            reset_on_play: self.params.reset_on_play.value(),
            pause_when_stopped: self.params.pause_when_stopped.value(),
            wall_clock_s: None,
        }
    }
}

impl Plugin for Earstage {
    const NAME: &'static str = "Earstage";
    const VENDOR: &'static str = "Earstage";
    const URL: &'static str = "https://earstage.audio";
    const EMAIL: &'static str = "support@earstage.audio";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type Editor = nice_plug_egui::EguiEditor<editor::EditorApp>;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn filter_state(state: &mut PluginState) {
        state::repair(state);
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        editor::create(
            self.params.clone(),
            self.session.clone(),
            self.audition_status.clone(),
            self.week.clone(),
            self.editor_state.clone(),
            self.editor_meters.take()?,
        )
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let channels = audio_io_layout
            .main_output_channels
            .map_or(0, NonZeroU32::get);
        self.session.sample_rate_hz.store(
            buffer_config.sample_rate,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.session
            .channels
            .store(channels, std::sync::atomic::Ordering::Relaxed);
        // Renders, bounces and freezes are not listening: the weekly record leaves them out.
        self.week_thread
            .set_realtime(buffer_config.process_mode != ProcessMode::Offline);
        let channels = channels.max(1) as usize;
        let (feed, mut follower) = history_feed(
            buffer_config.sample_rate,
            channels,
            self.meters.history_store(),
        );
        self.engine = Engine::new(buffer_config.sample_rate, channels, &self.settings())
            .with_exposure_store(self.params.monitoring.exposure.clone())
            .with_history_feed(feed);
        // The previous activation's thread (if any) finishes its ring and is joined here.
        self._history_thread = Some(Worker::spawn(
            "earstage-history",
            HISTORY_PERIOD,
            move |_last| follower.follow(),
        ));
        true
    }

    fn reset(&mut self) {
        let settings = self.settings();
        self.engine.reset(&settings);
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let transport = context.transport();
        let settings = EngineSettings {
            timeline_s: transport.pos_seconds(),
            playing: Some(transport.playing),
            // Reading the clock is a vDSO call: no lock, no allocation, no system call.
            wall_clock_s: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs_f64()),
            ..self.settings()
        };
        let mut link = ThreadDesigns {
            designs: &mut self.designs,
            requests: &mut self.requests,
        };
        self.engine
            .process_with(buffer.as_slice(), &settings, &mut self.meters, &mut link);
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Earstage {
    const CLAP_ID: &'static str = "audio.earstage.monitor";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("True-peak meter, delivered SPL and IEM chain simulation for the monitor bus");
    const CLAP_MANUAL_URL: Option<&'static str> = Some(Self::URL);
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Analyzer,
        ClapFeature::Utility,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for Earstage {
    const VST3_CLASS_ID: [u8; 16] = *b"EarstageMonitor1";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Analyzer,
        Vst3SubCategory::Tools,
        Vst3SubCategory::Stereo,
        Vst3SubCategory::Mono,
    ];
}

nice_export_clap!(Earstage);
nice_export_vst3!(Earstage);
