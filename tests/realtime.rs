//! The audio path never allocates: `Engine::process` (what the plugin's `process()` calls) under
//! nice-plug's allocation checker, for block sizes 1 to 8192 at 44.1 to 192 kHz, with the meters
//! refining peaks, logging overs and answering reset requests, and with everything on.

mod support;

use earstage::dsp::meter::history_feed::history_feed;
use earstage::dsp::signal::tone::ToneSettings;
use earstage::dsp::{Engine, EngineSettings, meter_link};
use support::Rng;

const BLOCK_SIZES: [usize; 8] = [1, 7, 64, 256, 1_000, 2_048, 4_096, 8_192];
const RATES_HZ: [f32; 6] = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];

#[test]
fn process_does_not_allocate() {
    let mut rng = Rng::new(1);
    for fs in RATES_HZ {
        for block in BLOCK_SIZES {
            let settings = EngineSettings {
                trim_db: -3.0,
                over_threshold_dbtp: -6.0,
                ..EngineSettings::default()
            };
            let mut engine = Engine::new(fs, 2, &settings);
            let (mut sender, receiver) = meter_link();
            // Loud noise with inter-sample peaks: refinement, overs and the log all run.
            let mut left: Vec<f32> = (0..block).map(|_| (0.6 * rng.normal()) as f32).collect();
            let mut right = left.clone();
            for round in 0..(24_000 / block).max(3) {
                if round == 1 {
                    receiver.request_reset_peaks();
                }
                if round == 2 {
                    receiver.request_reset_all();
                }
                let channels: &mut [&mut [f32]] = &mut [&mut left, &mut right];
                nice_assert_no_alloc::assert_no_alloc(|| {
                    engine.process(channels, &settings, &mut sender);
                });
            }
        }
    }
}

/// Everything on — the audition on A with designs arriving, the SPL meter on the rig's filters,
/// stage mode, the calibration noise switching bands, an exposure store restored and reset from
/// another thread's side, the loudness history fed to its own thread (as the plugin runs it,
/// with resets and holds) — and still no allocation, for every block size at 44.1 and 192 kHz.
#[test]
fn everything_on_does_not_allocate() {
    use std::sync::Arc;

    use earstage::design::designer::InlineDesigner;
    use earstage::dsp::StageSettings;
    use earstage::dsp::audition::Selection;
    use earstage::dsp::spl::exposure::{ExposureStore, ExposureTotals};
    use earstage::model::spl::PinkBand;
    use earstage::params::EarstageParams;

    let params = EarstageParams::default();
    let mut rng = Rng::new(2);
    for fs in [44_100.0f32, 192_000.0] {
        for block in BLOCK_SIZES {
            let mut settings = EngineSettings {
                stage: Some(StageSettings {
                    ambient_dba: 105.0,
                    isolation_db: 25.0,
                    prefer_catalog: true,
                }),
                audition: params.audition_settings(),
                ..EngineSettings::default()
            };
            settings.audition.selection = Selection::A;
            let store = Arc::new(ExposureStore::default());
            let (mut sender, receiver) = meter_link();
            let (feed, mut follower) = history_feed(fs, 2, sender.history_store());
            let mut engine = Engine::new(fs, 2, &settings)
                .with_exposure_store(store.clone())
                .with_history_feed(feed);
            let mut designer = InlineDesigner::new(params.audition_chains());
            let mut left: Vec<f32> = (0..block).map(|_| (0.3 * rng.normal()) as f32).collect();
            let mut right = left.clone();
            let rounds = (24_000 / block).max(4);
            for round in 0..rounds {
                settings.generator = match round % 3 {
                    0 => None,
                    1 => Some(PinkBand::Full),
                    _ => Some(PinkBand::Mid),
                };
                // The calibration tone, on and off and at another frequency, also allocates
                // nothing.
                settings.tone = match round % 4 {
                    1 => Some(ToneSettings {
                        hz: 400.0,
                        dbfs: -20.0,
                    }),
                    2 => Some(ToneSettings {
                        hz: 60.0,
                        dbfs: -6.0,
                    }),
                    _ => None,
                };
                if round == 2 {
                    store.restore(&ExposureTotals {
                        seconds: 10.0,
                        ..ExposureTotals::default()
                    });
                }
                if round == 3 {
                    store.reset(1.0);
                    receiver.request_reset_all();
                }
                // The transport stops and starts, so the history's integration is held and
                // released.
                settings.playing = Some(round % 5 != 4);
                settings.pause_when_stopped = true;
                let channels: &mut [&mut [f32]] = &mut [&mut left, &mut right];
                nice_assert_no_alloc::assert_no_alloc(|| {
                    engine.process_with(channels, &settings, &mut sender, &mut designer);
                });
                designer.run_pending();
                follower.follow();
            }
            assert!(engine.exposure_totals().seconds > 0.0, "the SPL meter ran");
            // Where 0.2 s or more followed the reset, its history has points.
            if ((rounds - 3) * block) as f32 >= 0.2 * fs {
                let mut points = Vec::new();
                receiver.history().read_words_from(0, &mut points);
                assert!(!points.is_empty(), "the history thread made points");
            }
        }
    }
}
