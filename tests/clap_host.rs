//! The built `Earstage.clap`, loaded by a real CLAP host (clack-host), with audio pushed through
//! it. The bundle comes from `cargo xtask bundle`, so these tests are `#[ignore]`d in a plain
//! `cargo test` and run by `cargo xtask test` after bundling (with `--ignored`).

use std::ffi::CStr;

use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::latency::PluginLatency;
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_extensions::state::PluginState;
use clack_host::prelude::*;

mod support;
use host::{PLUGIN_ID, TestHost, bundle_path};
use support::host;

use host::SAMPLE_RATE_HZ;

/// One loaded plugin instance; the entry must outlive it.
struct Loaded {
    instance: PluginInstance<TestHost>,
    _entry: PluginEntry,
}

impl Loaded {
    fn new() -> Self {
        let (instance, entry) = host::instantiate();
        Self {
            instance,
            _entry: entry,
        }
    }

    /// Choose the audio ports configuration with `channels` main channels (before activation).
    fn select_channels(&mut self, channels: u32) {
        let handle = self.instance.plugin_handle();
        let configs: PluginAudioPortsConfig = handle
            .get_extension()
            .expect("Earstage offers audio-ports-config");
        let mut buffer = AudioPortsConfigBuffer::new();
        let id = (0..configs.count(&handle))
            .filter_map(|i| {
                let config = configs.get(&handle, i, &mut buffer)?;
                let main = config.main_output?;
                (main.channel_count == channels).then_some(config.id)
            })
            .next()
            .unwrap_or_else(|| panic!("no audio ports configuration with {channels} channels"));
        configs.select(&handle, id).expect("select configuration");
    }

    /// The CLAP id of the parameter with this display name, and its (min, max, default).
    fn param(&mut self, name: &str) -> (ClapId, f64, f64, f64) {
        host::param(&mut self.instance, name)
    }

    fn param_value(&mut self, id: ClapId) -> f64 {
        let handle = self.instance.plugin_handle();
        let params: PluginParams = handle.get_extension().expect("params extension");
        params.get_value(&handle, id).expect("parameter value")
    }

    /// The plugin's own text for the parameter's current value.
    fn param_text(&mut self, id: ClapId) -> String {
        let value = self.param_value(id);
        let handle = self.instance.plugin_handle();
        let params: PluginParams = handle.get_extension().expect("params extension");
        let mut buffer = [0u8; 64];
        let text = params
            .value_to_text(&handle, id, value, &mut buffer)
            .expect("value to text");
        String::from_utf8_lossy(text)
            .trim_end_matches(char::from(0))
            .to_owned()
    }

    fn latency_samples(&mut self) -> u32 {
        let handle = self.instance.plugin_handle();
        let latency: PluginLatency = handle.get_extension().expect("latency extension");
        latency.get(&handle)
    }

    fn save_state(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let state: PluginState = handle.get_extension().expect("state extension");
        let mut bytes = Vec::new();
        state.save(&handle, &mut bytes).expect("save state");
        bytes
    }

    fn load_state(&mut self, bytes: &[u8]) {
        assert!(self.try_load_state(bytes), "load state");
    }

    /// Whether the plugin accepted the state.
    fn try_load_state(&mut self, bytes: &[u8]) -> bool {
        let handle = self.instance.plugin_handle();
        let state: PluginState = handle.get_extension().expect("state extension");
        state.load(&handle, &mut &bytes[..]).is_ok()
    }

    /// Activate, push `input` (one Vec per channel) through in blocks, deactivate. The parameter
    /// events are sent with the first block.
    fn process(
        &mut self,
        input: &[Vec<f32>],
        first_block_params: &[(ClapId, f64)],
    ) -> Vec<Vec<f32>> {
        host::process(&mut self.instance, input, first_block_params)
    }
}

fn sine(freq_hz: f64, amplitude: f64, phase: f64, len: usize) -> Vec<f32> {
    (0..len)
        .map(|n| {
            (amplitude
                * (2.0 * std::f64::consts::PI * freq_hz * n as f64 / SAMPLE_RATE_HZ + phase).sin())
                as f32
        })
        .collect()
}

/// The trim's range, -24 to +12 dB, mapped linearly onto the host's 0 to 1.
fn trim_normalized(db: f64) -> f64 {
    (db + 24.0) / 36.0
}

fn assert_bit_exact(output: &[Vec<f32>], input: &[Vec<f32>]) {
    for (ch, (out, inp)) in output.iter().zip(input).enumerate() {
        for (n, (o, i)) in out.iter().zip(inp).enumerate() {
            assert_eq!(
                o.to_bits(),
                i.to_bits(),
                "channel {ch}, sample {n}: {o} != {i}"
            );
        }
    }
}

#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn descriptor_names_the_plugin_and_its_features() {
    let _host = host::one_host_thread();
    let entry = unsafe { PluginEntry::load(bundle_path()) }.expect("load Earstage.clap");
    let factory = entry.get_plugin_factory().expect("plugin factory");
    let descriptor = factory
        .plugin_descriptors()
        .find(|d| d.id() == Some(PLUGIN_ID))
        .expect("Earstage's descriptor");
    assert_eq!(
        descriptor.name().map(CStr::to_bytes),
        Some(&b"Earstage"[..])
    );
    let features: Vec<&[u8]> = descriptor.features().map(CStr::to_bytes).collect();
    for wanted in [
        &b"audio-effect"[..],
        b"analyzer",
        b"utility",
        b"stereo",
        b"mono",
    ] {
        assert!(
            features.contains(&wanted),
            "feature {:?} missing from {features:?}",
            String::from_utf8_lossy(wanted)
        );
    }
}

#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn stereo_sine_passes_through_bit_exact_with_zero_latency() {
    let _host = host::one_host_thread();
    let mut plugin = Loaded::new();
    plugin.select_channels(2);
    let input = vec![sine(997.0, 0.7, 0.0, 9_600), sine(1_499.0, 0.5, 1.0, 9_600)];
    let output = plugin.process(&input, &[]);
    assert_bit_exact(&output, &input);
    assert_eq!(plugin.latency_samples(), 0);
}

#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn mono_sine_passes_through_bit_exact() {
    let _host = host::one_host_thread();
    let mut plugin = Loaded::new();
    plugin.select_channels(1);
    let input = vec![sine(440.0, 0.9, 0.3, 9_600)];
    let output = plugin.process(&input, &[]);
    assert_bit_exact(&output, &input);
}

#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn trim_at_minus_6_db_scales_by_the_exact_gain() {
    let _host = host::one_host_thread();
    let mut plugin = Loaded::new();
    plugin.select_channels(2);
    let (trim, min, max, default) = plugin.param("Output Trim");
    assert_eq!((min, max), (0.0, 1.0));
    assert!((default - trim_normalized(0.0)).abs() < 1e-6);
    let input = vec![sine(997.0, 0.7, 0.0, 9_600), sine(250.0, 0.5, 0.5, 9_600)];
    let output = plugin.process(&input, &[(trim, trim_normalized(-6.0))]);
    let gain = 10f64.powf(-6.0 / 20.0);
    // After the 20 ms ramp (960 samples at 48 kHz) the gain is exact.
    for (out, inp) in output.iter().zip(&input) {
        for (n, (&o, &i)) in out.iter().zip(inp).enumerate().skip(1_000) {
            let expected = f64::from(i) * gain;
            assert!(
                (f64::from(o) - expected).abs() <= 1e-6,
                "sample {n}: {o} vs {expected}"
            );
        }
    }
    assert_eq!(plugin.param_value(trim), trim_normalized(-6.0));
    assert_eq!(plugin.param_text(trim), "-6.0 dB");
}

#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn state_round_trips_into_a_new_instance() {
    let _host = host::one_host_thread();
    let mut first = Loaded::new();
    let (trim, ..) = first.param("Output Trim");
    let input = vec![sine(997.0, 0.5, 0.0, 2_048), sine(997.0, 0.5, 0.0, 2_048)];
    first.process(&input, &[(trim, trim_normalized(-3.5))]);
    let saved = first.save_state();

    let mut second = Loaded::new();
    assert_eq!(second.param_text(trim), "0.0 dB");
    second.load_state(&saved);
    assert_eq!(second.param_text(trim), "-3.5 dB");
    // The restored trim is applied from the first sample: no ramp from 0 dB.
    let output = second.process(&input, &[]);
    let gain = 10f64.powf(-3.5 / 20.0);
    for (&o, &i) in output[0].iter().zip(&input[0]) {
        assert!((f64::from(o) - f64::from(i) * gain).abs() <= 1e-6);
    }
}

/// Audition A in the real host: requests go to the plugin's background thread, the designs come
/// back while audio runs (paced at real time), and once the glide is done the host's output is
/// what the engine gives with the same designs made up front (the filter's state does not depend
/// on its weights, so the two agree sample for sample). Then the bypass: the host's bypass
/// parameter, bit-exact after its crossfade.
#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn audition_plays_the_engines_filter_and_bypass_is_bit_exact() {
    use earstage::dsp::EngineSettings;
    use earstage::dsp::audition::Selection;
    use earstage::offline::engine::OfflineEngine;
    use earstage::params::EarstageParams;

    let _host = host::one_host_thread();
    let mut plugin = Loaded::new();
    plugin.select_channels(2);
    let listen_a = host::variant(&mut plugin.instance, "Listen", 1);
    let len = (0.6 * SAMPLE_RATE_HZ) as usize;
    let input = vec![sine(997.0, 0.5, 0.0, len), sine(5_000.0, 0.3, 1.0, len)];
    let output = host::process_paced(&mut plugin.instance, &input, &[listen_a], true);
    // The host reads back the variant it set: the value went in as CLAP means it.
    assert_eq!(plugin.param_value(listen_a.0), listen_a.1);

    let params = EarstageParams::default();
    let mut audition = params.audition_settings();
    audition.selection = Selection::A;
    let settings = EngineSettings {
        audition,
        ..EngineSettings::default()
    };
    let mut engine = OfflineEngine::new(SAMPLE_RATE_HZ, 2, settings, params.audition_chains());
    let mut expected = input.clone();
    {
        let [left, right] = expected.as_mut_slice() else {
            unreachable!()
        };
        engine.process(&mut [left.as_mut_slice(), right.as_mut_slice()], &mut ());
    }
    let settled = (0.3 * SAMPLE_RATE_HZ) as usize;
    for ch in 0..2 {
        assert!(
            output[ch][settled..]
                .iter()
                .zip(&input[ch][settled..])
                .any(|(o, i)| o != i),
            "audition A changed nothing on channel {ch}"
        );
        for n in settled..len {
            let (got, want) = (f64::from(output[ch][n]), f64::from(expected[ch][n]));
            assert!(
                (got - want).abs() <= 1e-6,
                "channel {ch}, sample {n}: host {got} vs engine {want}"
            );
        }
    }

    // The bypass parameter is the host's bypass, and bypassed the feed passes bit for bit.
    let handle = plugin.instance.plugin_handle();
    let params_ext: PluginParams = handle.get_extension().expect("params extension");
    let mut buffer = ParamInfoBuffer::new();
    let bypass = (0..params_ext.count(&handle))
        .filter_map(|i| {
            params_ext
                .get_info(&handle, i, &mut buffer)
                .map(|info| (info.id, info.flags))
        })
        .find(|(_, flags)| flags.contains(clack_extensions::params::ParamInfoFlags::IS_BYPASS))
        .map(|(id, _)| id)
        .expect("a parameter flagged as the bypass");
    let bypassed = plugin.process(&input, &[listen_a, (bypass, 1.0)]);
    let after_fade = 1_000;
    for ch in 0..2 {
        assert!(
            bypassed[ch][after_fade..]
                .iter()
                .zip(&input[ch][after_fade..])
                .all(|(o, i)| o.to_bits() == i.to_bits()),
            "bypass is not bit-exact on channel {ch}"
        );
    }
}

/// The exposure record inside a saved state: nice-plug's CLAP state is the JSON's length (u64,
/// little endian) then the JSON, whose persisted fields are JSON strings.
fn exposure_in(state: &[u8]) -> earstage::dsp::spl::exposure::ExposureTotals {
    let (length, json) = state.split_at(8);
    let length = u64::from_le_bytes(length.try_into().unwrap()) as usize;
    let json: serde_json::Value =
        serde_json::from_slice(&json[..length]).expect("the state is JSON");
    let field = json["fields"]["exposure"]
        .as_str()
        .expect("the state has an exposure field");
    serde_json::from_str(field).expect("the exposure field is a record")
}

/// The dose survives closing and reopening the project: a second of a −20 dBFS 1 kHz sine through
/// the real host (paced at real time, so the rig's filters come from the plugin's background
/// thread) is in the saved state at the closed-form level; a new instance that loads it saves the
/// same record before any audio, and after more audio has measured on from it, not from zero.
#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn exposure_survives_save_and_load() {
    let _host = host::one_host_thread();
    let mut first = Loaded::new();
    first.select_channels(2);
    let len = SAMPLE_RATE_HZ as usize;
    let input = vec![sine(1000.0, 0.1, 0.0, len), sine(1000.0, 0.1, 0.0, len)];
    host::process_paced(&mut first.instance, &input, &[], true);
    let saved = first.save_state();
    let record = exposure_in(&saved);
    assert!(
        record.seconds > 0.5 && record.seconds <= 1.0,
        "{}",
        record.seconds
    );
    let rig = earstage::persist::default_chain();
    let expected = rig.spl_at_full_scale_db() - 20.0;
    for ear in 0..2 {
        // 0.1 dB: the onset of the filters is inside this short measurement.
        assert!(
            (record.laeq_db(ear) - expected).abs() < 0.1,
            "ear {ear}: {} vs {expected}",
            record.laeq_db(ear)
        );
        assert!(record.ears[ear].niosh_percent > 0.0);
    }

    let mut second = Loaded::new();
    second.select_channels(2);
    second.load_state(&saved);
    assert_eq!(exposure_in(&second.save_state()), record);
    host::process_paced(&mut second.instance, &input, &[], true);
    let continued = exposure_in(&second.save_state());
    assert!(
        continued.seconds > record.seconds + 0.5,
        "{} after {}",
        continued.seconds,
        record.seconds
    );
    assert!(continued.ears[0].niosh_percent > record.ears[0].niosh_percent);
}

/// nice-plug's CLAP state: the JSON's length (u64, little-endian), then the JSON.
fn clap_state(json: &[u8]) -> Vec<u8> {
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json);
    bytes
}

/// The JSON of a saved CLAP state.
fn state_json(state: &[u8]) -> nice_plug::plugin::PluginState {
    let (length, json) = state.split_at(8);
    let length = u64::from_le_bytes(length.try_into().unwrap()) as usize;
    serde_json::from_slice(&json[..length]).expect("the saved state is nice-plug's JSON")
}

/// The load report inside a saved state.
fn load_report(state: &nice_plug::plugin::PluginState) -> Vec<String> {
    serde_json::from_str(&state.fields[earstage::persist::REPORT_KEY]).expect("a load report")
}

/// Earstage 0.1.0's saved state (format 0, checked in) loads through the host: every value comes
/// back, nothing is reported, and the state saved afterwards is the current format.
#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn format_0_state_loads_through_the_host() {
    let _host = host::one_host_thread();
    let fixture = include_bytes!("data/state/format-0.json");
    let mut plugin = Loaded::new();
    plugin.load_state(&clap_state(fixture));
    let (trim, ..) = plugin.param("Output Trim");
    assert_eq!(plugin.param_text(trim), "-3.5 dB");
    let saved = state_json(&plugin.save_state());
    let original: nice_plug::plugin::PluginState = serde_json::from_slice(fixture).unwrap();
    assert_eq!(load_report(&saved), Vec::<String>::new());
    for key in ["chain", "audition", "exposure"] {
        assert_eq!(saved.fields[key], original.fields[key], "{key}");
    }
    // Every saved value comes back; the parameters added since (format 2) at their defaults.
    for (id, value) in &original.params {
        assert_eq!(
            serde_json::to_string(&saved.params[id]).unwrap(),
            serde_json::to_string(value).unwrap(),
            "{id}"
        );
    }
    let added: Vec<&str> = saved
        .params
        .keys()
        .filter(|id| !original.params.contains_key(*id))
        .map(String::as_str)
        .collect();
    let mut expected: Vec<&str> = earstage::persist::PARAMS_ADDED
        .iter()
        .map(|(id, _)| *id)
        .collect();
    expected.sort_unstable();
    assert_eq!(added, expected);
    assert_eq!(
        saved.fields[earstage::persist::FORMAT_KEY],
        earstage::persist::FORMAT.to_string()
    );
}

/// 1,200 damaged states through the real host, into one instance: truncated, bit-flipped, with
/// bytes dropped or doubled, and with single values of the wrong type or out of range. None
/// crashes the plugin. A state the plugin refuses leaves it as it was; one it takes leaves it
/// whole (its next save needs no repair) and still playing clean audio; a damaged single value
/// is named in the report while the fixture's other values are kept.
#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn damaged_states_never_crash_and_keep_what_is_valid() {
    let _host = host::one_host_thread();
    let fixture: nice_plug::plugin::PluginState =
        serde_json::from_slice(include_bytes!("data/state/format-0.json")).unwrap();
    let text = serde_json::to_vec(&fixture).unwrap();
    let mut plugin = Loaded::new();
    let input = vec![sine(997.0, 0.5, 0.0, 512), sine(997.0, 0.5, 0.0, 512)];
    let mut rng = support::Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move |n: usize| (rng.next_u64() % n as u64) as usize;
    let (mut refused, mut taken) = (0, 0);
    for case in 0..1200 {
        plugin.load_state(&clap_state(&text));
        let before = plugin.save_state();
        let damaged: Vec<u8> = match case % 5 {
            0 => text[..next(text.len())].to_vec(),
            1 => {
                let mut bytes = text.clone();
                for _ in 0..1 + next(3) {
                    let at = next(bytes.len());
                    bytes[at] ^= 1 << next(8);
                }
                bytes
            }
            2 => {
                let mut bytes = text.clone();
                bytes.remove(next(text.len()));
                bytes
            }
            3 => {
                let mut bytes = text.clone();
                let at = next(bytes.len());
                bytes.insert(at, bytes[at]);
                bytes
            }
            _ => {
                let mut state = fixture.clone();
                let ids: Vec<String> = state.params.keys().cloned().collect();
                let id = &ids[next(ids.len())];
                let value = match next(3) {
                    0 => nice_plug::plugin::ParamValue::F32(1e30),
                    1 => nice_plug::plugin::ParamValue::String("nonsense".into()),
                    _ => nice_plug::plugin::ParamValue::I32(-7),
                };
                state.params.insert(id.clone(), value);
                serde_json::to_vec(&state).unwrap()
            }
        };
        if plugin.try_load_state(&clap_state(&damaged)) {
            taken += 1;
            let saved = plugin.save_state();
            let mut again = state_json(&saved);
            earstage::state::repair(&mut again);
            assert_eq!(load_report(&again), Vec::<String>::new(), "case {case}");
            if case % 5 == 4 {
                let report = load_report(&state_json(&saved));
                assert_eq!(report.len(), 1, "case {case}: {report:?}");
            }
        } else {
            refused += 1;
            assert_eq!(
                plugin.save_state(),
                before,
                "case {case}: a refused state changed it"
            );
        }
        if case % 50 == 0 {
            let output = plugin.process(&input, &[]);
            assert!(
                output.iter().flatten().all(|x| x.is_finite()),
                "case {case}"
            );
        }
    }
    eprintln!("1200 damaged states: {taken} taken (and repaired), {refused} refused");
    assert!(taken > 200 && refused > 200);
}

/// A slice of the hostile matrix through the real host: NaN, ±∞, 1e30 and subnormals at 44.1
/// and 192 kHz in blocks of 1, 511 and 4096 (the host's maximum), at default settings. The bad
/// samples come out as silence, everything else bit for bit (subnormals as zero), and nothing
/// non-finite or subnormal leaves the plugin.
#[test]
#[ignore = "needs target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn hostile_input_through_the_host() {
    let _host = host::one_host_thread();
    let mut plugin = Loaded::new();
    for fs in [44_100.0, 192_000.0] {
        for block in [1usize, 511, 4096] {
            let len = 8192;
            let input: Vec<Vec<f32>> = (0..2)
                .map(|c| {
                    (0..len)
                        .map(|i| match (i / 512 + c) % 6 {
                            1 if i % 3 == 0 => f32::NAN,
                            2 if i % 5 == 0 => f32::INFINITY,
                            3 if i % 7 == 0 => f32::NEG_INFINITY,
                            4 => 1e30 * ((i as f32) * 0.1).sin(),
                            5 => f32::from_bits(1 + i as u32) * if i % 2 == 0 { 1.0 } else { -1.0 },
                            _ => 0.5 * ((i as f32) * 0.13).sin(),
                        })
                        .collect()
                })
                .collect();
            let output = host::process_with(&mut plugin.instance, &input, &[], false, fs, block);
            for (c, (out, inp)) in output.iter().zip(&input).enumerate() {
                for (i, (&y, &x)) in out.iter().zip(inp).enumerate() {
                    let want = if x.is_finite() && !x.is_subnormal() {
                        x
                    } else {
                        0.0
                    };
                    assert_eq!(
                        y.abs().to_bits(),
                        want.abs().to_bits(),
                        "{fs} Hz, blocks of {block}, channel {c}, sample {i}: {x} → {y}"
                    );
                }
            }
        }
    }
}
