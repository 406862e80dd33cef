//! The instance's part in the listener's week: a thread of its own that books what the audio
//! thread metered into the per-user record (`offline::week`) every few seconds and at the
//! end, and publishes the week's figures for the editor.
//!
//! Only what is heard counts. The host's offline processing (renders, bounces, freezes) is not
//! booked, and neither are the jumps of the project's own totals: a loaded project's record, a
//! reset.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atomic_float::AtomicF64;

use crate::design::thread::Worker;
use crate::dsp::spl::exposure::{ExposureStore, ExposureTotals};
use crate::model::iem::EARS;
use crate::model::week::{
    Heard, SUSTAINED_LISTENING_S, WeekSummary, heard_in_real_time, split_by_minute, unbroken,
};
use crate::offline::week::WeekStore;

/// How often the thread looks at the pace of what was heard.
const LOOK: Duration = Duration::from_secs(1);
/// How often it writes the record: every this many looks.
const LOOKS_PER_WRITE: u32 = 10;

/// Bookings of this process's instances that end within this long of one another end at one
/// moment, seconds.
const SHARED_END_S: f64 = 1.0;

/// The moment bookings end at, shared by the instances of one process.
///
/// The record splits each booking over the minutes it covers, ending at its booking time, and
/// keeps each ear's louder instance per minute. Two instances that book a few milliseconds apart
/// across a minute's edge would each put a sliver in the next minute, and the slivers would not
/// overlap: the week would count a little more than either instance heard. Ending both bookings
/// at one moment makes their spans nested, so each minute holds the longer of the two.
#[derive(Debug)]
pub struct BookingClock {
    /// The last booking's end, seconds since the epoch, as `f64` bits (0: none yet). Written by
    /// every instance's week thread.
    last_end: AtomicU64,
}

impl BookingClock {
    pub const fn new() -> Self {
        Self {
            last_end: AtomicU64::new(0),
        }
    }

    /// Where a booking made at `now` ends: the last booking's end when that is within
    /// a second of `now` (on either side), else `now`, which then becomes the last.
    pub fn end_for(&self, now: f64) -> f64 {
        let mut seen = self.last_end.load(Ordering::Acquire);
        loop {
            let last = f64::from_bits(seen);
            if seen != 0 && (now - last).abs() <= SHARED_END_S {
                return last;
            }
            match self.last_end.compare_exchange(
                seen,
                now.to_bits(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return now,
                Err(current) => seen = current,
            }
        }
    }
}

impl Default for BookingClock {
    fn default() -> Self {
        Self::new()
    }
}

/// The one booking clock of this process: every instance's week thread books through it.
static BOOKING_CLOCK: BookingClock = BookingClock::new();

/// What the editor shows of the week, written by the listener thread.
#[derive(Debug, Default)]
pub struct WeekShared {
    /// The host processes in real time (set at activation): what is heard is booked.
    pub realtime: AtomicBool,
    /// Per ear: the rolling week's dose (IEC 62368-1 CSD = WHO/ITU-T H.870), %; 0 before the
    /// first reading.
    pub weekly_percent: [AtomicF64; EARS],
    pub niosh_today_percent: [AtomicF64; EARS],
    /// Seconds heard in the window.
    pub heard_s: AtomicF64,
    /// Instances that delivered audio in the last two minutes (this one included).
    pub instances_now: AtomicU32,
    /// The hundreds of the weekly dose last passed and not yet acknowledged (0: none).
    pub warning_hundreds: AtomicU32,
    /// Where the record is, and the last problem with it; for the editor (not the audio thread).
    pub status: Mutex<WeekStatus>,
}

#[derive(Debug, Default, Clone)]
pub struct WeekStatus {
    pub folder: Option<String>,
    pub problem: Option<String>,
}

impl WeekShared {
    fn publish(&self, week: &WeekSummary) {
        let put = |a: &AtomicF64, v: f64| a.store(v, Ordering::Relaxed);
        for e in 0..EARS {
            put(&self.weekly_percent[e], week.weekly_percent[e]);
            put(&self.niosh_today_percent[e], week.niosh_today_percent[e]);
        }
        put(&self.heard_s, week.heard_s);
        self.instances_now
            .store(week.instances_now as u32, Ordering::Relaxed);
    }

    fn say(&self, problem: Option<String>) {
        if let Ok(mut status) = self.status.lock() {
            status.problem = problem;
        }
    }
}

/// Turns the project's running totals into what was heard since the last look.
#[derive(Debug)]
pub struct Booker {
    last: Option<(ExposureTotals, (u64, u64))>,
}

impl Booker {
    pub fn new() -> Self {
        Self { last: None }
    }

    /// What was heard since the last call, given the totals now, the store's generations (a
    /// load or a reset changes them) and its last jump (the totals just before and just after
    /// the last load or reset). Across a jump, what was heard up to it and since it are booked;
    /// the jump itself is not listening. `None` when nothing is to be booked: the first look,
    /// offline processing, nothing new; the next call counts from here.
    pub fn heard(
        &mut self,
        totals: &ExposureTotals,
        generations: (u64, u64),
        realtime: bool,
        jump: (&ExposureTotals, &ExposureTotals),
    ) -> Option<Heard> {
        let previous = self.last.replace((*totals, generations));
        let (last, seen) = previous?;
        if !realtime {
            return None;
        }
        let heard = if seen != generations {
            let (before, after) = jump;
            let mut heard = growth(&last, before);
            heard.add(&growth(after, totals));
            heard
        } else {
            growth(&last, totals)
        };
        (heard.seconds > 0.0).then_some(heard)
    }
}

/// What the totals grew by from `from` to `to` (nothing where they went down).
fn growth(from: &ExposureTotals, to: &ExposureTotals) -> Heard {
    Heard {
        seconds: (to.seconds - from.seconds).max(0.0),
        diffuse_pa2s: std::array::from_fn(|e| {
            (to.ears[e].diffuse_pa2s - from.ears[e].diffuse_pa2s).max(0.0)
        }),
        niosh_percent: std::array::from_fn(|e| {
            (to.ears[e].niosh_percent - from.ears[e].niosh_percent).max(0.0)
        }),
    }
}

impl Default for Booker {
    fn default() -> Self {
        Self::new()
    }
}

/// A random name for this instance in the record.
fn instance_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

fn now_unix_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What one instance books with: its name in the record, the project's totals, the record.
struct Booking {
    booker: Booker,
    /// When the last look was, seconds since the epoch (for the pace of what was heard).
    last_look_s: Option<f64>,
    /// What was heard before the instance had played [`Booking::sustained_s`], held back.
    pending: Heard,
    /// How long an instance plays before it books (`SUSTAINED_LISTENING_S`; less in tests).
    sustained_s: f64,
    /// It has played that long without a break: what it hears is booked as it goes.
    sustained: bool,
    /// What is heard and booked but not yet written (written every [`LOOKS_PER_WRITE`] looks).
    unwritten: Heard,
    /// Looks since the last write.
    looks: u32,
    id: String,
    exposure: Arc<ExposureStore>,
    store: Option<WeekStore>,
    shared: Arc<WeekShared>,
}

impl Booking {
    /// What to book of `heard`: nothing while the instance has played less than
    /// `sustained_s` without a break (held back), then what was held back with it, then all of
    /// it until a break.
    fn sustain(&mut self, heard: Heard) -> Option<Heard> {
        if self.sustained {
            return Some(heard);
        }
        self.pending.add(&heard);
        self.sustained = self.pending.seconds >= self.sustained_s;
        self.sustained.then(|| std::mem::take(&mut self.pending))
    }

    /// A break in the playing (audio faster than the wall clock, or under half its pace): the
    /// stretch ends, and what it held back was not listening.
    fn break_stretch(&mut self) {
        self.pending = Heard::default();
        self.sustained = false;
    }

    /// One look at `now`: what was heard since the last look, at what pace; what of it to book
    /// is kept for the next write.
    fn look(&mut self, now: f64) {
        let jump = self.exposure.last_jump();
        let heard = self.booker.heard(
            &self.exposure.saved(),
            self.exposure.generations(),
            self.shared.realtime.load(Ordering::Relaxed),
            (&jump.0, &jump.1),
        );
        let wall_s = self.last_look_s.map_or(0.0, |last| now - last);
        self.last_look_s = Some(now);
        let heard_s = heard.as_ref().map_or(0.0, |h| h.seconds);
        // Audio faster than the wall clock was not heard (a validator's fuzzer, a scanner): it
        // ends the stretch and is dropped. A second with little audio ends the stretch too: what
        // it has is the last of a stretch already booked, or else starts the next one (playing
        // that began or resumed within it). Nothing is booked until the instance has played a
        // while without a break.
        if !heard_in_real_time(heard_s, wall_s) {
            self.break_stretch();
            return;
        }
        if !unbroken(heard_s, wall_s) {
            if self.sustained {
                if let Some(last) = &heard {
                    self.unwritten.add(last);
                }
                self.break_stretch();
                return;
            }
            self.break_stretch();
        }
        if let Some(booked) = heard.and_then(|h| self.sustain(h)) {
            self.unwritten.add(&booked);
        }
    }

    /// The thread's tick: a look, and a write every [`LOOKS_PER_WRITE`] looks.
    fn tick(&mut self, now: f64) {
        self.looks += 1;
        if self.looks >= LOOKS_PER_WRITE {
            self.flush(now);
        } else {
            self.look(now);
        }
    }

    /// A look at `now`, then a write: book what was heard, read the week back, warn once per
    /// further 100 %.
    fn flush(&mut self, now: f64) {
        if self.store.is_none() {
            return;
        }
        self.look(now);
        self.looks = 0;
        let unwritten = std::mem::take(&mut self.unwritten);
        let heard = (unwritten.seconds > 0.0).then_some(unwritten);
        let (Some(store), shared) = (&self.store, &self.shared) else {
            return;
        };
        // Nothing is created on disk until something is heard (a host's plugin scan leaves no
        // trace).
        let result = (|| {
            let mut said = match &heard {
                Some(h) => store.add(
                    &self.id,
                    &split_by_minute(BOOKING_CLOCK.end_for(now), h),
                    now,
                )?,
                None => Vec::new(),
            };
            let (week, more) = store.week(now)?;
            said.extend(more);
            shared.publish(&week);
            let worst = week.weekly_percent.iter().fold(0.0f64, |m, &v| m.max(v));
            if heard.is_some()
                && let Some(hundreds) = store.warn(worst)?
            {
                shared.warning_hundreds.store(hundreds, Ordering::Relaxed);
            }
            Ok::<_, crate::offline::week::StoreError>(said)
        })();
        match result {
            Ok(said) if said.is_empty() => shared.say(None),
            Ok(said) => shared.say(Some(said.join("; "))),
            Err(e) => shared.say(Some(format!("the exposure record could not be kept: {e}"))),
        }
    }
}

/// The listener thread; dropping it books the last seconds, then stops and joins it.
pub struct WeekThread {
    /// Shared with the thread: a switch of the processing mode books on the caller's thread.
    booking: Arc<Mutex<Booking>>,
    _worker: Worker,
}

impl WeekThread {
    /// Books `exposure` into the user's record (or `store`, for tests) every 10 s and at the end,
    /// once the instance has played [`SUSTAINED_LISTENING_S`].
    pub fn spawn(
        exposure: Arc<ExposureStore>,
        shared: Arc<WeekShared>,
        store: Option<WeekStore>,
    ) -> Self {
        Self::spawn_sustained(exposure, shared, store, SUSTAINED_LISTENING_S)
    }

    /// [`WeekThread::spawn`], booking once the instance has played `sustained_s`.
    fn spawn_sustained(
        exposure: Arc<ExposureStore>,
        shared: Arc<WeekShared>,
        store: Option<WeekStore>,
        sustained_s: f64,
    ) -> Self {
        let store = match store.map_or_else(WeekStore::for_user, Ok) {
            Ok(store) => {
                if let Ok(mut status) = shared.status.lock() {
                    status.folder = Some(store.dir().display().to_string());
                }
                Some(store)
            }
            Err(e) => {
                shared.say(Some(format!("no exposure record: {e}")));
                None
            }
        };
        let booking = Arc::new(Mutex::new(Booking {
            booker: Booker::new(),
            // The first look measures its pace from the thread's start.
            last_look_s: Some(now_unix_s()),
            pending: Heard::default(),
            sustained_s,
            sustained: false,
            unwritten: Heard::default(),
            looks: 0,
            id: instance_id(),
            exposure,
            store,
            shared,
        }));
        let ticks = booking.clone();
        let worker = Worker::spawn("earstage-week", LOOK, move |stopping| {
            if let Ok(mut booking) = ticks.lock() {
                // The last call, as the instance goes, writes what is left.
                if stopping {
                    booking.flush(now_unix_s());
                } else {
                    booking.tick(now_unix_s());
                }
            }
            false
        });
        Self {
            booking,
            _worker: worker,
        }
    }

    /// The host processes in real time or not from now on (an activation): what was heard up to
    /// the switch is booked first, under the mode it was heard in, so no seconds go unbooked or
    /// are booked on the wrong side of it.
    pub fn set_realtime(&self, realtime: bool) {
        let Ok(mut booking) = self.booking.lock() else {
            return;
        };
        if booking.shared.realtime.load(Ordering::Relaxed) != realtime {
            booking.flush(now_unix_s());
            booking.shared.realtime.store(realtime, Ordering::Relaxed);
            // Count the new mode from the switch.
            booking.flush(now_unix_s());
        }
    }

    /// Books now, as the thread does every 10 s (for tests).
    pub fn book_now(&self) {
        if let Ok(mut booking) = self.booking.lock() {
            booking.flush(now_unix_s());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(seconds: f64, energy: f64) -> ExposureTotals {
        let mut t = ExposureTotals {
            seconds,
            ..ExposureTotals::default()
        };
        for ear in &mut t.ears {
            ear.diffuse_pa2s = energy;
            ear.niosh_percent = energy / 10.0;
        }
        t
    }

    /// The first look books nothing; then the growth of the totals is what was heard; a load or
    /// reset (new generations), a total that went down, and offline processing book nothing and
    /// count from there.
    #[test]
    fn books_only_what_was_heard() {
        let mut b = Booker::new();
        // Jumps that happen right at a look: nothing heard across them but what the totals say.
        let instant = |before: f64, b_energy: f64, after: f64, a_energy: f64| {
            (totals(before, b_energy), totals(after, a_energy))
        };
        let none = instant(0.0, 0.0, 0.0, 0.0);
        let none = (&none.0, &none.1);
        assert_eq!(b.heard(&totals(100.0, 5.0), (0, 0), true, none), None);
        let h = b.heard(&totals(110.0, 6.0), (0, 0), true, none).unwrap();
        assert_eq!((h.seconds, h.diffuse_pa2s[1]), (10.0, 1.0));
        let load = instant(110.0, 6.0, 500.0, 60.0);
        assert_eq!(
            b.heard(&totals(500.0, 60.0), (1, 0), true, (&load.0, &load.1)),
            None,
            "a load"
        );
        let reset = instant(500.0, 60.0, 0.0, 0.0);
        assert_eq!(
            b.heard(&totals(0.0, 0.0), (1, 1), true, (&reset.0, &reset.1)),
            None,
            "a reset"
        );
        assert_eq!(
            b.heard(&totals(5.0, 1.0), (1, 1), false, none),
            None,
            "offline"
        );
        let h = b.heard(&totals(8.0, 1.5), (1, 1), true, none).unwrap();
        assert_eq!(h.seconds, 3.0);
        assert_eq!(
            b.heard(&totals(8.0, 1.5), (1, 1), true, none),
            None,
            "nothing new"
        );
    }

    /// A project loaded between two looks: the 4 s heard before the load (up to the totals
    /// just before it) and the 3 s since (from the loaded totals) are booked, the jump itself
    /// is not.
    #[test]
    fn a_load_between_looks_books_both_sides() {
        let mut b = Booker::new();
        let none = (totals(0.0, 0.0), totals(0.0, 0.0));
        assert_eq!(
            b.heard(&totals(10.0, 1.0), (0, 0), true, (&none.0, &none.1)),
            None
        );
        let (before, after) = (totals(14.0, 1.4), totals(1000.0, 50.0));
        let h = b
            .heard(&totals(1003.0, 50.5), (1, 0), true, (&before, &after))
            .unwrap();
        assert!((h.seconds - 7.0).abs() < 1e-12, "{h:?}");
        assert!((h.diffuse_pa2s[0] - 0.9).abs() < 1e-12, "{h:?}");
    }

    /// Two instances that close a few milliseconds apart, at every offset within a minute
    /// (1 ms steps, so every straddle of a minute's edge is among them), book through one
    /// clock: the week holds the longer of the two spans, never more, and the louder
    /// instance's energy (plus, where a minute's edge falls in the few milliseconds only the
    /// longer span covers, the quieter instance's sliver there, which the ears did hear). Without
    /// the shared end, the louder instance's last 3 ms spill into the next minute beside the
    /// quieter one's whole span and the week counts 2.007 s of 2.004.
    #[test]
    fn two_instances_booked_ms_apart_count_once_at_every_offset() {
        use crate::model::week::{Day, day_and_minute, summarise, weekly_percent};
        let heard = |seconds: f64, energy: f64| Heard {
            seconds,
            diffuse_pa2s: [energy; EARS],
            niosh_percent: [energy / 10.0; EARS],
        };
        // The louder instance played a little less (its designs came later) and closes last.
        let (loud, quiet) = (heard(2.0, 8.0), heard(2.004, 2.0));
        let want = weekly_percent(loud.diffuse_pa2s[0]);
        let sliver = weekly_percent(quiet.diffuse_pa2s[0] * 0.004 / quiet.seconds);
        let base = 1_765_000_000.0_f64 - 1_765_000_000.0_f64 % 60.0;
        for step in 0..60_000 {
            let close = base + 120.0 + f64::from(step) * 1e-3;
            let clock = BookingClock::new();
            let mut day = Day::new(day_and_minute(close).0);
            for (id, h, at) in [("quiet", &quiet, close), ("loud", &loud, close + 0.003)] {
                for (t, piece) in split_by_minute(clock.end_for(at), h) {
                    let (d, minute) = day_and_minute(t);
                    assert_eq!(d, day.day);
                    day.add(minute, id, &piece);
                }
            }
            let week = summarise(&[day], close + 1.0);
            assert!(
                week.heard_s >= loud.seconds - 1e-9 && week.heard_s <= quiet.seconds + 1e-9,
                "closing at {close}: {} s",
                week.heard_s
            );
            let got = week.weekly_percent[0];
            assert!(
                got >= want * (1.0 - 1e-9) && got <= want * (1.0 + 1e-9) + sliver,
                "closing at {close}: {got} % against the louder instance's {want} %"
            );
        }
    }

    /// The clock shares an end within a second on either side and starts afresh after.
    #[test]
    fn the_booking_clock_shares_ends_within_a_second() {
        let clock = BookingClock::new();
        assert_eq!(clock.end_for(100.0), 100.0);
        assert_eq!(clock.end_for(100.9), 100.0);
        assert_eq!(clock.end_for(99.5), 100.0);
        assert_eq!(clock.end_for(101.5), 101.5);
        assert_eq!(clock.end_for(101.6), 101.5);
    }

    /// An instance's booking thread on a fresh record in a folder of the test's own, playing in
    /// real time, booking once it has played `sustained_s`.
    struct Instance {
        exposure: Arc<ExposureStore>,
        thread: WeekThread,
    }

    impl Instance {
        fn on(dir: &std::path::Path, sustained_s: f64) -> Self {
            let exposure = Arc::new(ExposureStore::default());
            let shared = Arc::new(WeekShared::default());
            shared.realtime.store(true, Ordering::Relaxed);
            let store = Some(WeekStore::at(dir));
            let thread = WeekThread::spawn_sustained(exposure.clone(), shared, store, sustained_s);
            thread.book_now();
            Self { exposure, thread }
        }

        /// The project's totals are now `seconds` (and `energy`); the thread books now.
        fn played(&self, seconds: f64, energy: f64) {
            self.exposure.publish(&totals(seconds, energy));
            self.thread.book_now();
        }
    }

    /// A folder of the test's own, emptied.
    fn folder(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("earstage-week-{name}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        dir
    }

    fn heard_s(dir: &std::path::Path) -> f64 {
        WeekStore::at(dir).week(now_unix_s()).unwrap().0.heard_s
    }

    /// A switch to offline processing and back (a render between two stretches of listening):
    /// the 0.2 s heard before the switch are booked at the switch, the 3 s rendered are not, the
    /// 0.1 s heard after it are; 0.3 s in all, whatever the thread's own looks did in between.
    /// (Short stretches: the test runs faster than real time, within a host buffer's slack.)
    #[test]
    fn a_switch_to_offline_books_at_the_switch() {
        let dir = folder("switch");
        let instance = Instance::on(&dir, 0.0);
        instance.exposure.publish(&totals(0.2, 1.0));
        instance.thread.set_realtime(false);
        instance.exposure.publish(&totals(3.2, 1.5));
        instance.thread.set_realtime(true);
        instance.played(3.3, 1.7);
        drop(instance);
        let (_, said) = WeekStore::at(&dir).week(now_unix_s()).unwrap();
        assert!(said.is_empty(), "{said:?}");
        assert!((heard_s(&dir) - 0.3).abs() < 1e-6, "{} s", heard_s(&dir));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// What pluginval does with its one long-lived instance: bursts of audio faster than the wall
    /// clock between pauses, a few seconds of audio over many seconds of wall clock in all. Each
    /// burst or pause breaks the stretch, so nothing is booked, however long the instance lives;
    /// audio at the wall clock's pace without a break for the stretch is booked whole.
    #[test]
    fn bursts_between_pauses_are_not_listening() {
        let dir = folder("bursts");
        let instance = Instance::on(&dir, 0.6);
        let mut total = 0.0;
        for _ in 0..4 {
            // A burst: 0.5 s of audio at once, then a pause of 0.3 s with none.
            total += 0.5;
            instance.played(total, total);
            std::thread::sleep(Duration::from_millis(300));
            instance.played(total, total);
        }
        assert_eq!(heard_s(&dir), 0.0, "bursts are not listening");
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(200));
            total += 0.2;
            instance.played(total, total);
        }
        drop(instance);
        assert!((heard_s(&dir) - 0.8).abs() < 1e-6, "{} s", heard_s(&dir));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// What a validator's fuzzer does: a minute of loud audio in "real-time" processing within a
    /// moment of wall-clock time. Nothing is booked; audio at the wall clock's pace afterwards is.
    #[test]
    fn audio_faster_than_the_clock_is_not_booked() {
        let dir = folder("fuzz");
        let instance = Instance::on(&dir, 0.0);
        instance.played(60.0, 1e4);
        // Half a second of audio in half a second of wall clock is heard.
        std::thread::sleep(Duration::from_millis(500));
        instance.played(60.5, 1e4 + 1.0);
        drop(instance);
        assert!((heard_s(&dir) - 0.5).abs() < 1e-9, "{} s", heard_s(&dir));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Nothing is booked until the instance has played a sustained stretch (0.6 s here; 10 s in
    /// the plugin): an instance that plays 0.5 s and goes books nothing; one that goes on books
    /// the whole 0.8 s once it has played 0.6 s.
    #[test]
    fn only_a_sustained_stretch_is_booked() {
        let dir = folder("sustained");
        let play = |seconds: &[f64]| {
            let instance = Instance::on(&dir, 0.6);
            let mut total = 0.0;
            for &s in seconds {
                std::thread::sleep(Duration::from_secs_f64(s));
                total += s;
                instance.played(total, total);
            }
        };
        play(&[0.5]);
        assert_eq!(heard_s(&dir), 0.0, "a short-lived instance books nothing");
        play(&[0.5, 0.3]);
        // The record keeps seconds as f32 (a few parts in 1e8).
        assert!((heard_s(&dir) - 0.8).abs() < 1e-6, "{} s", heard_s(&dir));
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[cfg(test)]
mod thread_tests {
    use super::*;

    /// The thread on its own clock: audio published at the wall clock's pace for 5 s (a stretch
    /// of 3 s here) is booked whole by the thread's looks and its last write as it goes.
    #[test]
    fn the_thread_books_real_time_audio_as_it_goes() {
        let dir = std::env::temp_dir().join(format!("earstage-ticks-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        let exposure = Arc::new(ExposureStore::default());
        let shared = Arc::new(WeekShared::default());
        shared.realtime.store(true, Ordering::Relaxed);
        let store = Some(WeekStore::at(&dir));
        let thread = WeekThread::spawn_sustained(exposure.clone(), shared, store, 3.0);
        let start = std::time::Instant::now();
        let mut played = 0.0;
        while start.elapsed().as_secs_f64() < 5.0 {
            played = start.elapsed().as_secs_f64();
            let mut totals = ExposureTotals {
                seconds: played,
                ..ExposureTotals::default()
            };
            for ear in &mut totals.ears {
                ear.diffuse_pa2s = played;
            }
            exposure.publish(&totals);
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(thread);
        let heard = WeekStore::at(&dir).week(now_unix_s()).unwrap().0.heard_s;
        // The first look only starts the count (the thread's first sight of the totals).
        assert!(
            heard > played - 1.01 && heard <= played + 1e-6,
            "{heard} of {played}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
