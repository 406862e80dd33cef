//! The editor of the built `Earstage.clap`, opened by a real CLAP host (clack-host) inside an X11
//! window, photographed, and checked for drawn text. Needs an X server (`cargo xtask test` starts
//! Xvfb for it) and the bundle, so it is `#[ignore]`d in a plain `cargo test`.

use std::time::{Duration, Instant};

use clack_extensions::gui::{GuiApiType, GuiConfiguration, PluginGui, Window};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, ImageFormat, WindowClass};

mod common;

/// Where the screenshot lands (for the docs and for a person to look at).
const SCREENSHOT: &str = "target/screenshots/editor.png";

#[test]
#[ignore = "needs an X server and target/bundled/Earstage.clap; run by `cargo xtask test`"]
fn editor_opens_embedded_and_draws_text() {
    let (display, screen_num) = x11rb::connect(None)
        .expect("no X server: set DISPLAY (cargo xtask test starts Xvfb when it is installed)");
    let screen = &display.setup().roots[screen_num];

    let _host = common::one_host_thread();
    let (mut instance, _entry) = common::instantiate();
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

    let parent = display.generate_id().unwrap();
    display
        .create_window(
            screen.root_depth,
            parent,
            screen.root,
            0,
            0,
            size.width as u16,
            size.height as u16,
            0,
            WindowClass::INPUT_OUTPUT,
            screen.root_visual,
            &CreateWindowAux::new().background_pixel(screen.white_pixel),
        )
        .unwrap();
    display.map_window(parent).unwrap();
    display.flush().unwrap();

    // SAFETY: `parent` stays alive until after `destroy`.
    unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent.into())) }
        .expect("embed the editor");
    gui.show(&handle).expect("show the editor");

    // Two seconds of a stereo tone with an inter-sample over, so the meters have something to show.
    let input = metered_signal();
    // Paced at real time, so the rig's SPL filters arrive from the plugin's background thread
    // and "In your ears" has readings in the screenshot.
    common::process_paced(&mut instance, &input, &[], true);
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

/// A 997 Hz tone at −18 dBFS in both channels with a 50 ms burst of fs/4 at 45° whose true peak
/// is +1 dBTP while its samples stay at −2 dBFS.
fn metered_signal() -> Vec<Vec<f32>> {
    let fs = common::SAMPLE_RATE_HZ;
    let x: Vec<f32> = (0..(2.0 * fs) as usize)
        .map(|n| {
            let t = n as f64 / fs;
            let tone = 10f64.powf(-18.0 / 20.0) * (2.0 * std::f64::consts::PI * 997.0 * t).sin();
            let burst = if (1.0..1.05).contains(&t) {
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
