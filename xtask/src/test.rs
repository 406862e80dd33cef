//! `cargo xtask test`: every suite a fresh machine can run, in order, with a summary that says
//! which ran and passed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::{bundle_dir, bundle_release, cargo, gates, run_checked, workspace_root};

/// The Python packages the VST3 host suite needs, pinned.
const REQUIREMENTS: &str = "tests/vst3/requirements.txt";

enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

struct Suite {
    name: &'static str,
    outcome: Outcome,
    seconds: f64,
}

pub fn run() -> Result<()> {
    // Plugin instances in the host suites book what they play into the user's weekly exposure
    // record; the tests get a data folder of their own, so a developer's record stays theirs.
    let data = workspace_root().join("target").join("test-data");
    std::fs::create_dir_all(&data).context("the tests' data folder")?;
    // SAFETY: set before any thread of this process exists; the children inherit it.
    unsafe { std::env::set_var("XDG_DATA_HOME", &data) };
    let mut suites = Vec::new();
    let mut step = |name: &'static str, f: &dyn Fn() -> Result<Outcome>| {
        println!("\n==> {name}");
        let start = Instant::now();
        let outcome = f().unwrap_or_else(|err| Outcome::Failed(format!("{err:#}")));
        suites.push(Suite {
            name,
            outcome,
            seconds: start.elapsed().as_secs_f64(),
        });
    };

    type Gate = fn() -> Result<()>;
    let gates: [(&'static str, Gate); 6] = [
        (
            "layers (every import points down, no circle)",
            gates::layers,
        ),
        (
            "lengths (no function over 60 lines in editor/, bin/, offline/)",
            gates::lengths,
        ),
        ("formatting (cargo fmt --check)", gates::fmt),
        (
            "lints (cargo clippy --all-targets -D warnings)",
            gates::clippy,
        ),
        ("API docs (cargo doc, warnings denied)", gates::doc),
        ("declared rust-version", gates::rust_version),
    ];
    for (name, gate) in gates {
        step(name, &|| gate().map(|()| Outcome::Passed));
    }
    step("workspace unit and integration tests (cargo test)", &|| {
        run_checked("cargo test", cargo().args(["test", "--workspace"]))?;
        run_checked(
            "cargo test (xtask)",
            cargo().args([
                "test",
                "--manifest-path",
                gates::XTASK_MANIFEST,
                "--target-dir",
                gates::XTASK_TARGET,
            ]),
        )?;
        Ok(Outcome::Passed)
    });
    step(
        "long sessions (8 h against closed forms, 10 min of automation)",
        &|| {
            run_checked(
                "the long sessions",
                cargo().args([
                    "test",
                    "--package",
                    "earstage",
                    "--test",
                    "long",
                    "--",
                    "--ignored",
                    "--nocapture",
                ]),
            )?;
            Ok(Outcome::Passed)
        },
    );
    step("release bundles (target/bundled)", &|| {
        bundle_release()?;
        Ok(Outcome::Passed)
    });
    let bundled = bundle_dir().join("Earstage.clap").exists();
    step("CLAP host suite (clack-host loads Earstage.clap)", &|| {
        require_bundles(bundled)?;
        // The weekly-record suite alone in its process: it points the plugin at a data folder of
        // its own.
        for (what, target) in [
            ("the CLAP host suite", "clap_host"),
            ("the CLAP weekly-record suite", "week_host"),
        ] {
            host_suite(what, target)?;
        }
        Ok(Outcome::Passed)
    });
    step(
        "CLAP editor suite (editor window under X11, screenshot)",
        &|| {
            require_bundles(bundled)?;
            let Some(display) = X11Display::find_or_start()? else {
                println!(
                    "no X server: set DISPLAY or install Xvfb (the xvfb package) to run this suite"
                );
                return Ok(Outcome::Skipped("no X server (install xvfb)".into()));
            };
            run_checked(
                "the CLAP editor suite",
                host_suite_command("clap_gui")
                    // One editor at a time, as on a host's single GUI thread.
                    .args(["--nocapture", "--test-threads=1"])
                    .env("DISPLAY", &display.name),
            )?;
            Ok(Outcome::Passed)
        },
    );
    step("VST3 host suite (pedalboard loads Earstage.vst3)", &|| {
        require_bundles(bundled)?;
        // The tests' own small VST3 host first: the teardown abort of docs/reliability.md.
        host_suite("the patched VST3 wrapper suite", "vst3_patched")?;
        let python = python_env()?;
        run_checked(
            "the VST3 host suite",
            Command::new(python)
                .args(["-m", "pytest", "tests/vst3", "-v", "-p", "no:cacheprovider"])
                .env("EARSTAGE_BUNDLE_DIR", bundle_dir()),
        )?;
        Ok(Outcome::Passed)
    });
    step("clap-validator (CLAP_VALIDATOR)", &|| {
        clap_validator(bundled)
    });
    step("VST3 validator (VST3_VALIDATOR)", &|| {
        vst3_validator(bundled)
    });
    step("pluginval (PLUGINVAL)", &|| pluginval(bundled));

    print_summary(&suites);
    let failed = suites
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed(_)))
        .count();
    if failed > 0 {
        bail!("{failed} suite(s) failed");
    }
    Ok(())
}

/// One of the real-host test targets (ignored in a plain `cargo test`), run on the built bundles.
fn host_suite(what: &str, target: &str) -> Result<()> {
    run_checked(what, &mut host_suite_command(target))
}

/// The command that runs the real-host test target `target` on the built bundles (more
/// arguments may follow).
fn host_suite_command(target: &str) -> Command {
    let mut command = cargo();
    command
        .args([
            "test",
            "--package",
            "earstage",
            "--test",
            target,
            "--",
            "--ignored",
        ])
        .env("EARSTAGE_BUNDLE_DIR", bundle_dir());
    command
}

fn require_bundles(bundled: bool) -> Result<()> {
    if !bundled {
        bail!(
            "no bundle in {}: the bundle step failed",
            bundle_dir().display()
        );
    }
    Ok(())
}

/// A virtual environment under target/ with the pinned requirements, made once and remade when
/// the requirements change.
fn python_env() -> Result<PathBuf> {
    let root = workspace_root();
    let venv = root.join("target").join("pyenv");
    let python = venv.join("bin").join("python");
    let requirements = std::fs::read_to_string(root.join(REQUIREMENTS))
        .with_context(|| format!("reading {REQUIREMENTS}"))?;
    let stamp = venv.join("earstage-requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(requirements.as_str()) {
        return Ok(python);
    }
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run_checked(
        "creating the Python virtual environment",
        Command::new(&system_python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
    )?;
    run_checked(
        "installing the pinned Python test requirements",
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(root.join(REQUIREMENTS)),
    )?;
    std::fs::write(&stamp, requirements)?;
    Ok(python)
}

/// An X display for the editor suite: the caller's `DISPLAY`, or a private Xvfb that lives as long
/// as this value.
struct X11Display {
    name: String,
    xvfb: Option<std::process::Child>,
}

impl X11Display {
    fn find_or_start() -> Result<Option<Self>> {
        if let Some(name) = std::env::var_os("DISPLAY").filter(|d| !d.is_empty()) {
            return Ok(Some(Self {
                name: name.to_string_lossy().into_owned(),
                xvfb: None,
            }));
        }
        // A display number nobody else uses: one without a lock file or socket, and one this
        // Xvfb keeps (it exits at once on a number another server took meanwhile).
        for k in 0..100 {
            let number = 90 + (std::process::id() + k) % 100;
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            if socket.exists() || Path::new(&format!("/tmp/.X{number}-lock")).exists() {
                continue;
            }
            let Ok(child) = Command::new("Xvfb")
                .arg(format!(":{number}"))
                .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
            else {
                return Ok(None);
            };
            let mut display = Self {
                name: format!(":{number}"),
                xvfb: Some(child),
            };
            let deadline = Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let exited = display
                    .xvfb
                    .as_mut()
                    .is_some_and(|c| !matches!(c.try_wait(), Ok(None)));
                if exited {
                    break;
                }
                if socket.exists() {
                    return Ok(Some(display));
                }
                if Instant::now() > deadline {
                    bail!("Xvfb did not start on {} within 10 s", display.name);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        bail!("no free X display number from :90 to :189 for Xvfb")
    }
}

impl Drop for X11Display {
    fn drop(&mut self) {
        if let Some(child) = &mut self.xvfb {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

/// The binary of a validator built outside the repository, as the environment variable `var`
/// names it; without it, the skipped outcome (and a line saying how to run it).
fn tool(var: &str, what: &str) -> Result<std::ffi::OsString, Outcome> {
    std::env::var_os(var).ok_or_else(|| {
        println!("{var} is not set: skipping {what} (set it to {what}'s binary to run it)");
        Outcome::Skipped(format!("{var} not set"))
    })
}

/// How long clap-validator's fuzzer runs (`CLAP_VALIDATOR_FUZZ`, its own duration syntax, e.g.
/// "10m" or "30s").
const CLAP_FUZZ_DEFAULT: &str = "10m";

/// free-audio's clap-validator, built outside the repository, when `CLAP_VALIDATOR` names it: every
/// validation test, then the fuzzer.
fn clap_validator(bundled: bool) -> Result<Outcome> {
    let validator = match tool("CLAP_VALIDATOR", "clap-validator") {
        Ok(path) => path,
        Err(skipped) => return Ok(skipped),
    };
    require_bundles(bundled)?;
    let bundle = bundle_dir().join("Earstage.clap");
    run_checked(
        "clap-validator validate",
        Command::new(Path::new(&validator))
            .arg("validate")
            .arg(&bundle),
    )?;
    let duration =
        std::env::var("CLAP_VALIDATOR_FUZZ").unwrap_or_else(|_| CLAP_FUZZ_DEFAULT.into());
    let before = heard_s()?;
    run_checked(
        "clap-validator fuzz",
        Command::new(Path::new(&validator))
            .args(["fuzz", "--duration", &duration])
            .arg(&bundle),
    )?;
    if let Some(booked) = booked_nothing("clap-validator's fuzzer", before)? {
        bail!("{booked}");
    }
    Ok(Outcome::Passed)
}

/// The seeds pluginval's randomised run uses (`PLUGINVAL_SEEDS`, comma-separated, to choose others).
const PLUGINVAL_SEEDS: &str = "0x2a,0x7b9f334,0xbeef,0x2026,0x1,0x2,0x3,0x1234,0xdead,0xc0ffee";
/// The test left out of the randomised runs: its failures there are pluginval's own ordering
/// (docs/reliability.md, "pluginval's Plugin state restoration"); the run in pluginval's own order
/// has it.
const PLUGINVAL_ORDER_DEPENDENT: &str = "Plugin state restoration";

/// Tracktion's pluginval, built outside the repository, when `PLUGINVAL` names it: the VST3 bundle
/// at strictness 10, randomised, once per seed without [`PLUGINVAL_ORDER_DEPENDENT`], then once in
/// its own order with every test; on an X display (the editor tests), and booking nothing into
/// the weekly record.
fn pluginval(bundled: bool) -> Result<Outcome> {
    let pluginval = match tool("PLUGINVAL", "pluginval") {
        Ok(path) => path,
        Err(skipped) => return Ok(skipped),
    };
    require_bundles(bundled)?;
    let out = workspace_root().join("target").join("pluginval");
    std::fs::create_dir_all(&out).context("pluginval's log folder")?;
    let disabled = out.join("disabled-tests.txt");
    std::fs::write(&disabled, format!("{PLUGINVAL_ORDER_DEPENDENT}\n"))?;
    let display = X11Display::find_or_start()?;
    let run = |what: String, extra: &[&std::ffi::OsStr]| {
        let mut command = Command::new(Path::new(&pluginval));
        command
            .args(["--strictness-level", "10"])
            .args(extra)
            .arg("--output-dir")
            .arg(&out)
            .arg("--validate")
            .arg(bundle_dir().join("Earstage.vst3"));
        if let Some(display) = &display {
            command.env("DISPLAY", &display.name);
        } else {
            command.arg("--skip-gui-tests");
        }
        println!("{what}");
        run_checked(&what, &mut command)
            .err()
            .map(|e| format!("{e:#}"))
    };
    let before = heard_s()?;
    let seeds = std::env::var("PLUGINVAL_SEEDS").unwrap_or_else(|_| PLUGINVAL_SEEDS.into());
    let mut failed: Vec<String> = seeds
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|seed| {
            run(
                format!("pluginval (randomised, seed {seed})"),
                &[
                    "--randomise".as_ref(),
                    "--repeat".as_ref(),
                    "3".as_ref(),
                    "--random-seed".as_ref(),
                    seed.as_ref(),
                    "--disabled-tests".as_ref(),
                    disabled.as_os_str(),
                ],
            )
        })
        .collect();
    failed.extend(run("pluginval (its own order, every test)".into(), &[]));
    failed.extend(booked_nothing("pluginval", before)?);
    if failed.is_empty() {
        Ok(Outcome::Passed)
    } else {
        bail!("{}", failed.join("; "))
    }
}

/// Seconds of listening in the tests' weekly record (the last 7 days), as `earstage exposure`
/// reads it.
fn heard_s() -> Result<f64> {
    let output = Command::new(bundle_dir().join("Earstage"))
        .args(["exposure", "--json"])
        .output()
        .context("running earstage exposure")?;
    if !output.status.success() {
        bail!(
            "earstage exposure failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading earstage exposure --json")?;
    Ok(report["days"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|day| day["heard_s"].as_f64())
        .sum())
}

/// A validator is not a listener: what it played must not be booked as heard.
fn booked_nothing(what: &str, before_s: f64) -> Result<Option<String>> {
    let booked = heard_s()? - before_s;
    Ok((booked > 0.0)
        .then(|| format!("{what} was booked as {booked:.1} s of listening in the weekly record")))
}

/// Steinberg's `validator` from the VST3 SDK, built outside the repository, when
/// `VST3_VALIDATOR` names it: the extensive tests (`-e`) on the bundle.
fn vst3_validator(bundled: bool) -> Result<Outcome> {
    let validator = match tool("VST3_VALIDATOR", "the VST3 SDK's validator") {
        Ok(path) => path,
        Err(skipped) => return Ok(skipped),
    };
    require_bundles(bundled)?;
    run_checked(
        "the VST3 validator",
        Command::new(Path::new(&validator))
            .arg("-e")
            .arg(bundle_dir().join("Earstage.vst3")),
    )?;
    Ok(Outcome::Passed)
}

fn print_summary(suites: &[Suite]) {
    println!("\n==> summary of cargo xtask test");
    for suite in suites {
        let (word, detail) = match &suite.outcome {
            Outcome::Passed => ("PASSED ", String::new()),
            Outcome::Failed(why) => ("FAILED ", format!(" — {why}")),
            Outcome::Skipped(why) => ("SKIPPED", format!(" — {why}")),
        };
        println!(
            "  {word} {:<56} {:>7.1} s{detail}",
            suite.name, suite.seconds
        );
    }
    let count = |f: fn(&Outcome) -> bool| suites.iter().filter(|s| f(&s.outcome)).count();
    println!(
        "suites: {} passed, {} failed, {} skipped",
        count(|o| matches!(o, Outcome::Passed)),
        count(|o| matches!(o, Outcome::Failed(_))),
        count(|o| matches!(o, Outcome::Skipped(_))),
    );
}
