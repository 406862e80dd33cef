//! What the CLAP host tests share: a minimal clack-host host and the path of the built bundle.

use std::ffi::CStr;
use std::path::PathBuf;

use clack_extensions::gui::{GuiSize, HostGui, HostGuiImpl};
use clack_extensions::params::{ParamInfoBuffer, PluginParams};
use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::*;

pub const SAMPLE_RATE_HZ: f64 = 48_000.0;
pub const BLOCK: usize = 256;
pub const PLUGIN_ID: &CStr = c"audio.earstage.monitor";

pub struct Shared;

impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

impl HostGuiImpl for Shared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        // Real hosts that show editors offer the gui extension; nice-plug relies on it.
        builder.register::<HostGui>();
    }
}

pub fn bundle_path() -> PathBuf {
    let dir = std::env::var_os("EARSTAGE_BUNDLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bundled"));
    let path = dir.join("Earstage.clap");
    assert!(
        path.exists(),
        "{} does not exist: run `cargo xtask bundle earstage --release` (or `cargo xtask test`)",
        path.display()
    );
    path
}

/// CLAP hosts call a plugin's main-thread functions from one thread; the test harness runs tests
/// on several. Every test holds this lock while it talks to the plugin, so that only one thread
/// plays "main thread" at a time.
pub fn one_host_thread() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A new instance of Earstage from the bundle, and the entry it came from (which must outlive it).
pub fn instantiate() -> (PluginInstance<TestHost>, PluginEntry) {
    // SAFETY: the bundle is our own plugin, built from this workspace.
    let entry = unsafe { PluginEntry::load(bundle_path()) }.expect("load Earstage.clap");
    let host = HostInfo::new(
        "earstage-tests",
        "Earstage",
        "https://earstage.audio",
        "0.1",
    )
    .expect("host info");
    let instance = PluginInstance::<TestHost>::new(|_| Shared, |_| (), &entry, PLUGIN_ID, &host)
        .expect("instantiate Earstage");
    (instance, entry)
}

/// Activate `instance`, push `input` (one Vec per channel) through it in blocks of [`BLOCK`] at
/// [`SAMPLE_RATE_HZ`], deactivate; returns the output. `first_block_params` (CLAP id, normalized
/// value) go with the first block.
pub fn process(
    instance: &mut PluginInstance<TestHost>,
    input: &[Vec<f32>],
    first_block_params: &[(ClapId, f64)],
) -> Vec<Vec<f32>> {
    process_paced(instance, input, first_block_params, false)
}

/// [`process`], and with `real_time` no faster than real time (a block's duration per block), as
/// a host playing a session does: work the plugin hands to its background thread then arrives
/// while the audio runs.
pub fn process_paced(
    instance: &mut PluginInstance<TestHost>,
    input: &[Vec<f32>],
    first_block_params: &[(ClapId, f64)],
    real_time: bool,
) -> Vec<Vec<f32>> {
    process_with(
        instance,
        input,
        first_block_params,
        real_time,
        SAMPLE_RATE_HZ,
        BLOCK,
    )
}

/// [`process_paced`] at `sample_rate_hz` in blocks of `block` (also the host's maximum).
pub fn process_with(
    instance: &mut PluginInstance<TestHost>,
    input: &[Vec<f32>],
    first_block_params: &[(ClapId, f64)],
    real_time: bool,
    sample_rate_hz: f64,
    block: usize,
) -> Vec<Vec<f32>> {
    let channels = input.len();
    let len = input[0].len();
    let config = PluginAudioConfiguration {
        sample_rate: sample_rate_hz,
        min_frames_count: 1,
        max_frames_count: block as u32,
    };
    let processor = instance.activate(|_, _| (), config).expect("activate");
    let mut processor = processor.start_processing().expect("start processing");
    let mut output = vec![vec![0.0f32; len]; channels];
    let param_events: Vec<ParamValueEvent> = first_block_params
        .iter()
        .map(|&(id, value)| ParamValueEvent::new(0, id, Pckn::match_all(), value))
        .collect();
    for start in (0..len).step_by(block) {
        let end = (start + block).min(len);
        let events: &[ParamValueEvent] = if start == 0 { &param_events } else { &[] };
        let inputs: Vec<&[f32]> = input.iter().map(|c| &c[start..end]).collect();
        let out_blocks = play_block(&mut processor, &inputs, events);
        for (out, block) in output.iter_mut().zip(&out_blocks) {
            out[start..end].copy_from_slice(block);
        }
        if real_time {
            std::thread::sleep(std::time::Duration::from_secs_f64(
                (end - start) as f64 / sample_rate_hz,
            ));
        }
    }
    let stopped = processor.stop_processing();
    instance.deactivate(stopped);
    output
}

/// One block through a started processor: `input` (one slice per channel) with `events`;
/// returns the output.
pub fn play_block(
    processor: &mut StartedPluginAudioProcessor<TestHost>,
    input: &[&[f32]],
    events: &[ParamValueEvent],
) -> Vec<Vec<f32>> {
    let channels = input.len();
    let len = input[0].len();
    let mut input_ports = AudioPorts::with_capacity(channels, 1);
    let mut output_ports = AudioPorts::with_capacity(channels, 1);
    let mut output_events = EventBuffer::new();
    let mut in_blocks: Vec<Vec<f32>> = input.iter().map(|c| c.to_vec()).collect();
    let mut out_blocks = vec![vec![0.0f32; len]; channels];
    let input_events = InputEvents::from_buffer(&events);
    let mut out_events = OutputEvents::from_buffer(&mut output_events);
    let inputs = input_ports.with_input_buffers([AudioPortBuffer {
        latency: 0,
        channels: AudioPortBufferType::f32_input_only(
            in_blocks
                .iter_mut()
                .map(|b| InputChannel::variable(b.as_mut_slice())),
        ),
    }]);
    let mut outputs = output_ports.with_output_buffers([AudioPortBuffer {
        latency: 0,
        channels: AudioPortBufferType::f32_output_only(
            out_blocks.iter_mut().map(|b| b.as_mut_slice()),
        ),
    }]);
    processor
        .process(
            &inputs,
            &mut outputs,
            &input_events,
            &mut out_events,
            None,
            None,
        )
        .expect("process");
    out_blocks
}

/// The host's value for variant `index` of the stepped parameter `name`: CLAP carries a stepped
/// parameter's plain value, its step between the `min_value` and `max_value` it reports (for an
/// enum, the variant's index), not a normalized one.
pub fn variant(instance: &mut PluginInstance<TestHost>, name: &str, index: usize) -> (ClapId, f64) {
    let (id, min, max, _) = param(instance, name);
    let value = min + index as f64;
    assert!(
        value <= max,
        "{name} has no variant {index} (steps {min} to {max})"
    );
    (id, value)
}

/// The CLAP id of the parameter with this display name, and its (min, max, default) as the host
/// sees them (nice-plug exposes normalized values, 0 to 1).
pub fn param(instance: &mut PluginInstance<TestHost>, name: &str) -> (ClapId, f64, f64, f64) {
    let handle = instance.plugin_handle();
    let params: PluginParams = handle.get_extension().expect("params extension");
    let mut buffer = ParamInfoBuffer::new();
    (0..params.count(&handle))
        .filter_map(|i| {
            params.get_info(&handle, i, &mut buffer).map(|info| {
                (
                    info.name.to_vec(),
                    (info.id, info.min_value, info.max_value, info.default_value),
                )
            })
        })
        .find(|(n, _)| n == name.as_bytes())
        .map(|(_, p)| p)
        .unwrap_or_else(|| panic!("no parameter named {name:?}"))
}
