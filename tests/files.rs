//! Property tests over everything Earstage reads from a user's disk besides audio: the impedance
//! importers (`.zma`, REW text, CSV with a header, magnitude only), frequency-response text and
//! presets. Each format gets 10,000 generated files, most of them damaged on purpose (lines
//! dropped, doubled or swapped, numbers replaced by junk, bytes flipped or inserted, the file cut
//! short). For every file:
//! - reading never panics;
//! - memory stays within what the design bounds (the file, the minimum-phase grid), whatever a
//!   line count or the damage suggests;
//! - a rejection names the file, the line (or the field), and says what is allowed;
//! - what is accepted is a valid curve or preset that survives a round trip through its own
//!   writer, and an undamaged file reads back to exactly the values written.
//!
//! The audio reader (`model/audio_file.rs`, WAV through symphonia) gets the same treatment with damage aimed at its header:
//! chunk sizes, rates, channel counts and tags overwritten with extreme values; an undamaged file
//! must decode bit for bit as hound, an independent reader, decodes it.

use std::path::{Path, PathBuf};

use earstage::model::catalog::Catalog;
use earstage::model::curve::MAX_POINTS;
use earstage::model::import::{
    ImportError, csv_text, impedance_from_text, read_impedance, read_response, response_from_text,
    response_text,
};
use earstage::model::preset::{Preset, PresetError};
use earstage::model::{Attenuator, Cable, Iem, Source};
use earstage::offline::audio_file::{AudioFile, BLOCK_FRAMES};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;

/// The process's peak virtual size, bytes (Linux: `VmPeak` in `/proc/self/status`); `None`
/// elsewhere. nice-plug installs its own global allocator in this binary, so allocations are
/// bounded through the address space: any allocation, touched or not, raises the peak.
fn vm_peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmPeak:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// How far the peak virtual size may rise above where it was when the first file was read. A
/// read holds the file (at most 16 MiB, twice while its buffer grows), the minimum-phase grid
/// (about 2 MiB, `model/min_phase.rs`) and, for audio, one block (256 KiB); the allocator keeps
/// an arena of up to 64 MiB for each test thread. A hostile size field obeyed would ask for up to
/// 4 GiB and stand out far above this.
const ADDRESS_SPACE_ROOM: u64 = 512 << 20;

/// Fails if the peak virtual size has risen by more than [`ADDRESS_SPACE_ROOM`].
fn check_memory() -> Result<(), TestCaseError> {
    static START: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let start = *START.get_or_init(vm_peak_bytes);
    if let (Some(start), Some(now)) = (start, vm_peak_bytes()) {
        prop_assert!(
            now <= start + ADDRESS_SPACE_ROOM,
            "the peak address space grew by {} MiB",
            (now - start) >> 20
        );
    }
    Ok(())
}

/// Words that say what is allowed; every rejection carries at least one.
const ALLOWED_HINTS: &[&str] = &[
    "allowed",
    "expected",
    "needs",
    "must",
    "range",
    "a name containing",
    "on every line",
    "only",
    "at most",
    "missing field",
    "a preset is TOML",
];

fn says_what_is_allowed(reason: &str) -> bool {
    ALLOWED_HINTS.iter().any(|hint| reason.contains(hint))
}

/// Replacements for one number: non-numbers, non-finite and out-of-range numbers, and numbers
/// in forms a parser might half-accept.
const JUNK: &[&str] = &[
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-1e999",
    "0",
    "-0",
    "-5",
    "1e-320",
    "abc",
    "1,5",
    "0x10",
    "１２",
    "+",
    "1e",
    "∞",
    "99999999999999999999999999999999999999999999",
    "2e6",
    "100",
    "\"12\"",
];

/// One damage done to a file's bytes.
#[derive(Debug, Clone)]
enum Damage {
    DropLine(Index),
    DoubleLine(Index),
    SwapLines(Index, Index),
    /// Replace the n-th whitespace- or separator-delimited token with a junk token.
    Junk(Index, Index),
    FlipByte(Index, u8),
    Insert(Index, Vec<u8>),
    Truncate(Index),
    /// XOR the byte at this offset (if the file is that long) with a mask.
    FlipHeader(usize, u8),
    /// Overwrite the four bytes at this offset (if the file is that long) with a little-endian
    /// value: a chunk size, a rate, a channel count and format tag.
    SetU32(usize, u32),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::DropLine),
        any::<Index>().prop_map(Damage::DoubleLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::SwapLines(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::Junk(a, b)),
        (any::<Index>(), 1u8..=255).prop_map(|(a, b)| Damage::FlipByte(a, b)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..12))
            .prop_map(|(a, b)| Damage::Insert(a, b)),
        any::<Index>().prop_map(Damage::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
    let lines = |bytes: &[u8]| -> Vec<Vec<u8>> {
        bytes
            .split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    };
    match damage {
        Damage::DropLine(i) | Damage::DoubleLine(i) => {
            let mut all = lines(bytes);
            if all.is_empty() {
                return;
            }
            let at = i.index(all.len());
            if matches!(damage, Damage::DropLine(_)) {
                all.remove(at);
            } else {
                let line = all[at].clone();
                all.insert(at, line);
            }
            *bytes = all.concat();
        }
        Damage::SwapLines(a, b) => {
            let mut all = lines(bytes);
            if all.len() < 2 {
                return;
            }
            let (a, b) = (a.index(all.len()), b.index(all.len()));
            all.swap(a, b);
            *bytes = all.concat();
        }
        Damage::Junk(which, junk) => {
            let is_separator = |b: u8| b" \t,;\n\r=".contains(&b);
            let starts: Vec<usize> = (0..bytes.len())
                .filter(|&i| !is_separator(bytes[i]) && (i == 0 || is_separator(bytes[i - 1])))
                .collect();
            if starts.is_empty() {
                return;
            }
            let start = starts[which.index(starts.len())];
            let end = (start..bytes.len())
                .find(|&i| is_separator(bytes[i]))
                .unwrap_or(bytes.len());
            let junk = JUNK[junk.index(JUNK.len())].as_bytes();
            bytes.splice(start..end, junk.iter().copied());
        }
        Damage::FlipByte(at, mask) => {
            if !bytes.is_empty() {
                let at = at.index(bytes.len());
                bytes[at] ^= mask;
            }
        }
        Damage::Insert(at, junk) => {
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..at, junk.iter().copied());
        }
        Damage::Truncate(at) => {
            let at = at.index(bytes.len() + 1);
            bytes.truncate(at);
        }
        Damage::FlipHeader(at, mask) => {
            if let Some(byte) = bytes.get_mut(*at) {
                *byte ^= mask;
            }
        }
        Damage::SetU32(at, value) => {
            if let Some(field) = bytes.get_mut(*at..*at + 4) {
                field.copy_from_slice(&value.to_le_bytes());
            }
        }
    }
}

/// A scratch directory for this test binary, one file per thread.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("earstage-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}-{:?}", std::thread::current().id()))
}

fn config() -> Config {
    Config {
        cases: 10_000,
        // A failure is reported with its shrunk input; nothing is written to the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

/// The ways an impedance file is laid out, as measurement programs write them.
#[derive(Debug, Clone, Copy)]
enum Layout3 {
    /// `.zma` (LIMP, ARTA): a comment, then "Hz Ω degrees" separated by spaces.
    Zma,
    /// REW's text export: `*` comment lines, then tab-separated "Hz Ω degrees".
    Rew,
    /// CSV with a header.
    Csv,
    /// Semicolons, a header with other names.
    Semicolon,
    /// Tabs, a header with the columns in another order (phase, Hz, magnitude).
    Reordered,
    /// Magnitude only: "Hz Ω", no phase; the phase is reconstructed.
    MagnitudeOnly,
}

fn layout() -> impl Strategy<Value = Layout3> {
    prop_oneof![
        Just(Layout3::Zma),
        Just(Layout3::Rew),
        Just(Layout3::Csv),
        Just(Layout3::Semicolon),
        Just(Layout3::Reordered),
        Just(Layout3::MagnitudeOnly),
    ]
}

/// A number written as programs write it; both forms read back exactly.
fn number(x: f64, scientific: bool) -> String {
    if scientific {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// Points of a plausible measurement: increasing frequencies from 0.1 Hz to 100 kHz, |Z| of 1 to
/// 2000 Ω, phases within ±89°.
fn points(max: usize) -> impl Strategy<Value = Vec<[f64; 3]>> {
    (
        prop::collection::btree_set(1u32..=1_000_000, 2..max),
        prop::collection::vec((1.0f64..2000.0, -89.0f64..89.0), max),
    )
        .prop_map(|(decihertz, values)| {
            decihertz
                .into_iter()
                .zip(values)
                .map(|(dhz, (ohms, deg))| [f64::from(dhz) / 10.0, ohms, deg])
                .collect()
        })
}

fn impedance_text(layout: Layout3, rows: &[[f64; 3]], scientific: bool) -> String {
    let n = |x: f64| number(x, scientific);
    let mut out = String::new();
    let mut push = |line: String| {
        out.push_str(&line);
        out.push('\n');
    };
    match layout {
        Layout3::Zma => push("* measured with a jig, 1 V drive".into()),
        Layout3::Rew => {
            push("* Measurement data measured by REW".into());
            push("* Freq(Hz)\tMagnitude(ohm)\tPhase(degrees)".into());
        }
        Layout3::Csv => push("Frequency (Hz),Impedance (Ohm),Phase (deg)".into()),
        Layout3::Semicolon => push("Freq;|Z|;Phase".into()),
        Layout3::Reordered => push("Phase (deg)\tFreq (Hz)\tMagnitude (ohm)".into()),
        Layout3::MagnitudeOnly => push("// magnitude only".into()),
    }
    for r in rows {
        push(match layout {
            Layout3::Zma => format!("{} {}  {}", n(r[0]), n(r[1]), n(r[2])),
            Layout3::Rew => format!("{}\t{}\t{}", n(r[0]), n(r[1]), n(r[2])),
            Layout3::Csv => format!("{},{},{}", n(r[0]), n(r[1]), n(r[2])),
            Layout3::Semicolon => format!("{}; {}; {}", n(r[0]), n(r[1]), n(r[2])),
            Layout3::Reordered => format!("{}\t{}\t{}", n(r[2]), n(r[0]), n(r[1])),
            Layout3::MagnitudeOnly => format!("{} {}", n(r[0]), n(r[1])),
        });
    }
    out
}

/// Checks a rejection: it names the file and a line within it (or the whole file), and says
/// what is allowed.
fn check_import_error(err: &ImportError, path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let message = err.to_string();
    prop_assert!(
        message.starts_with(&path.display().to_string()),
        "the message does not name the file: {message}"
    );
    let reason = match err {
        ImportError::Io { .. } => {
            return Err(TestCaseError::fail(format!(
                "a readable file gave an I/O error: {message}"
            )));
        }
        ImportError::Line { line, reason, .. } => {
            let lines = bytes.split(|&b| b == b'\n').count();
            prop_assert!(
                (1..=lines).contains(line),
                "line {line} of a {lines}-line file: {message}"
            );
            reason
        }
        ImportError::File { reason, .. } => reason,
    };
    prop_assert!(
        says_what_is_allowed(reason),
        "the message does not say what is allowed: {message}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Impedance files in six layouts, most of them damaged.
    #[test]
    fn impedance_files(
        layout in layout(),
        rows in points(40),
        scientific in any::<bool>(),
        damages in prop::collection::vec(damage(), 0..4),
    ) {
        let text = impedance_text(layout, &rows, scientific);
        let mut bytes = text.into_bytes();
        for d in &damages {
            apply(&mut bytes, d);
        }
        let path = scratch("impedance.txt");
        std::fs::write(&path, &bytes).unwrap();
        let read = read_impedance(&path);
        check_memory()?;
        match read {
            Err(err) => {
                prop_assert!(!damages.is_empty(), "an undamaged file was refused: {err}");
                check_import_error(&err, &path, &bytes)?;
            }
            Ok(curve) => {
                prop_assert!((2..=MAX_POINTS).contains(&curve.rows().len()));
                // What is accepted survives its own writer exactly.
                let again = impedance_from_text(&csv_text(&curve)).expect("re-read");
                prop_assert_eq!(again.rows(), curve.rows());
                if damages.is_empty() {
                    prop_assert_eq!(curve.rows().len(), rows.len());
                    for (got, want) in curve.rows().iter().zip(&rows) {
                        prop_assert_eq!(got[0], want[0]);
                        prop_assert_eq!(got[1], want[1]);
                        match layout {
                            // The phase is reconstructed (checked against closed forms in
                            // min_phase.rs); here only its bounds.
                            Layout3::MagnitudeOnly => prop_assert!(got[2].abs() <= 90.0),
                            _ => prop_assert_eq!(got[2], want[2]),
                        }
                    }
                }
            }
        }
    }

    /// Frequency-response text ("Hz dB", REW's export with a phase column it ignores), most of it
    /// damaged.
    #[test]
    fn response_files(
        rows in points(60),
        levels in prop::collection::vec(-30.0f64..130.0, 60),
        rew in any::<bool>(),
        scientific in any::<bool>(),
        damages in prop::collection::vec(damage(), 0..4),
    ) {
        let n = |x: f64| number(x, scientific);
        let mut text = if rew {
            "* Measurement data measured by REW\n* Freq(Hz)\tSPL(dB)\tPhase(degrees)\n".to_owned()
        } else {
            "frequency_hz, db\n".to_owned()
        };
        for (r, db) in rows.iter().zip(&levels) {
            text += &if rew {
                format!("{}\t{}\t{}\n", n(r[0]), n(*db), n(r[2]))
            } else {
                format!("{}, {}\n", n(r[0]), n(*db))
            };
        }
        let mut bytes = text.into_bytes();
        for d in &damages {
            apply(&mut bytes, d);
        }
        let path = scratch("response.txt");
        std::fs::write(&path, &bytes).unwrap();
        let read = read_response(&path);
        check_memory()?;
        match read {
            Err(err) => {
                prop_assert!(!damages.is_empty(), "an undamaged file was refused: {err}");
                check_import_error(&err, &path, &bytes)?;
            }
            Ok(response) => {
                let again = response_from_text(&response_text(&response)).expect("re-read");
                prop_assert_eq!(again.rows(), response.rows());
                if damages.is_empty() {
                    let want: Vec<[f64; 2]> =
                        rows.iter().zip(&levels).map(|(r, db)| [r[0], *db]).collect();
                    prop_assert_eq!(response.rows(), &want[..]);
                }
            }
        }
    }

    /// Presets built from the catalog with values moved, most of them damaged.
    #[test]
    fn preset_files(
        picks in (any::<Index>(), any::<Index>(), any::<Index>()),
        parts in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        volume_db in -90.0f64..0.0,
        cable_ohms in 0.0f64..10.0,
        damages in prop::collection::vec(damage(), 0..4),
    ) {
        let catalog = Catalog::builtin();
        let mut source: Source = catalog.sources[picks.0.index(catalog.sources.len())].clone();
        source.volume_db = volume_db;
        let attenuator: Attenuator =
            catalog.attenuators[picks.1.index(catalog.attenuators.len())].clone();
        let iem: Iem = catalog.iems[picks.2.index(catalog.iems.len())].clone();
        let preset = Preset {
            source: parts.0.then_some(source),
            attenuator: parts.1.then_some(attenuator),
            cable: parts.2.then_some(Cable { ohms: cable_ohms }),
            iem: parts.3.then_some(iem),
        };
        let mut bytes = preset.to_toml().into_bytes();
        for d in &damages {
            apply(&mut bytes, d);
        }
        let path = scratch("preset.toml");
        std::fs::write(&path, &bytes).unwrap();
        let read = Preset::load(&path, &catalog);
        check_memory()?;
        match read {
            Err(err) => {
                prop_assert!(!damages.is_empty(), "an undamaged preset was refused: {err}");
                let message = err.to_string();
                prop_assert!(message.starts_with(&path.display().to_string()), "{message}");
                match &err {
                    PresetError::Parse { line, reason, .. } => {
                        let lines = bytes.split(|&b| b == b'\n').count();
                        prop_assert!((1..=lines).contains(line), "{message}");
                        prop_assert!(says_what_is_allowed(reason), "{message}");
                    }
                    // A value out of its range: the reason names the field and the range.
                    PresetError::Invalid { reason, .. } => {
                        prop_assert!(says_what_is_allowed(reason), "{message}");
                    }
                    other => {
                        return Err(TestCaseError::fail(format!("unexpected error: {other}")));
                    }
                }
            }
            Ok(loaded) => {
                let again = Preset::from_toml(&loaded.to_toml(), &path, &catalog).expect("re-read");
                prop_assert_eq!(&again, &loaded);
                if damages.is_empty() {
                    prop_assert_eq!(&loaded, &preset);
                }
            }
        }
    }
}

/// A file larger than the bound is refused before it is read into memory, and so is an endless
/// one; neither allocates more than the bound.
#[test]
fn huge_and_endless_files_are_refused_without_being_held() {
    let path = scratch("huge.zma");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: no disk is used.
    file.set_len(4 << 30).unwrap();
    drop(file);
    let err = read_impedance(&path).expect_err("a 4 GiB curve");
    assert!(
        err.to_string().contains("at most"),
        "the reason says what is allowed: {err}"
    );
    assert!(err.to_string().starts_with(&path.display().to_string()));
    check_memory().unwrap();
    std::fs::remove_file(&path).unwrap();

    if Path::new("/dev/zero").exists() {
        let err = read_response(Path::new("/dev/zero")).expect_err("an endless file");
        assert!(err.to_string().contains("at most"), "{err}");
        check_memory().unwrap();
    }
}

/// 65,537 data lines: one more than a curve may hold, refused at the line that is one too many.
#[test]
fn one_line_too_many_is_refused_at_that_line() {
    let mut text = String::from("* too long\n");
    for i in 0..=MAX_POINTS {
        text += &format!("{} 32 0\n", 10.0 + i as f64 * 0.25);
    }
    let path = scratch("long.zma");
    std::fs::write(&path, &text).unwrap();
    match read_impedance(&path) {
        Err(ImportError::Line { line, reason, .. }) => {
            assert_eq!(line, MAX_POINTS + 2, "the header, then 65,536 lines");
            assert!(reason.contains("at most 65536"), "{reason}");
        }
        other => panic!("expected a refusal at a line, got {other:?}"),
    }
    // And exactly the maximum is read.
    let text: String = text
        .lines()
        .take(MAX_POINTS + 1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    assert_eq!(read_impedance(&path).unwrap().rows().len(), MAX_POINTS);
}

/// A byte that is not UTF-8 is refused at its line, with the byte named.
#[test]
fn bytes_that_are_not_text_are_refused_at_their_line() {
    let path = scratch("latin1.csv");
    std::fs::write(
        &path,
        b"Frequency (Hz),Impedance (\xa6),Phase\n20,32,0\n40,33,1\n",
    )
    .unwrap();
    match read_impedance(&path) {
        Err(ImportError::Line { line, reason, .. }) => {
            assert_eq!(line, 1);
            assert!(
                reason.contains("0xa6") && reason.contains("UTF-8"),
                "{reason}"
            );
        }
        other => panic!("expected a refusal at line 1, got {other:?}"),
    }
}

/// How a generated WAV file stores its samples.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    Int16,
    Int24,
    Int32,
    Float32,
    Float64,
}

impl Encoding {
    fn bits(self) -> u16 {
        match self {
            Self::Int16 => 16,
            Self::Int24 => 24,
            Self::Int32 | Self::Float32 => 32,
            Self::Float64 => 64,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Self::Float32 | Self::Float64)
    }

    /// A raw 32-bit draw as this encoding's little-endian bytes.
    fn bytes(self, raw: i32) -> Vec<u8> {
        match self {
            Self::Int16 => ((raw >> 16) as i16).to_le_bytes().to_vec(),
            Self::Int24 => (raw >> 8).to_le_bytes()[..3].to_vec(),
            Self::Int32 => raw.to_le_bytes().to_vec(),
            Self::Float32 => (raw as f32 / 2_147_483_648.0).to_le_bytes().to_vec(),
            Self::Float64 => (f64::from(raw) / 2_147_483_648.0).to_le_bytes().to_vec(),
        }
    }
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::Int16),
        Just(Encoding::Int24),
        Just(Encoding::Int32),
        Just(Encoding::Float32),
        Just(Encoding::Float64),
    ]
}

/// A WAV file as writers make them: an optional `LIST` INFO chunk before fmt, fmt plain or
/// WAVE_FORMAT_EXTENSIBLE, an optional odd-sized chunk (with its pad byte) before data.
fn wav_file(
    encoding: Encoding,
    channels: u16,
    rate: u32,
    samples: &[i32],
    extensible: bool,
    extra: (Option<Vec<u8>>, Option<Vec<u8>>),
) -> Vec<u8> {
    let chunk = |id: &[u8; 4], body: &[u8]| {
        let mut out = id.to_vec();
        out.extend((body.len() as u32).to_le_bytes());
        out.extend(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
        out
    };
    let tag: u16 = if encoding.is_float() { 3 } else { 1 };
    let block_align = channels * encoding.bits() / 8;
    let mut fmt = Vec::new();
    fmt.extend(if extensible { 0xFFFEu16 } else { tag }.to_le_bytes());
    fmt.extend(channels.to_le_bytes());
    fmt.extend(rate.to_le_bytes());
    fmt.extend((rate * u32::from(block_align)).to_le_bytes());
    fmt.extend(block_align.to_le_bytes());
    fmt.extend(encoding.bits().to_le_bytes());
    if extensible {
        fmt.extend(22u16.to_le_bytes());
        fmt.extend(encoding.bits().to_le_bytes());
        fmt.extend(0u32.to_le_bytes());
        // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the tag, then the fixed GUID tail.
        fmt.extend(tag.to_le_bytes());
        fmt.extend([
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    let data: Vec<u8> = samples.iter().flat_map(|&x| encoding.bytes(x)).collect();
    let mut body = b"WAVE".to_vec();
    if let Some(text) = &extra.0 {
        // A LIST INFO chunk as DAWs write it: the software's name, NUL-terminated.
        let mut name: Vec<u8> = text.iter().map(|b| b'a' + b % 26).collect();
        name.push(0);
        let mut list = b"INFO".to_vec();
        list.extend(chunk(b"ISFT", &name));
        body.extend(chunk(b"LIST", &list));
    }
    body.extend(chunk(b"fmt ", &fmt));
    if let Some(odd) = &extra.1 {
        body.extend(chunk(b"junk", odd));
    }
    body.extend(chunk(b"data", &data));
    let mut file = b"RIFF".to_vec();
    file.extend((body.len() as u32).to_le_bytes());
    file.extend(body);
    file
}

/// Damage aimed at a WAV file's header: a flipped byte or a size field overwritten with an
/// extreme value in its first 100 bytes, or any of the text damages.
fn wav_damage() -> impl Strategy<Value = Damage> {
    let extreme = prop_oneof![
        Just(0u32),
        Just(1),
        Just(3),
        Just(0x7FFF_FFFF),
        Just(0xFFFF_FFF0),
        Just(u32::MAX),
        any::<u32>(),
    ];
    prop_oneof![
        (0usize..100, 1u8..=255).prop_map(|(at, mask)| Damage::FlipHeader(at, mask)),
        (0usize..100, extreme).prop_map(|(at, value)| Damage::SetU32(at, value)),
        damage(),
    ]
}

/// Decodes what hound (an independent reader) makes of a file, full scale = 1.0, as Earstage
/// scales it; `None` where hound does not read the encoding (64-bit float).
fn hound_samples(bytes: &[u8], encoding: Encoding) -> Option<Vec<f32>> {
    if let Encoding::Float64 = encoding {
        return None;
    }
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("hound reads it");
    match encoding {
        Encoding::Float64 => None,
        Encoding::Float32 => Some(reader.into_samples::<f32>().map(Result::unwrap).collect()),
        Encoding::Int16 | Encoding::Int24 | Encoding::Int32 => {
            let full_scale = f64::from(1u32 << (encoding.bits() - 1));
            Some(
                reader
                    .into_samples::<i32>()
                    .map(|x| (f64::from(x.unwrap()) / full_scale) as f32)
                    .collect(),
            )
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// WAV files in every encoding the reader accepts, most of them damaged in the header.
    #[test]
    fn wav_files(
        encoding in encoding(),
        channels in 1u16..=8,
        rate in prop_oneof![Just(44_100u32), Just(48_000), Just(96_000), 8_000u32..=768_000],
        raw in prop::collection::vec(any::<i32>(), 0..600),
        extensible in any::<bool>(),
        extra in (
            prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
            prop::option::of(prop::collection::vec(any::<u8>(), 0..9)),
        ),
        damages in prop::collection::vec(wav_damage(), 0..3),
    ) {
        let frames = raw.len() / usize::from(channels);
        let samples = &raw[..frames * usize::from(channels)];
        let clean = wav_file(encoding, channels, rate, samples, extensible, extra);
        let mut bytes = clean.clone();
        for d in &damages {
            apply(&mut bytes, d);
        }
        let path = scratch("audio.wav");
        std::fs::write(&path, &bytes).unwrap();

        let read = AudioFile::open(&path).and_then(|mut wav| {
            let mut planar = vec![Vec::new(); wav.channels];
            let mut interleaved = Vec::new();
            let mut calls = 0;
            loop {
                let n = wav.read_block(&mut planar)?;
                calls += 1;
                // Every call but the last returns a whole block, so a file cannot read forever.
                assert!(n <= BLOCK_FRAMES && calls <= bytes.len() / BLOCK_FRAMES + 2);
                if n == 0 {
                    break;
                }
                interleaved.extend((0..n).flat_map(|i| planar.iter().map(move |ch| ch[i])));
            }
            Ok((wav, interleaved))
        });
        check_memory()?;
        match read {
            Err(err) => {
                prop_assert!(!damages.is_empty(), "an undamaged file was refused: {err}");
                let message = err.to_string();
                prop_assert!(message.starts_with(&path.display().to_string()), "{message}");
                prop_assert!(
                    ["Earstage reads", "a file must"]
                        .iter()
                        .any(|hint| message.contains(hint)),
                    "the message does not say what is allowed: {message}"
                );
            }
            Ok((wav, decoded)) => {
                prop_assert!((1..=8).contains(&wav.channels));
                let Some(bits) = wav.encoding.bits_per_sample else {
                    // A damaged format tag can name a compressed WAV codec (ADPCM, A-law, µ-law)
                    // that decodes: a readable file, reported as the lossy codec it now is.
                    prop_assert!(!damages.is_empty(), "an undamaged PCM file read as {:?}", wav.encoding);
                    prop_assert!(
                        ["ADPCM", "A-law", "µ-law"].contains(&wav.encoding.codec),
                        "{:?}",
                        wav.encoding
                    );
                    prop_assert!(!wav.encoding.lossless);
                    return Ok(());
                };
                // No more frames than the file has bytes for.
                let frame_bytes = wav.channels as u64 * u64::from(bits.div_ceil(8));
                prop_assert!(wav.frames_read * frame_bytes <= bytes.len() as u64);
                prop_assert_eq!(decoded.len() as u64, wav.frames_read * wav.channels as u64);
                if damages.is_empty() {
                    prop_assert_eq!(wav.channels, usize::from(channels));
                    prop_assert_eq!(wav.sample_rate, rate);
                    // hound does not skip the pad byte after an odd-sized chunk (RIFF requires
                    // it), so it decodes the same samples laid out without the extra chunks.
                    let plain = wav_file(encoding, channels, rate, samples, extensible, (None, None));
                    let want = hound_samples(&plain, encoding).unwrap_or_else(|| {
                        samples
                            .iter()
                            .map(|&x| (f64::from(x) / 2_147_483_648.0) as f32)
                            .collect()
                    });
                    let same = want.iter().zip(&decoded).all(|(a, b)| a.to_bits() == b.to_bits());
                    prop_assert!(same && want.len() == decoded.len(), "{encoding:?}");
                }
            }
        }
    }
}
