//! The listener's weekly record as the built `Earstage.clap` keeps it in a real CLAP host
//! (clack-host): two instances playing at once count as one pair of ears, and what they deliver
//! lands in the user's data folder (here a temporary `XDG_DATA_HOME`). Run by `cargo xtask test`
//! after bundling (`--ignored`), alone in its process: it sets the data folder for the plugin.

use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::state::PluginState;
use clack_host::prelude::*;

mod support;
use support::host::{self, SAMPLE_RATE_HZ, TestHost};

use earstage::dsp::spl::exposure::ExposureTotals;
use earstage::model::week::{SUSTAINED_LISTENING_S, weekly_percent};
use earstage::offline::week::WeekStore;

fn select_stereo(instance: &mut PluginInstance<TestHost>) {
    let handle = instance.plugin_handle();
    let configs: PluginAudioPortsConfig = handle.get_extension().expect("audio-ports-config");
    let mut buffer = AudioPortsConfigBuffer::new();
    let id = (0..configs.count(&handle))
        .filter_map(|i| {
            let config = configs.get(&handle, i, &mut buffer)?;
            (config.main_output?.channel_count == 2).then_some(config.id)
        })
        .next()
        .expect("a stereo configuration");
    configs.select(&handle, id).expect("select stereo");
}

/// The project's own exposure record, from the instance's saved state.
fn project_exposure(instance: &mut PluginInstance<TestHost>) -> ExposureTotals {
    let handle = instance.plugin_handle();
    let state: PluginState = handle.get_extension().expect("state extension");
    let mut bytes = Vec::new();
    state.save(&handle, &mut bytes).expect("save state");
    let (length, json) = bytes.split_at(8);
    let length = u64::from_le_bytes(length.try_into().unwrap()) as usize;
    let json: serde_json::Value = serde_json::from_slice(&json[..length]).unwrap();
    serde_json::from_str(json["fields"]["exposure"].as_str().unwrap()).unwrap()
}

fn sine(amplitude: f32, len: usize) -> Vec<f32> {
    (0..len)
        .map(|n| {
            amplitude * (std::f32::consts::TAU * 1000.0 * n as f32 / SAMPLE_RATE_HZ as f32).sin()
        })
        .collect()
}

/// Two instances play at once, paced at real time, one louder than the other (−14 and −20 dBFS);
/// when they close, the record holds each ear's louder instance, not the sum: the week's dose is
/// the louder instance's own project figure. A third instance's data folder is the same
/// (every instance shares the user's record).
#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn two_instances_count_once() {
    let _host = host::one_host_thread();
    let data = support::TempDir::new("listener-host");
    // SAFETY: this test is alone in its process, and no other thread reads the environment yet.
    unsafe { std::env::set_var("XDG_DATA_HOME", &*data) };
    let (mut loud, _loud_entry) = host::instantiate();
    let (mut quiet, _quiet_entry) = host::instantiate();
    select_stereo(&mut loud);
    select_stereo(&mut quiet);
    // Longer than the stretch an instance must play before it books (SUSTAINED_LISTENING_S),
    // with time for the rig's filters to be designed (nothing is metered before) and for the
    // booking thread's looks, a second apart, to fall where they will.
    let len = (SUSTAINED_LISTENING_S + 3.0) as usize * SAMPLE_RATE_HZ as usize;
    let signals = [sine(0.2, len), sine(0.1, len)];
    let config = PluginAudioConfiguration {
        sample_rate: SAMPLE_RATE_HZ,
        min_frames_count: 1,
        max_frames_count: host::BLOCK as u32,
    };
    let mut processors: Vec<_> = [&mut loud, &mut quiet]
        .into_iter()
        .map(|i| {
            i.activate(|_, _| (), config)
                .expect("activate")
                .start_processing()
                .expect("start")
        })
        .collect();
    for start in (0..len).step_by(host::BLOCK) {
        let end = (start + host::BLOCK).min(len);
        for (p, x) in processors.iter_mut().zip(&signals) {
            host::play_block(p, &[&x[start..end], &x[start..end]], &[]);
        }
        std::thread::sleep(std::time::Duration::from_secs_f64(
            (end - start) as f64 / SAMPLE_RATE_HZ,
        ));
    }
    let mut processors = processors.into_iter();
    for instance in [&mut loud, &mut quiet] {
        let stopped = processors.next().unwrap().stop_processing();
        instance.deactivate(stopped);
    }
    let loud_record = project_exposure(&mut loud);
    let quiet_record = project_exposure(&mut quiet);
    assert!(loud_record.ears[0].diffuse_pa2s > 3.0 * quiet_record.ears[0].diffuse_pa2s);
    // Closing the instances books their last seconds.
    drop((loud, quiet));
    let store = WeekStore::at(data.join("earstage").join("exposure"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let (week, said) = store.week(now).expect("the record reads");
    assert!(said.is_empty(), "{said:?}");
    for ear in 0..2 {
        let want = weekly_percent(loud_record.ears[ear].diffuse_pa2s);
        let sum = want + weekly_percent(quiet_record.ears[ear].diffuse_pa2s);
        let got = week.weekly_percent[ear];
        assert!(
            (got / want - 1.0).abs() < 1e-6,
            "ear {ear}: the record has {got:e} %, the louder instance {want:e} % (the sum would be {sum:e} %)"
        );
    }
    // Each minute takes the longer of the two; their designs may have arrived at other moments.
    let longer = loud_record.seconds.max(quiet_record.seconds);
    assert!(
        week.heard_s >= loud_record.seconds - 1e-6 && week.heard_s <= longer + 1e-6,
        "{week:?}"
    );
}
