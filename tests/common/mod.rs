//! What the CLAP host tests share: a minimal clack-host host and the path of the built bundle.

#![allow(dead_code)] // each test target uses its own part of this module

use std::ffi::CStr;
use std::path::PathBuf;

use clack_extensions::gui::{GuiSize, HostGui, HostGuiImpl};
use clack_host::prelude::*;

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
