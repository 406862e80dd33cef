//! The listener's exposure record on disk, shared by every instance, project and process of one
//! user (docs/spl.md, "Your week"): one JSON file per UTC day in the user's data folder
//! (`$XDG_DATA_HOME/earstage/exposure` on Linux, honouring the variable, else
//! `~/.local/share/earstage/exposure`; `~/Library/Application Support/earstage/exposure` on
//! macOS; `%APPDATA%\earstage\exposure` on Windows).
//!
//! - Atomic: a day is written to a temporary file beside it, synced, and renamed over it, so a
//!   crash or power cut at any point leaves the previous record readable.
//! - Locked: a writer holds an exclusive lock on the folder's `lock` file while it reads, merges
//!   and writes, so two processes never lose each other's minutes.
//! - A damaged or foreign day file is set aside (renamed to `DATE.json.damaged-UNIX`) with a
//!   message naming it; the other days are kept. Days older than the window are removed.
//!
//! Off the audio thread only: this does file I/O and allocates.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::output::write_atomically;
use crate::model::units::utc_date;
use crate::model::week::{DAY_S, Day, Heard, WeekSummary, day_and_minute, summarise};

/// Day files older than this many days before today are removed (the window touches eight).
const KEEP_DAYS: i64 = 8;

/// What went wrong with the store: the folder or file, and why.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StoreError {
    #[error("no user data folder is known on this system (set XDG_DATA_HOME or HOME)")]
    NoDataFolder,
    #[error("{}: {reason}", path.display())]
    Io { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// The record's folder and the files in it.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekStore {
    dir: PathBuf,
}

/// The days read, and what was set aside on the way (one message per file).
#[derive(Debug, Default)]
pub struct Loaded {
    pub days: Vec<Day>,
    pub set_aside: Vec<String>,
}

/// The warnings already given: how many hundreds of the weekly dose.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Warned {
    hundreds: u32,
}

impl WeekStore {
    /// The store of this user, in the platform's data folder.
    pub fn for_user() -> Result<Self, StoreError> {
        let base = dirs::data_dir().ok_or(StoreError::NoDataFolder)?;
        Ok(Self::at(base.join("earstage").join("exposure")))
    }

    /// A store in `dir` (created when first written).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn day_path(&self, day: i64) -> PathBuf {
        self.dir
            .join(format!("{}.json", utc_date(day as f64 * DAY_S)))
    }

    /// The folder, and the exclusive lock on it (released when the file is dropped).
    fn lock(&self) -> Result<File, StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        file.lock().map_err(io(&path))?;
        Ok(file)
    }

    /// One day's file: `None` if there is none; a damaged one is renamed aside and said.
    fn read_day(&self, day: i64, set_aside: &mut Vec<String>) -> Result<Option<Day>, StoreError> {
        let path = self.day_path(day);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let parsed = serde_json::from_slice::<Day>(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|d| d.check(day).map(|()| d));
        match parsed {
            Ok(d) => Ok(Some(d)),
            Err(reason) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let mut name = path.file_name().unwrap_or_default().to_os_string();
                name.push(format!(".damaged-{now}"));
                let aside = path.with_file_name(name);
                std::fs::rename(&path, &aside).map_err(io(&path))?;
                set_aside.push(format!(
                    "{} could not be read ({reason}); it was set aside as {} and that day starts \
                     from zero",
                    path.display(),
                    aside.display()
                ));
                Ok(None)
            }
        }
    }

    fn write_day(&self, day: &Day) -> Result<(), StoreError> {
        let path = self.day_path(day.day);
        let text = serde_json::to_vec(day).map_err(|e| StoreError::Io {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_atomically(&path, |partial| {
            let mut file = File::create(partial).map_err(|e| e.to_string())?;
            file.write_all(&text).map_err(|e| e.to_string())?;
            file.sync_all().map_err(|e| e.to_string())
        })
        .map_err(|e| StoreError::Io {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        // The rename is durable once the folder is synced (where the platform allows it).
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Book what `instance` delivered, as (moment in the minute, heard) pieces, and remove days
    /// that have left the window. Returns what was set aside on the way.
    pub fn add(
        &self,
        instance: &str,
        pieces: &[(f64, Heard)],
        now_unix_s: f64,
    ) -> Result<Vec<String>, StoreError> {
        let _lock = self.lock()?;
        let mut set_aside = Vec::new();
        let mut touched: Vec<Day> = Vec::new();
        for (at, heard) in pieces.iter().filter(|(_, h)| !h.is_empty()) {
            let (d, minute) = day_and_minute(*at);
            if !touched.iter().any(|x| x.day == d) {
                let day = self
                    .read_day(d, &mut set_aside)?
                    .unwrap_or_else(|| Day::new(d));
                touched.push(day);
            }
            let day = touched.iter_mut().find(|x| x.day == d).expect("just added");
            day.add(minute, instance, heard);
        }
        for day in &touched {
            self.write_day(day)?;
        }
        self.remove_old(now_unix_s)?;
        Ok(set_aside)
    }

    /// Day files from before the window.
    fn remove_old(&self, now_unix_s: f64) -> Result<(), StoreError> {
        let (today, _) = day_and_minute(now_unix_s);
        for (day, path) in self.day_files()? {
            if day < today - KEEP_DAYS {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
        Ok(())
    }

    /// Every day file in the folder, by day number.
    fn day_files(&self) -> Result<Vec<(i64, PathBuf)>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(stem) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if let Some(day) = day_of_date(stem) {
                files.push((day, path));
            }
        }
        Ok(files)
    }

    /// The days the window ending at `now_unix_s` touches. Readers take no lock: a day file is
    /// only ever replaced whole.
    pub fn load(&self, now_unix_s: f64) -> Result<Loaded, StoreError> {
        let (today, _) = day_and_minute(now_unix_s);
        let mut loaded = Loaded::default();
        for d in today - 7..=today {
            if let Some(day) = self.read_day(d, &mut loaded.set_aside)? {
                loaded.days.push(day);
            }
        }
        Ok(loaded)
    }

    /// The rolling week up to `now_unix_s`.
    pub fn week(&self, now_unix_s: f64) -> Result<(WeekSummary, Vec<String>), StoreError> {
        let loaded = self.load(now_unix_s)?;
        Ok((summarise(&loaded.days, now_unix_s), loaded.set_aside))
    }

    /// Clear the record: every day file goes (the folder and anything set aside stay). Returns
    /// how many days were removed.
    pub fn reset(&self) -> Result<usize, StoreError> {
        let _lock = self.lock()?;
        let files = self.day_files()?;
        for (_, path) in &files {
            std::fs::remove_file(path).map_err(io(path))?;
        }
        let warned = self.dir.join("warned.json");
        if warned.exists() {
            std::fs::remove_file(&warned).map_err(io(&warned))?;
        }
        Ok(files.len())
    }

    /// Whether the weekly dose `weekly_percent` passed a further 100 % since the last warning
    /// any instance gave (remembered in the folder, so one warning per hundred for the user).
    pub fn warn(&self, weekly_percent: f64) -> Result<Option<u32>, StoreError> {
        let _lock = self.lock()?;
        let path = self.dir.join("warned.json");
        let warned: Warned = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let (hundreds, warn) = crate::model::week::next_warning(weekly_percent, warned.hundreds);
        if hundreds != warned.hundreds {
            let text = serde_json::to_vec(&Warned { hundreds }).expect("a number serialises");
            write_atomically(&path, |partial| {
                std::fs::write(partial, &text).map_err(|e| e.to_string())
            })
            .map_err(|e| StoreError::Io {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(warn.then_some(hundreds))
    }
}

/// "YYYY-MM-DD" to days since 1970-01-01 (proleptic Gregorian), if it is one.
fn day_of_date(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // H. Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let day = era * 146_097 + doe - 719_468;
    // Only a date that round-trips (no 31 February).
    (utc_date(day as f64 * DAY_S) == text).then_some(day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::iem::EARS;
    use crate::model::spl::mean_square_pa2;
    use crate::model::week::{MINUTE_S, weekly_percent};

    /// A folder of its own under the system's temporary folder, removed at the end.
    struct Folder(PathBuf);
    impl Folder {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("earstage-listener-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Self(dir)
        }
    }
    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// 2026-12-04 00:00 UTC.
    const MIDNIGHT: f64 = 1_796_342_400.0;

    fn minute_at(dba: f64) -> Heard {
        Heard {
            seconds: MINUTE_S,
            diffuse_pa2s: [mean_square_pa2(dba) * MINUTE_S; EARS],
            niosh_percent: [0.0; EARS],
        }
    }

    #[test]
    fn dates_to_days() {
        assert_eq!(day_of_date("1970-01-01"), Some(0));
        assert_eq!(day_of_date("2026-12-04"), Some((MIDNIGHT / DAY_S) as i64));
        assert_eq!(day_of_date("2000-02-29"), Some(11_016));
        for bad in [
            "2026-02-31",
            "2026-13-01",
            "26-12-04",
            "lock",
            "2026-12-04.x",
        ] {
            assert_eq!(day_of_date(bad), None, "{bad}");
        }
    }

    /// What two instances book lands in one record (a minute each ear takes once); across
    /// midnight the minutes go to their own days; days that left the window are removed.
    #[test]
    fn books_days_and_rolls() {
        let folder = Folder::new("books");
        let store = WeekStore::at(&folder.0);
        let pieces: Vec<(f64, Heard)> = (0..4)
            .map(|k| (MIDNIGHT - 120.0 + 60.0 * f64::from(k), minute_at(85.0)))
            .collect();
        assert!(
            store
                .add("a", &pieces, MIDNIGHT + 120.0)
                .unwrap()
                .is_empty()
        );
        store.add("b", &pieces, MIDNIGHT + 120.0).unwrap();
        assert!(folder.0.join("2026-12-03.json").exists());
        assert!(folder.0.join("2026-12-04.json").exists());
        let (week, said) = store.week(MIDNIGHT + 120.0).unwrap();
        assert!(said.is_empty());
        let want = weekly_percent(mean_square_pa2(85.0) * 240.0);
        assert!((week.weekly_percent[0] - want).abs() < 1e-12, "{week:?}");
        assert_eq!(week.instances_now, 2);
        // Nine days later the old days are removed when something is booked.
        let later = MIDNIGHT + 9.0 * DAY_S;
        store.add("a", &[(later, minute_at(70.0))], later).unwrap();
        assert!(!folder.0.join("2026-12-03.json").exists());
        assert_eq!(store.reset().unwrap(), 1);
        assert_eq!(store.week(later).unwrap().0.heard_s, 0.0);
    }

    /// A damaged file and one from a future format are set aside with a message naming them;
    /// the other days are kept and the damaged day starts again.
    #[test]
    fn damaged_days_are_set_aside() {
        let folder = Folder::new("damaged");
        let store = WeekStore::at(&folder.0);
        store
            .add("a", &[(MIDNIGHT - DAY_S, minute_at(90.0))], MIDNIGHT)
            .unwrap();
        std::fs::write(
            folder.0.join("2026-12-04.json"),
            b"{\"format\": 1, \"day\": ",
        )
        .unwrap();
        let (week, said) = store.week(MIDNIGHT + 60.0).unwrap();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains("2026-12-04.json") && said[0].contains("set aside"),
            "{said:?}"
        );
        assert!((week.heard_s - 60.0).abs() < 1e-9, "yesterday is kept");
        let aside: Vec<_> = std::fs::read_dir(&folder.0)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
            .collect();
        assert_eq!(aside.len(), 1);
        let future = Day {
            format: 7,
            ..Day::new((MIDNIGHT / DAY_S) as i64)
        };
        std::fs::write(
            folder.0.join("2026-12-04.json"),
            serde_json::to_vec(&future).unwrap(),
        )
        .unwrap();
        let (_, said) = store.week(MIDNIGHT + 60.0).unwrap();
        assert!(said[0].contains("format 7"), "{said:?}");
        // Booking after that starts the day afresh.
        store
            .add("a", &[(MIDNIGHT, minute_at(90.0))], MIDNIGHT + 60.0)
            .unwrap();
        assert!((store.week(MIDNIGHT + 60.0).unwrap().0.heard_s - 120.0).abs() < 1e-9);
    }

    /// A write interrupted at any point leaves a readable record: the previous day whole
    /// (nothing but a temporary file written) or the new one (renamed into place). Every prefix
    /// of the new file's bytes stands in for a crash mid-write of the temporary file.
    #[test]
    fn an_interrupted_write_leaves_a_readable_record() {
        let folder = Folder::new("interrupted");
        let store = WeekStore::at(&folder.0);
        store
            .add("a", &[(MIDNIGHT, minute_at(80.0))], MIDNIGHT)
            .unwrap();
        let path = folder.0.join("2026-12-04.json");
        let before = std::fs::read(&path).unwrap();
        store
            .add("a", &[(MIDNIGHT + 60.0, minute_at(80.0))], MIDNIGHT)
            .unwrap();
        let after = std::fs::read(&path).unwrap();
        let partial = folder.0.join("2026-12-04.json.partial");
        for cut in 0..=after.len() {
            std::fs::write(&path, &before).unwrap();
            std::fs::write(&partial, &after[..cut]).unwrap();
            let (week, said) = store.week(MIDNIGHT + 120.0).unwrap();
            assert!(said.is_empty(), "cut at {cut}: {said:?}");
            assert!((week.heard_s - 60.0).abs() < 1e-9, "cut at {cut}");
        }
        // A booking after the crash writes over the stale temporary file.
        store
            .add("a", &[(MIDNIGHT + 120.0, minute_at(80.0))], MIDNIGHT)
            .unwrap();
        assert!((store.week(MIDNIGHT + 180.0).unwrap().0.heard_s - 120.0).abs() < 1e-9);
    }

    /// Two writers at once (threads standing in for processes) lose nothing: the lock makes each
    /// read-merge-write whole.
    #[test]
    fn concurrent_writers_lose_nothing() {
        let folder = Folder::new("concurrent");
        let store = WeekStore::at(&folder.0);
        std::thread::scope(|s| {
            for id in ["a", "b"] {
                let store = store.clone();
                s.spawn(move || {
                    for k in 0..40 {
                        let piece = Heard {
                            seconds: 1.0,
                            ..Heard::default()
                        };
                        store
                            .add(id, &[(MIDNIGHT + f64::from(k) * 60.0, piece)], MIDNIGHT)
                            .unwrap();
                    }
                });
            }
        });
        let loaded = store.load(MIDNIGHT + 3600.0).unwrap();
        let booked: f64 = loaded.days[0]
            .minutes
            .values()
            .flat_map(|m| m.values())
            .map(|h| h.seconds)
            .sum();
        assert_eq!(booked, 80.0);
    }

    /// Warnings are remembered in the folder: one per further 100 % for the user, whichever
    /// instance asks.
    #[test]
    fn warnings_once_per_hundred_for_the_user() {
        let folder = Folder::new("warned");
        let store = WeekStore::at(&folder.0);
        assert_eq!(store.warn(50.0).unwrap(), None);
        assert_eq!(store.warn(120.0).unwrap(), Some(1));
        assert_eq!(WeekStore::at(&folder.0).warn(130.0).unwrap(), None);
        assert_eq!(store.warn(201.0).unwrap(), Some(2));
    }
}
