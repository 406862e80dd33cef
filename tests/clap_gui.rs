//! The editor of the built `Earstage.clap`, opened by a real CLAP host (clack-host) inside an X11
//! window, photographed, and checked for drawn text. Needs an X server (`cargo xtask test` starts
//! Xvfb for it) and the bundle, so it is `#[ignore]`d in a plain `cargo test`.

use std::time::{Duration, Instant};

use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, ImageFormat, WindowClass};
use x11rb::wrapper::ConnectionExt as _;

mod support;
use support::host;

/// Where the screenshot lands (for the docs and for a person to look at).
const SCREENSHOT: &str = "target/screenshots/editor.png";

#[test]
#[ignore = "needs an X server and target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn editor_opens_embedded_and_draws_text() {
    let (display, screen_num) = x11rb::connect(None)
        .expect("no X server: set DISPLAY (cargo xtask test starts Xvfb when it is installed)");
    let screen = &display.setup().roots[screen_num];

    let _host = host::one_host_thread();
    let (mut instance, _entry) = host::instantiate();
    let handle = instance.plugin_handle();
    let gui: PluginGui = handle
        .get_extension()
        .expect("Earstage offers the gui extension");
    let x11 = GuiApiType(c"x11");
    assert!(gui.is_api_supported(
        &handle,
        GuiConfiguration {
            api_type: x11,
            is_floating: false
        }
    ));
    gui.create(
        &handle,
        GuiConfiguration {
            api_type: x11,
            is_floating: false,
        },
    )
    .expect("create the editor");
    let size = gui.get_size(&handle).expect("editor size");
    assert!(
        size.width >= 480 && size.height >= 300,
        "editor too small: {size:?}"
    );
    assert!(gui.can_resize(&handle), "the editor should be resizable");

    let parent = parent_window(
        &display,
        screen,
        (size.width as u16, size.height as u16),
        &CreateWindowAux::new().background_pixel(screen.white_pixel),
    );

    // SAFETY: `parent` stays alive until after `destroy`.
    unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent.into())) }
        .expect("embed the editor");
    gui.show(&handle).expect("show the editor");

    // Twelve seconds of a stereo tone stepping in level, with inter-sample overs, so the meters
    // and the loudness history have something to show, judged against EBU R 128 (the target's
    // second variant).
    let input = metered_signal();
    let target = host::variant(&mut instance, "Delivery Target", 1);
    // Paced at real time, so the rig's SPL filters arrive from the plugin's background thread
    // and "In your ears" has readings in the screenshot.
    host::process_paced(&mut instance, &input, &[target], true);
    let handle = instance.plugin_handle();

    // egui draws on its own thread; wait until the picture has settled with content on it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut pixels = Vec::new();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        let image = display
            .get_image(
                ImageFormat::Z_PIXMAP,
                parent,
                0,
                0,
                size.width as u16,
                size.height as u16,
                !0,
            )
            .unwrap()
            .reply()
            .unwrap();
        let settled = image.data == pixels;
        pixels = image.data;
        if settled && distinct_grey_levels(&pixels) > 1 {
            break;
        }
    }
    gui.hide(&handle).ok();
    gui.destroy(&handle);

    save_png(&pixels, size.width, size.height);
    // Anti-aliased text leaves many intermediate grey levels; a blank or box-only window has a few.
    let levels = distinct_grey_levels(&pixels);
    assert!(
        levels >= 24,
        "the editor shows only {levels} grey levels: no text was drawn (see {SCREENSHOT})"
    );
    // The title "Earstage" is drawn in light text at the top left, on a dark panel.
    let title_pixels = bright_pixels_in(&pixels, size.width, 0..120, 0..26);
    assert!(
        title_pixels >= 60,
        "no title text at the top left ({title_pixels} bright pixels; see {SCREENSHOT})"
    );
}

/// How many pixels in the rectangle are light (luminance above 120 of 255).
/// A mapped top-level window of `size` for the editor to embed in, known to the server (a round
/// trip, not only a flush: the plugin reparents over its own connection, and the server must
/// have created the parent before that request arrives).
fn parent_window(
    display: &x11rb::rust_connection::RustConnection,
    screen: &x11rb::protocol::xproto::Screen,
    (width, height): (u16, u16),
    aux: &CreateWindowAux,
) -> u32 {
    let parent = display.generate_id().unwrap();
    display
        .create_window(
            screen.root_depth,
            parent,
            screen.root,
            0,
            0,
            width,
            height,
            0,
            WindowClass::INPUT_OUTPUT,
            screen.root_visual,
            aux,
        )
        .unwrap();
    display.map_window(parent).unwrap();
    display.sync().unwrap();
    parent
}

fn bright_pixels_in(
    bgrx: &[u8],
    width: u32,
    xs: std::ops::Range<u32>,
    ys: std::ops::Range<u32>,
) -> usize {
    ys.flat_map(|y| xs.clone().map(move |x| ((y * width + x) * 4) as usize))
        .filter(|&i| luma(&bgrx[i..i + 4]) > 120)
        .count()
}

fn luma(px: &[u8]) -> u32 {
    (u32::from(px[2]) * 299 + u32::from(px[1]) * 587 + u32::from(px[0]) * 114) / 1000
}

/// A 997 Hz tone in both channels stepping every 3 s (−18, −30, −12, −22 dBFS), with 50 ms
/// bursts of fs/4 at 45° at 1 s and 7.5 s whose true peak is +1 dBTP while their samples stay
/// at −2 dBFS.
fn metered_signal() -> Vec<Vec<f32>> {
    let fs = host::SAMPLE_RATE_HZ;
    let levels_db = [-18.0, -30.0, -12.0, -22.0];
    let x: Vec<f32> = (0..(12.0 * fs) as usize)
        .map(|n| {
            let t = n as f64 / fs;
            let level = levels_db[((t / 3.0) as usize).min(3)];
            let tone = 10f64.powf(level / 20.0) * (2.0 * std::f64::consts::PI * 997.0 * t).sin();
            let burst = if (1.0..1.05).contains(&t) || (7.5..7.55).contains(&t) {
                10f64.powf(1.0 / 20.0)
                    * (std::f64::consts::PI / 2.0 * n as f64 + std::f64::consts::PI / 4.0).sin()
            } else {
                0.0
            };
            (tone + burst) as f32
        })
        .collect();
    vec![x.clone(), x]
}

/// BGRx pixels (the 24-bit TrueColor layout Xvfb uses) to luminance levels, counted.
fn distinct_grey_levels(bgrx: &[u8]) -> usize {
    let mut seen = [false; 256];
    for px in bgrx.chunks_exact(4) {
        seen[luma(px) as usize] = true;
    }
    seen.iter().filter(|&&s| s).count()
}

fn save_png(bgrx: &[u8], width: u32, height: u32) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(SCREENSHOT);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let rgb: Vec<u8> = bgrx
        .chunks_exact(4)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&rgb)
        .unwrap();
    println!("screenshot: {}", path.display());
}

/// The editor opened and closed 100 times while audio runs on another thread, and the state
/// saved every tenth time while processing: no crash, and no lost update. The audio thread moves
/// the trim every block; a save started after block k was processed holds block k's trim or a
/// later one.
#[test]
#[ignore = "needs an X server and target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn editor_opens_and_closes_100_times_while_audio_runs() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use clack_extensions::params::{ParamInfoBuffer, PluginParams};
    use clack_extensions::state::PluginState;
    use clack_host::events::event_types::ParamValueEvent;
    use clack_host::prelude::*;

    /// Trim values the audio thread cycles through (normalized), so a saved value names a block.
    const STEPS: usize = 97;

    let (display, screen_num) = x11rb::connect(None)
        .expect("no X server: set DISPLAY (cargo xtask test starts Xvfb when it is installed)");
    let screen = &display.setup().roots[screen_num];
    let _host = host::one_host_thread();
    let (mut instance, _entry) = host::instantiate();
    let trim = {
        let handle = instance.plugin_handle();
        let params: PluginParams = handle.get_extension().expect("params extension");
        let mut buffer = ParamInfoBuffer::new();
        let mut found = None;
        for i in 0..params.count(&handle) {
            if let Some(info) = params.get_info(&handle, i, &mut buffer)
                && info.name == b"Output Trim"
            {
                found = Some(info.id);
            }
        }
        found.expect("Output Trim")
    };

    let config = PluginAudioConfiguration {
        sample_rate: host::SAMPLE_RATE_HZ,
        min_frames_count: 1,
        max_frames_count: host::BLOCK as u32,
    };
    let processor = instance.activate(|_, _| (), config).expect("activate");
    let stop = Arc::new(AtomicBool::new(false));
    let processed = Arc::new(AtomicUsize::new(0));
    let audio = {
        let (stop, processed) = (stop.clone(), processed.clone());
        std::thread::spawn(move || {
            let mut processor = processor.start_processing().expect("start processing");
            let tone: Vec<f32> = (0..host::BLOCK)
                .map(|i| (0.5 * (i as f64 * 0.13).sin()) as f32)
                .collect();
            let mut block = 0usize;
            while !stop.load(Ordering::Acquire) {
                let value = (block % STEPS) as f64 / (STEPS - 1) as f64;
                let event = ParamValueEvent::new(0, trim, Pckn::match_all(), value);
                let out = host::play_block(&mut processor, &[&tone, &tone], &[event]);
                assert!(out.iter().flatten().all(|x| x.is_finite()), "block {block}");
                processed.store(block, Ordering::Release);
                block += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            processor.stop_processing()
        })
    };

    let handle = instance.plugin_handle();
    let gui: PluginGui = handle.get_extension().expect("gui extension");
    let state: PluginState = handle.get_extension().expect("state extension");
    let x11 = GuiConfiguration {
        api_type: GuiApiType(c"x11"),
        is_floating: false,
    };
    let parent = parent_window(&display, screen, (800, 600), &CreateWindowAux::new());
    let mut saves = 0;
    let rounds: usize = std::env::var("EARSTAGE_GUI_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100);
    for round in 0..rounds {
        gui.create(&handle, x11).expect("create the editor");
        // SAFETY: `parent` stays alive until after `destroy`.
        unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent.into())) }
            .expect("embed the editor");
        gui.show(&handle).expect("show the editor");
        std::thread::sleep(Duration::from_millis(30));
        if round % 10 == 0 {
            let before = processed.load(Ordering::Acquire);
            let mut bytes = Vec::new();
            state
                .save(&handle, &mut bytes)
                .expect("save while processing");
            let after = processed.load(Ordering::Acquire);
            let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
            let json: nice_plug::plugin::PluginState =
                serde_json::from_slice(&bytes[8..8 + length]).expect("the saved state is JSON");
            let nice_plug::plugin::ParamValue::F32(trim_db) = json.params["trim"] else {
                panic!("no trim in the saved state");
            };
            // Back to the block index (mod STEPS) from the plain value (−24…+12 dB).
            let step = ((f64::from(trim_db) + 24.0) / 36.0 * (STEPS - 1) as f64).round() as usize;
            let window: Vec<usize> = (before..=after + 1).map(|b| b % STEPS).collect();
            assert!(
                window.contains(&step),
                "round {round}: saved trim {trim_db} dB is block {step} (mod {STEPS}), processed \
                 {before}…{after}: an update was lost"
            );
            saves += 1;
        }
        gui.hide(&handle).ok();
        gui.destroy(&handle);
    }
    stop.store(true, Ordering::Release);
    let stopped = audio.join().expect("the audio thread");
    instance.deactivate(stopped);
    assert_eq!(saves, rounds.div_ceil(10));
    assert!(
        processed.load(Ordering::Acquire) > 100,
        "audio ran alongside"
    );
}
