//! The engine and its designer on one thread: how the offline front ends (render, the demo, the
//! SPL analysis) run exactly the plugin's processing. Designs happen between blocks.

use std::sync::Arc;

use crate::design::designer::InlineDesigner;
use crate::design::handoff::{AuditionChains, AuditionStatus};
use crate::dsp::spl::exposure::ExposureStore;
use crate::dsp::{Engine, EngineSettings, MeterSink};

/// An [`Engine`] with an [`InlineDesigner`].
pub struct OfflineEngine {
    engine: Engine,
    designer: InlineDesigner,
    settings: EngineSettings,
}

impl OfflineEngine {
    /// An engine settled on `settings`, with the designs made before the first block.
    pub fn new(
        sample_rate_hz: f64,
        channels: usize,
        settings: EngineSettings,
        chains: AuditionChains,
    ) -> Self {
        let mut designer = InlineDesigner::new(chains);
        designer.prime(&settings.audition.values, sample_rate_hz);
        Self {
            engine: Engine::new(sample_rate_hz as f32, channels, &settings),
            designer,
            settings,
        }
    }

    /// Keep the exposure in `store` (see [`Engine::with_exposure_store`]).
    pub fn with_exposure_store(mut self, store: Arc<ExposureStore>) -> Self {
        self.engine = self.engine.with_exposure_store(store);
        self
    }

    /// Settings from the next block on (a switch glides as in the plugin).
    pub fn set_settings(&mut self, settings: EngineSettings) {
        self.settings = settings;
    }

    pub fn process(&mut self, channels: &mut [&mut [f32]], sink: &mut impl MeterSink) {
        self.engine
            .process_with(channels, &self.settings, sink, &mut self.designer);
        self.designer.run_pending();
    }

    /// End of the stream: pending peaks measured, the final meter frame to `sink`.
    pub fn finish(&mut self, sink: &mut impl MeterSink) {
        self.engine.finish(sink);
    }

    /// What the designer last did (gain, what the ceiling held back, fit error).
    pub fn status(&self) -> &AuditionStatus {
        self.designer.status()
    }
}
