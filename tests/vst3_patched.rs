//! The patched VST3 wrapper (docs/reliability.md; xtask/src/patch.rs), in a small VST3 host of the
//! tests' own that loads the built `Earstage.vst3` and drives its COM interfaces directly. Every
//! test here fails without the patch.
//!
//! **The teardown abort.** nice-plug's Linux VST3 wrapper runs an instance's GUI notifications (a
//! parameter set from a thread other than the one that created the instance) on one background
//! worker shared by every instance. Unpatched, a task whose instance is gone ends that worker for
//! good, and the last instance's release then panics inside COM's `release` and aborts the host;
//! and when the last reference to an instance drops on the worker itself, the worker joins itself
//! and panics. The dead task is made deterministic by pausing the worker thread: a signal sent to
//! that one thread runs a handler on it that waits on a pipe, so the host can queue a task for an
//! instance, delete the instance and only then let the worker run. Each scenario runs in a child
//! process (this test binary again), so an abort fails the test instead of ending the suite.
//!
//! **The controller's value while processing.** Unpatched, `setParamNormalized` between
//! `setProcessing(true)` and `(false)` is ignored, so `getParamNormalized` reads back the old
//! value (the VST3 validator's bypass test logs it as an error).
//!
//! Ignored in a plain `cargo test` (they need the bundle); `cargo xtask test` runs them after
//! bundling, in its VST3 step.

use std::ffi::{CStr, c_void};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use vst3::Steinberg::Vst::{
    IAudioProcessor, IAudioProcessorTrait, IComponent, IComponentTrait, IEditController,
    IEditControllerTrait, ParameterInfo, ProcessModes_, ProcessSetup, SymbolicSampleSizes_,
};
use vst3::Steinberg::{
    FUnknown, IPluginBaseTrait, IPluginFactory, IPluginFactoryTrait, PClassInfo, kResultOk,
};
use vst3::{ComPtr, Interface};

/// Set in the child process: the test that sees it runs its scenario instead of a child.
const CHILD: &str = "EARSTAGE_TEARDOWN_CHILD";

/// The bundle's shared library.
fn library_path() -> PathBuf {
    let dir = std::env::var_os("EARSTAGE_BUNDLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bundled"));
    let path = dir.join("Earstage.vst3/Contents/x86_64-linux/Earstage.so");
    assert!(
        path.exists(),
        "{} does not exist: run `cargo xtask bundle earstage --release` (or `cargo xtask test`)",
        path.display()
    );
    path
}

/// The loaded module's factory.
struct Module {
    factory: ComPtr<IPluginFactory>,
}

impl Module {
    fn load() -> Self {
        let path = std::ffi::CString::new(library_path().to_str().unwrap()).unwrap();
        // SAFETY: the path is a NUL-terminated string; the library stays loaded for the process.
        let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        assert!(!handle.is_null(), "dlopen {path:?} failed");
        let symbol = |name: &CStr| {
            // SAFETY: a symbol of a loaded library, looked up by its NUL-terminated name.
            let ptr = unsafe { libc::dlsym(handle, name.as_ptr()) };
            assert!(!ptr.is_null(), "{name:?} is not exported");
            ptr
        };
        // SAFETY: the VST3 module entry points of Linux, with their documented signatures.
        unsafe {
            let entry: extern "C" fn(*mut c_void) -> bool =
                std::mem::transmute(symbol(c"ModuleEntry"));
            assert!(entry(handle));
            let get_factory: extern "system" fn() -> *mut c_void =
                std::mem::transmute(symbol(c"GetPluginFactory"));
            let factory = ComPtr::from_raw(get_factory() as *mut IPluginFactory)
                .expect("GetPluginFactory returned a factory");
            Self { factory }
        }
    }

    /// A new instance, initialized, as a host makes one (on the calling thread).
    fn instance(&self) -> Instance {
        // SAFETY: COM calls on live objects, with out-pointers to locals.
        unsafe {
            let mut info: PClassInfo = std::mem::zeroed();
            assert_eq!(self.factory.getClassInfo(0, &mut info), kResultOk);
            let mut object: *mut c_void = std::ptr::null_mut();
            let result = self.factory.createInstance(
                info.cid.as_ptr(),
                IComponent::IID.as_ptr() as *const _,
                &mut object,
            );
            assert_eq!(result, kResultOk, "createInstance");
            let component =
                ComPtr::from_raw(object as *mut IComponent).expect("an IComponent instance");
            assert_eq!(
                component.initialize(std::ptr::null_mut::<FUnknown>()),
                kResultOk
            );
            let controller = component
                .cast::<IEditController>()
                .expect("the component is its own edit controller");
            let mut param: ParameterInfo = std::mem::zeroed();
            assert_eq!(controller.getParameterInfo(0, &mut param), kResultOk);
            Instance {
                component,
                controller,
                param_id: param.id,
            }
        }
    }
}

/// One instance as the host holds it.
struct Instance {
    component: ComPtr<IComponent>,
    controller: ComPtr<IEditController>,
    param_id: u32,
}

// SAFETY: the host may call an instance's edit controller from any thread (VST3 hosts do, for
// automation); the test hands a raw pointer to the thread that does.
struct SendPtr(*mut IEditController);
unsafe impl Send for SendPtr {}

impl Instance {
    /// Sets the first parameter from a thread other than the one that made the instance, as
    /// automation or a control surface does: nice-plug queues a GUI notification for the worker.
    fn set_param_from_another_thread(&self, value: f64) {
        let controller = SendPtr(self.controller.as_ptr());
        let id = self.param_id;
        std::thread::spawn(move || {
            let controller = controller;
            // SAFETY: the instance outlives this call: the caller joins the thread first.
            let controller = unsafe { vst3::ComRef::from_raw(controller.0) }.unwrap();
            // SAFETY: a COM call on a live object.
            assert_eq!(
                unsafe { controller.setParamNormalized(id, value) },
                kResultOk
            );
        })
        .join()
        .expect("the setting thread");
    }

    /// Deletes the instance as a host does: terminate, then release every reference.
    fn delete(self) {
        // SAFETY: a COM call on a live object.
        assert_eq!(unsafe { self.component.terminate() }, kResultOk);
        drop(self.controller);
        drop(self.component);
    }
}

/// The write end of the pipe the paused worker reports on, and the read end it waits on.
static ENTERED_WRITE: AtomicI32 = AtomicI32::new(-1);
static RELEASE_READ: AtomicI32 = AtomicI32::new(-1);

/// Runs on the thread the signal was sent to: says so, then waits for a byte. Only
/// async-signal-safe calls.
extern "C" fn hold_thread(_signal: libc::c_int) {
    let byte = 1u8;
    let mut got = 0u8;
    // SAFETY: write(2) and read(2) on pipe ends this process made, with one-byte buffers.
    unsafe {
        libc::write(
            ENTERED_WRITE.load(Ordering::SeqCst),
            (&raw const byte).cast(),
            1,
        );
        libc::read(
            RELEASE_READ.load(Ordering::SeqCst),
            (&raw mut got).cast(),
            1,
        );
    }
}

/// Pauses and resumes one thread of this process by its kernel id (a signal handler that waits
/// on a pipe, installed for SIGUSR2).
struct ThreadHold {
    entered_read: i32,
    release_write: i32,
}

impl ThreadHold {
    fn install() -> Self {
        let pipe = || {
            let mut fds = [0i32; 2];
            // SAFETY: pipe(2) with room for its two descriptors.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            fds
        };
        let [entered_read, entered_write] = pipe();
        let [release_read, release_write] = pipe();
        ENTERED_WRITE.store(entered_write, Ordering::SeqCst);
        RELEASE_READ.store(release_read, Ordering::SeqCst);
        // SAFETY: installs a handler that makes only async-signal-safe calls.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = hold_thread as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGUSR2, &action, std::ptr::null_mut()),
                0
            );
        }
        Self {
            entered_read,
            release_write,
        }
    }

    /// Pauses the thread `tid`; returns once it is held.
    fn pause(&self, tid: i32) {
        // SAFETY: tgkill(2) to a thread of this process; read(2) of one byte into a local.
        unsafe {
            assert_eq!(
                libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, libc::SIGUSR2),
                0,
                "the thread {tid} is gone"
            );
            let mut got = 0u8;
            assert_eq!(libc::read(self.entered_read, (&raw mut got).cast(), 1), 1);
        }
    }

    fn resume(&self) {
        let byte = 1u8;
        // SAFETY: write(2) of one byte to a pipe this process made.
        assert_eq!(
            unsafe { libc::write(self.release_write, (&raw const byte).cast(), 1) },
            1
        );
    }
}

/// The kernel id of nice-plug's background worker thread ("bg-worker"), if it is running.
fn worker_tid() -> Option<i32> {
    std::fs::read_dir("/proc/self/task")
        .ok()?
        .find_map(|entry| {
            let entry = entry.ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (comm.trim() == "bg-worker").then(|| entry.file_name().to_str()?.parse().ok())?
        })
}

/// The worker's id after `wait`, if it is still alive then: a thread that has ended is gone
/// from /proc at once, one that merely waits for work is not.
fn worker_after(wait: Duration) -> Option<i32> {
    std::thread::sleep(wait);
    worker_tid()
}

/// One host at a time in the child (the signal handler and its pipes are process-wide).
static ONE_HOST: Mutex<()> = Mutex::new(());

mod scenario {
    use super::*;

    /// pluginval's abort, step by step: a parameter set on instance A from another thread while
    /// the worker is held, A deleted before the worker runs that task, the worker let go; then
    /// the worker must still be alive and serving B, and deleting B, the last instance, must end
    /// the process normally (unpatched it aborts in COM's `release`).
    pub fn dead_task() {
        let _host = ONE_HOST.lock().unwrap();
        let hold = ThreadHold::install();
        let module = Module::load();
        let a = module.instance();
        let b = module.instance();
        let worker = worker_tid().expect("nice-plug's worker runs once an instance exists");
        hold.pause(worker);
        a.set_param_from_another_thread(0.25);
        a.delete();
        hold.resume();
        // The worker has run the dead task by the time it takes a second task of B's.
        b.set_param_from_another_thread(0.75);
        let alive = worker_after(Duration::from_millis(200));
        assert_eq!(
            alive,
            Some(worker),
            "the worker ended on a task whose instance was gone"
        );
        hold.pause(worker);
        hold.resume();
        b.delete();
        println!("deleted the last instance");
    }

    /// The last reference to an instance dropped on the worker: the instance is deleted while
    /// the worker is busy with a burst of its notifications (it holds the instance while it runs
    /// one), a hundred times over. Unpatched, the worker then joins itself and panics.
    pub fn last_reference_on_worker() {
        let _host = ONE_HOST.lock().unwrap();
        let module = Module::load();
        for round in 0..100 {
            let a = module.instance();
            let controller = SendPtr(a.controller.as_ptr());
            let id = a.param_id;
            let setter = std::thread::spawn(move || {
                let controller = controller;
                // SAFETY: the instance is deleted only after this thread is joined.
                let controller = unsafe { vst3::ComRef::from_raw(controller.0) }.unwrap();
                for i in 0..400 {
                    let value = if i % 2 == 0 { 0.25 } else { 0.75 };
                    // SAFETY: a COM call on a live object.
                    unsafe { controller.setParamNormalized(id, value) };
                }
            });
            setter.join().expect("the setting thread");
            a.delete();
            if round % 10 == 9 {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        println!("deleted every instance");
    }
}

/// What the edit controller reads back of a value the host set, while processing and after.
/// No child process: nothing here touches the worker's teardown.
#[test]
#[ignore = "needs the built bundle: cargo xtask test runs it"]
fn the_controller_shows_what_the_host_set_while_processing() {
    let _host = ONE_HOST.lock().unwrap();
    let module = Module::load();
    let a = module.instance();
    let processor = a
        .component
        .cast::<IAudioProcessor>()
        .expect("the component is its own audio processor");
    let setup = ProcessSetup {
        processMode: ProcessModes_::kRealtime as i32,
        symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
        maxSamplesPerBlock: 64,
        sampleRate: 48_000.0,
    };
    let id = a.param_id;
    // SAFETY: COM calls on live objects, in the order a host makes them.
    unsafe {
        assert_eq!(
            processor.setupProcessing(&setup as *const _ as *mut _),
            kResultOk
        );
        assert_eq!(a.component.setActive(1), kResultOk);
        let before = a.controller.getParamNormalized(id);
        // Set while not processing: applied at once, on both sides.
        let applied = if before < 0.5 { 0.75 } else { 0.25 };
        assert_eq!(a.controller.setParamNormalized(id, applied), kResultOk);
        let applied = a.controller.getParamNormalized(id);
        assert_ne!(applied, before);
        assert_eq!(processor.setProcessing(1), kResultOk);
        // Set while processing: the controller shows it at once (to the parameter's own
        // precision), though no process() call has brought it to the audio side.
        let shown = if applied < 0.5 { 0.875 } else { 0.125 };
        assert_eq!(a.controller.setParamNormalized(id, shown), kResultOk);
        let read = a.controller.getParamNormalized(id);
        assert!((read - shown).abs() < 1e-3, "set {shown}, read back {read}");
        // Processing stops without the change having arrived: what the audio side has (and the
        // saved state holds) is shown again.
        assert_eq!(processor.setProcessing(0), kResultOk);
        assert_eq!(a.controller.getParamNormalized(id), applied);
        assert_eq!(a.component.setActive(0), kResultOk);
    }
    drop(processor);
    a.delete();
}

/// In the child, runs `scenario`; in the test run, runs this test again in a child process
/// and asserts that it ended normally, printed `said` and panicked nowhere (no thread).
fn in_child(test: &str, scenario: fn(), said: &str) {
    if std::env::var_os(CHILD).is_some() {
        scenario();
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("runs this test binary again");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success() && stdout.contains(said) && !stderr.contains("panicked"),
        "{test}: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
}

#[test]
#[ignore = "needs the built bundle: cargo xtask test runs it"]
fn a_task_for_a_deleted_instance_never_aborts() {
    in_child(
        "a_task_for_a_deleted_instance_never_aborts",
        scenario::dead_task,
        "deleted the last instance",
    );
}

#[test]
#[ignore = "needs the built bundle: cargo xtask test runs it"]
fn the_last_reference_on_the_worker_never_panics() {
    in_child(
        "the_last_reference_on_the_worker_never_panics",
        scenario::last_reference_on_worker,
        "deleted every instance",
    );
}
