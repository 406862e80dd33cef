//! nice-plug 0.4.2 with its teardown fix, made from the registry's own crate at build time.
//!
//! nice-plug's VST3 wrapper on Linux runs GUI notifications on one background worker shared by
//! every instance in the process (docs/reliability.md, "an abort when the last instance goes").
//! Two flaws there can abort the host: a task whose instance is already gone ends the worker for
//! good, after which the last instance's shutdown request fails and panics inside COM's `release`
//! (which cannot unwind); and when the last reference to an instance drops on the worker itself,
//! the worker joins itself and panics. Further edits keep the editor window's cell from being
//! borrowed twice at once (a panic on the worker, or inside COM), and make the edit controller
//! show at once what the host set while processing (upstream reads back the old value until
//! `process()` brings the change, which the VST3 validator's bypass test logs as an error). No
//! fixed release exists, so every `cargo xtask` command first makes
//! `target/cargo-xtask-patch/nice-plug-0.4.2`: the registry's crate, unpacked by cargo, copied
//! there, and the edits below applied. The root `Cargo.toml` points `[patch.crates-io]` at it.
//! Each edit checks that the text it replaces is there exactly once and fails naming the file
//! when a nice-plug update moved it. No nice-plug source is kept in this repository: only these
//! edits. When a fixed nice-plug is released, deleting this module, its call and the `[patch]`
//! entry is the whole migration.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, workspace_root};

/// The crate and version the edits are written against.
const CRATE: &str = "nice-plug";
const VERSION: &str = "0.4.2";

/// One textual edit of a file of the crate.
struct Edit {
    /// The file, relative to the crate's root.
    file: &'static str,
    /// The upstream text, which must occur exactly once.
    find: &'static str,
    replace: &'static str,
}

const EDITS: [Edit; 14] = [
    // A task whose instance has gone is skipped; the worker goes on serving the other instances
    // (upstream ends the worker here, for good).
    Edit {
        file: "src/event_loop/background_thread.rs",
        find: "                None => {
                    nice_trace!(
                        \"Received a new task but the executor is no longer alive, shutting down \\
                         worker\"
                    );
                    return;
                }",
        replace:
            "                // Patched by Earstage's xtask: skip a task whose instance has gone.
                None => {
                    nice_trace!(\"Received a task for an instance that is gone, skipping it\");
                }",
    },
    // The shutdown cannot panic: a worker that has already ended is not an error, and when the
    // last reference drops on the worker itself it is told to stop and left to return on its own
    // instead of joining itself.
    Edit {
        file: "src/event_loop/background_thread.rs",
        find: "        self.tasks_sender
            .send(Message::Shutdown)
            .expect(\"Failed while sending worker thread shutdown request\");
        self.join_handle
            .take()
            // Only possible if the WorkerThread got dropped twice, somehow?
            .expect(\"Missing Worker thread JoinHandle\")
            .join()
            .expect(\"Worker thread panicked\");",
        replace: "        // Patched by Earstage's xtask: a shutdown that cannot panic.
        let _ = self.tasks_sender.send(Message::Shutdown);
        if let Some(handle) = self.join_handle.take() {
            if handle.thread().id() != thread::current().id() {
                let _ = handle.join();
            }
        }",
    },
    // The controller shows what the host set at once, also while processing (docs/reliability.md,
    // "The bypass persistence ERROR lines"): upstream ignores `setParamNormalized` then, so
    // `getParamNormalized` reads back the old value until `process()` brings the change. The
    // value the host set is kept beside the audio side's value at that moment and shown until
    // the audio side moves (the change arrived, or another one did), processing stops, or a
    // state is loaded. The audio side still takes every change from `process()`, at its sample.
    Edit {
        file: "src/wrapper/vst3/inner.rs",
        find: "    pub is_processing: AtomicBool,\n",
        replace: "    pub is_processing: AtomicBool,
    /// Patched by Earstage's xtask: values `setParamNormalized` set while processing, by
    /// parameter hash, with the audio side's value then; touched by the controller's threads only.
    pub controller_values: Mutex<HashMap<u32, (f32, f32)>>,
",
    },
    Edit {
        file: "src/wrapper/vst3/inner.rs",
        find: "            is_processing: AtomicBool::new(false),\n",
        replace: "            is_processing: AtomicBool::new(false),
            controller_values: Mutex::new(HashMap::new()),
",
    },
    Edit {
        file: "src/wrapper/vst3/wrapper.rs",
        find: "    unsafe fn getParamNormalized(&self, id: ParamID) -> ParamValue {
        match self.inner.param_by_hash.get(&id) {
            Some(param_ptr) => unsafe { param_ptr.modulated_normalized_value() as f64 },",
        replace: "    unsafe fn getParamNormalized(&self, id: ParamID) -> ParamValue {
        match self.inner.param_by_hash.get(&id) {
            // Patched by Earstage's xtask: the value the host set while processing, until the
            // audio side moves.
            Some(param_ptr) => {
                let audio = unsafe { param_ptr.modulated_normalized_value() };
                let mut shown = self.inner.controller_values.lock();
                match shown.get(&id).copied() {
                    Some((value, audio_then))
                        if audio == audio_then
                            && self.inner.is_processing.load(Ordering::SeqCst) =>
                    {
                        value as f64
                    }
                    Some(_) => {
                        shown.remove(&id);
                        audio as f64
                    }
                    None => audio as f64,
                }
            }",
    },
    Edit {
        file: "src/wrapper/vst3/wrapper.rs",
        find: "        if self.inner.is_processing.load(Ordering::SeqCst) {
            return kResultOk;
        }
",
        replace: "        // Patched by Earstage's xtask: the controller keeps the value to show it at once.
        if self.inner.is_processing.load(Ordering::SeqCst) {
            let Some(param_ptr) = self.inner.param_by_hash.get(&id) else {
                return kInvalidArgument;
            };
            if !value.is_finite() {
                return kInvalidArgument;
            }
            let shown =
                unsafe { param_ptr.preview_normalized(param_ptr.preview_plain(value as f32)) };
            let audio = unsafe { param_ptr.modulated_normalized_value() };
            self.inner.controller_values.lock().insert(id, (shown, audio));
            return kResultOk;
        }
        self.inner.controller_values.lock().remove(&id);
",
    },
    Edit {
        file: "src/wrapper/vst3/wrapper.rs",
        find: "        // We need to know how large the state is before we can read it.",
        replace: "        // Patched by Earstage's xtask: a loaded state is what both sides show.
        self.inner.controller_values.lock().clear();

        // We need to know how large the state is before we can read it.",
    },
    Edit {
        file: "src/wrapper/vst3/wrapper.rs",
        find: "        // We have a single file component, so we don't need to do anything here
        kResultOk",
        replace: "        // We have a single file component, so we don't need to do anything here
        // Patched by Earstage's xtask: except forget the values set while processing.
        self.inner.controller_values.lock().clear();
        kResultOk",
    },
    // The editor window's cell is never borrowed twice at once. The shared worker reads it to
    // pass on a notification while the host's thread may be attaching or removing the window
    // (which holds it mutably for as long as that takes): upstream's `borrow()` then panics on
    // the worker ("already mutably borrowed", seen under pluginval's "Background thread state"),
    // and the host thread's `borrow_mut()` would panic inside COM if the worker held it. The
    // worker skips a notification it cannot read at once (the editor redraws from the
    // parameters anyway); the host's thread waits the moment the worker holds it.
    Edit {
        file: "src/wrapper/vst3/inner.rs",
        find: "                if let Some(editor_window) = self.editor_window.borrow().as_ref() {
                    editor_window.get().handle.state_changed();",
        replace: "                // Patched by Earstage's xtask: skipped while the window is being changed.
                if let Ok(window) = self.editor_window.try_borrow()
                    && let Some(editor_window) = window.as_ref()
                {
                    editor_window.get().handle.state_changed();",
    },
    Edit {
        file: "src/wrapper/vst3/inner.rs",
        find: "                if let Some(editor_window) = self.editor_window.borrow().as_ref() {
                    let param_id = &self.param_id_by_hash[&param_hash];",
        replace: "                // Patched by Earstage's xtask: skipped while the window is being changed.
                if let Ok(window) = self.editor_window.try_borrow()
                    && let Some(editor_window) = window.as_ref()
                {
                    let param_id = &self.param_id_by_hash[&param_hash];",
    },
    Edit {
        file: "src/wrapper/vst3/inner.rs",
        find: "                if let Some(editor_window) = self.editor_window.borrow().as_ref() {
                    let editor_window = editor_window.get();",
        replace: "                // Patched by Earstage's xtask: skipped while the window is being changed.
                if let Ok(window) = self.editor_window.try_borrow()
                    && let Some(editor_window) = window.as_ref()
                {
                    let editor_window = editor_window.get();",
    },
    Edit {
        file: "src/wrapper/vst3/view.rs",
        find: "        let mut window = inner.editor_window.borrow_mut();\n",
        replace: "        // Patched by Earstage's xtask: wait while the worker reads it.
        let mut window = loop {
            match inner.editor_window.try_borrow_mut() {
                Ok(window) => break window,
                Err(_) => std::thread::yield_now(),
            }
        };
",
    },
    Edit {
        file: "src/wrapper/vst3/view.rs",
        find: "        let mut editor_handle = inner.editor_window.borrow_mut();\n",
        replace: "        // Patched by Earstage's xtask: wait while the worker reads it.
        let mut editor_handle = loop {
            match inner.editor_window.try_borrow_mut() {
                Ok(window) => break window,
                Err(_) => std::thread::yield_now(),
            }
        };
",
    },
    // Marks the crate as patched, for the regression test and for anyone reading a backtrace.
    Edit {
        file: "src/event_loop/background_thread.rs",
        find: "//! This is essentially a slimmed down version of the `LinuxEventLoop`.\n",
        replace: "//! This is essentially a slimmed down version of the `LinuxEventLoop`.
//!
//! Patched by Earstage's xtask (its `patch` module): dead tasks are skipped and the shutdown
//! cannot panic.
",
    },
];

/// Where the patched crate is made (the root `Cargo.toml`'s `[patch.crates-io]` names it).
pub fn patched_dir() -> PathBuf {
    workspace_root()
        .join("target")
        .join("cargo-xtask-patch")
        .join(format!("{CRATE}-{VERSION}"))
}

/// What the patched crate was made from, so it is remade when the edits change.
fn fingerprint() -> String {
    let mut text = format!("{CRATE} {VERSION}\n");
    for edit in &EDITS {
        text.push_str(&format!("{}\n{}\n{}\n", edit.file, edit.find, edit.replace));
    }
    format!("{:016x}", fnv1a(text.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Makes the patched crate unless it is there and current; returns its folder.
pub fn ensure() -> Result<PathBuf> {
    let dir = patched_dir();
    let stamp = dir.join(".earstage-patch");
    let want = fingerprint();
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(want.as_str()) {
        return Ok(dir);
    }
    let pristine = pristine_source()?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    copy_tree(&pristine, &dir)?;
    for edit in &EDITS {
        apply(&dir, edit)?;
    }
    std::fs::write(&stamp, want).with_context(|| format!("writing {}", stamp.display()))?;
    println!(
        "patched {CRATE} {VERSION} (docs/development.md, \"The patched framework\") into {}",
        dir.display()
    );
    Ok(dir)
}

/// Applies one edit, refusing when the upstream text is not there exactly once.
fn apply(dir: &Path, edit: &Edit) -> Result<()> {
    let path = dir.join(edit.file);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let found = text.matches(edit.find).count();
    if found != 1 {
        bail!(
            "{}: the text Earstage's {CRATE} patch replaces is there {found} times, not once: \
             {CRATE} changed. Check whether the new release fixes the teardown abort \
             (docs/reliability.md) and delete the patch, or rewrite the edit in xtask/src/patch.rs",
            path.display()
        );
    }
    std::fs::write(&path, text.replacen(edit.find, edit.replace, 1))
        .with_context(|| format!("writing {}", path.display()))
}

/// The registry's unpacked crate: cargo resolves a one-dependency manifest (pinned to the
/// workspace's lock) and says where the crate's manifest is.
fn pristine_source() -> Result<PathBuf> {
    let fetch = workspace_root()
        .join("target")
        .join("cargo-xtask-patch")
        .join("fetch");
    std::fs::create_dir_all(fetch.join("src")).context("making the fetch folder")?;
    std::fs::write(
        fetch.join("Cargo.toml"),
        format!(
            "[package]\nname = \"earstage-fetch\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\n{CRATE} = {{ version = \"={VERSION}\", \
             default-features = false }}\n\n[workspace]\n"
        ),
    )?;
    std::fs::write(fetch.join("src").join("lib.rs"), "")?;
    let lock = workspace_root().join("Cargo.lock");
    if lock.exists() {
        std::fs::copy(&lock, fetch.join("Cargo.lock")).context("copying Cargo.lock")?;
    }
    let output = Command::new(cargo_program())
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(fetch.join("Cargo.toml"))
        .output()
        .context("running cargo metadata for the registry's nice-plug")?;
    if !output.status.success() {
        bail!(
            "cargo could not fetch {CRATE} {VERSION} from the registry: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata's output")?;
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["name"] == CRATE
                && p["version"] == VERSION
                && p["source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("registry+"))
        })
        .and_then(|p| p["manifest_path"].as_str())
        .with_context(|| format!("cargo metadata did not list the registry's {CRATE} {VERSION}"))?;
    Ok(Path::new(manifest)
        .parent()
        .context("the crate's manifest has a folder")?
        .to_path_buf())
}

fn cargo_program() -> std::ffi::OsString {
    cargo().get_program().to_owned()
}

/// Copies the folder `from` to `to`, files and subfolders.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("making {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("listing {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An edit whose upstream text is missing, or there twice, is refused with the file named.
    #[test]
    fn a_moved_upstream_text_is_refused_by_file() {
        let dir = std::env::temp_dir().join(format!("earstage-patch-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let edit = Edit {
            file: "src/a.rs",
            find: "old();",
            replace: "new();",
        };
        for (text, ok) in [
            ("old();\n", true),
            ("other();\n", false),
            ("old(); old();", false),
        ] {
            std::fs::write(dir.join("src/a.rs"), text).unwrap();
            let result = apply(&dir, &edit);
            assert_eq!(result.is_ok(), ok, "{text:?}: {result:?}");
            if let Err(err) = result {
                assert!(err.to_string().contains("src/a.rs"), "{err}");
            }
        }
        assert_eq!(
            std::fs::read_to_string(dir.join("src/a.rs")).unwrap(),
            "old(); old();"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
