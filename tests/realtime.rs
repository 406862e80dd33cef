//! The audio path never allocates: `Engine::process` (what the plugin's `process()` calls) under
//! nice-plug's allocation checker, for block sizes 1 to 8192 at 44.1 to 192 kHz, with the meters
//! refining peaks, logging overs and answering reset requests.

mod support;

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
