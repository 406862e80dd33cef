//! Every audio format `earstage analyze` and `render` read, against closed forms. The fixtures in
//! `tests/data/audio/` were encoded by ffmpeg 5.1 from one 24-bit source, half a second at
//! 48 kHz: left a 997 Hz sine at −20 dBFS, right a 440 Hz sine at −26 dBFS, each sample
//! `round(A·sin(2πfn/48000)·(2^23 − 1))`. Lossless files must decode to exactly those samples,
//! lossy ones to the same sines at their level.

use std::path::{Path, PathBuf};

use earstage::offline::audio_file::{AudioFile, AudioFileError};

mod support;

const RATE: u32 = 48_000;
const FRAMES: usize = 24_000;
/// (peak dBFS, Hz) of the left and right channels.
const CHANNELS: [(f64, f64); 2] = [(-20.0, 997.0), (-26.0, 440.0)];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/audio")
        .join(name)
}

/// Sample `n` of a channel as the source held it, full scale 1.0.
fn source_sample(channel: usize, n: usize) -> f64 {
    let (db, hz) = CHANNELS[channel];
    let x = 10f64.powf(db / 20.0) * (std::f64::consts::TAU * hz * n as f64 / f64::from(RATE)).sin();
    (x * f64::from((1 << 23) - 1)).round() / f64::from(1 << 23)
}

fn read_all(path: &Path) -> (AudioFile, Vec<Vec<f32>>) {
    let mut file = AudioFile::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut all = vec![Vec::new(); file.channels];
    let mut block = vec![Vec::new(); file.channels];
    while file
        .read_block(&mut block)
        .unwrap_or_else(|e| panic!("{e}"))
        > 0
    {
        for (out, ch) in all.iter_mut().zip(&block) {
            out.extend_from_slice(ch);
        }
    }
    (file, all)
}

#[test]
fn lossless_formats_decode_to_the_source_samples() {
    for (name, codec, bits) in [
        ("tone.flac", "FLAC", 24),
        ("tone.aiff", "PCM", 24),
        ("tone-float.aifc", "float PCM", 32),
        ("tone-alac.m4a", "ALAC", 24),
    ] {
        let (file, audio) = read_all(&fixture(name));
        assert_eq!(
            (file.sample_rate, file.channels),
            (RATE, 2),
            "{name}: rate and channels"
        );
        assert_eq!(file.encoding.codec, codec, "{name}");
        assert_eq!(file.encoding.bits_per_sample, Some(bits), "{name}");
        assert_eq!(audio[0].len(), FRAMES, "{name}: every frame, no more");
        for (ch, samples) in audio.iter().enumerate() {
            for (n, &x) in samples.iter().enumerate() {
                // The source was computed with another libm (Python's): its rounding of the sine
                // may differ from ours by one step of the 24-bit grid, nowhere by more.
                let want = source_sample(ch, n);
                assert!(
                    (f64::from(x) - want).abs() <= 1.0 / f64::from(1 << 23),
                    "{name}: channel {ch}, sample {n}: {x} against {want}"
                );
            }
        }
    }
}

/// AIFC float as libsndfile and SoX write it (the code `FL32` in capitals) reads exactly as the
/// lowercase `fl32` Apple writes: the fixture with only those four bytes changed.
#[test]
fn aifc_float_with_an_uppercase_code_reads() {
    let original = std::fs::read(fixture("tone-float.aifc")).unwrap();
    let at = original
        .windows(4)
        .position(|w| w == b"fl32")
        .expect("the fixture names its codec");
    let mut upper = original.clone();
    upper[at..at + 4].copy_from_slice(b"FL32");
    let dir = support::TempDir::new("fl32");
    let path = dir.join("upper.aifc");
    std::fs::write(&path, &upper).unwrap();
    let (file, audio) = read_all(&path);
    let (_, want) = read_all(&fixture("tone-float.aifc"));
    assert_eq!(file.encoding.codec, "float PCM");
    assert_eq!(file.encoding.bits_per_sample, Some(32));
    assert_eq!(audio, want);
}

#[test]
fn lossy_formats_decode_to_the_same_sines() {
    for (name, codec) in [
        ("tone.mp3", "MP3"),
        ("tone-aac.m4a", "AAC"),
        ("tone.ogg", "Vorbis"),
    ] {
        let (file, audio) = read_all(&fixture(name));
        assert_eq!((file.sample_rate, file.channels), (RATE, 2), "{name}");
        assert_eq!(file.encoding.codec, codec, "{name}");
        assert_eq!(file.encoding.bits_per_sample, None, "{name}");
        assert_eq!(file.skipped_packets, 0, "{name}");
        // Encoder delay and padding are trimmed where the file says how much (gapless); what
        // may remain is at most one priming delay and one frame (2112 + 1152 samples).
        let frames = audio[0].len();
        assert!(
            frames.abs_diff(FRAMES) <= 2112 + 1152,
            "{name}: {frames} frames for {FRAMES}"
        );
        for (ch, samples) in audio.iter().enumerate() {
            // The middle 0.3 s, away from the codecs' start-up and the cut at the end. A sine of
            // peak A has an RMS of A/√2; a codec at 128 kbit/s or more keeps a steady tone's level
            // to well within 0.1 dB (its quantization noise is tens of dB down).
            let middle = &samples[frames / 2 - 7_200..frames / 2 + 7_200];
            let rms = (middle.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>()
                / middle.len() as f64)
                .sqrt();
            let want = CHANNELS[ch].0 - 20.0 * 2f64.sqrt().log10();
            let got = 20.0 * rms.log10();
            assert!(
                (got - want).abs() < 0.1,
                "{name}: channel {ch} RMS {got:.3} dBFS, the sine's is {want:.3}"
            );
        }
    }
}

/// An Ogg Vorbis stream ends at its last page's granule position, not at the end of its last
/// packet: the fixture decodes to the source's 24 000 frames exactly (as libvorbisfile's `oggdec`
/// and ffprobe count it; symphonia alone gives 24 128), and its last frames are the source's
/// last frames, so what was trimmed is the decoder's run-on at the end.
#[test]
fn vorbis_ends_at_its_last_granule_position() {
    let (file, audio) = read_all(&fixture("tone.ogg"));
    assert_eq!(file.declared_frames, Some(FRAMES as u64));
    assert_eq!(audio[0].len(), FRAMES);
    assert!(file.lossy_shortfall_s().is_none() && !file.ogg_ends_unterminated());
    for (ch, samples) in audio.iter().enumerate() {
        // The last 2000 frames against the source's: Vorbis keeps a steady sine's error tens of
        // dB below it; the same frames shifted by the 128 trimmed would differ by about the
        // sine's own level (at 440 Hz, 2·sin(π·440·128/48000) = 1.9 times its RMS).
        let range = FRAMES - 2_000..FRAMES;
        let (mut error, mut signal) = (0.0, 0.0);
        for n in range {
            let want = source_sample(ch, n);
            error += (f64::from(samples[n]) - want).powi(2);
            signal += want.powi(2);
        }
        let db = 10.0 * (error / signal).log10();
        assert!(
            db < -30.0,
            "channel {ch}: error {db:.1} dB against the source"
        );
    }
}

#[test]
fn what_is_not_audio_is_refused_with_the_file_named() {
    let dir = support::TempDir::new("audio");
    let text = dir.join("notes.wav");
    std::fs::write(&text, "these are not samples\n").unwrap();
    let empty = dir.join("empty.flac");
    std::fs::write(&empty, []).unwrap();
    let cut = dir.join("cut.flac");
    let flac = std::fs::read(fixture("tone.flac")).unwrap();
    std::fs::write(&cut, &flac[..flac.len() / 2]).unwrap();
    for path in [&text, &empty] {
        let err = AudioFile::open(path).err().expect("refused");
        let message = err.to_string();
        assert!(
            matches!(err, AudioFileError::Unreadable { .. }),
            "{message}"
        );
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(
            message.contains("Earstage reads WAV, AIFF, FLAC"),
            "{message}"
        );
    }
    // Half a FLAC file: the frames its header declares are not all there.
    let mut file = AudioFile::open(&cut).expect("the header is whole");
    let mut block = vec![Vec::new(); 2];
    let err = loop {
        match file.read_block(&mut block) {
            Ok(0) => panic!("half a FLAC file read to its end without an error"),
            Ok(_) => {}
            Err(err) => break err,
        }
    };
    let message = err.to_string();
    assert!(message.starts_with(&cut.display().to_string()), "{message}");
    assert!(
        matches!(
            err,
            AudioFileError::Truncated {
                expected: 24_000,
                ..
            } | AudioFileError::Damaged { .. }
        ),
        "{message}"
    );
}

/// A WAVE_FORMAT_EXTENSIBLE header declaring 40 channels with no channel mask makes symphonia
/// 0.5 overflow a shift (a panic in a debug build): Earstage must answer with an error.
#[test]
fn a_decoder_panic_is_an_error() {
    let mut fmt = Vec::new();
    fmt.extend(0xFFFEu16.to_le_bytes()); // WAVE_FORMAT_EXTENSIBLE
    fmt.extend(40u16.to_le_bytes()); // channels
    fmt.extend(48_000u32.to_le_bytes());
    fmt.extend((48_000u32 * 80).to_le_bytes());
    fmt.extend(80u16.to_le_bytes()); // block align
    fmt.extend(16u16.to_le_bytes()); // bits
    fmt.extend(22u16.to_le_bytes());
    fmt.extend(16u16.to_le_bytes()); // valid bits
    fmt.extend(0u32.to_le_bytes()); // channel mask: none
    fmt.extend(1u16.to_le_bytes()); // KSDATAFORMAT_SUBTYPE_PCM
    fmt.extend([
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    let mut body = b"WAVEfmt ".to_vec();
    body.extend((fmt.len() as u32).to_le_bytes());
    body.extend(&fmt);
    body.extend(b"data");
    body.extend(160u32.to_le_bytes());
    body.extend([0u8; 160]);
    let mut bytes = b"RIFF".to_vec();
    bytes.extend((body.len() as u32).to_le_bytes());
    bytes.extend(body);
    let dir = support::TempDir::new("40ch");
    let path = dir.join("forty.wav");
    std::fs::write(&path, bytes).unwrap();
    let err = AudioFile::open(&path)
        .err()
        .expect("40 channels are refused");
    let message = err.to_string();
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains("Earstage reads") || message.contains("a file must"),
        "{message}"
    );
}

/// The Ogg CRC-32 (polynomial 0x04c11db7, not reflected, no final xor), for a hand-built page.
fn ogg_crc(bytes: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in bytes {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// An Ogg Opus file (its first page, the OpusHead packet, built here by the RFC 7845 layout) and
/// an RF64 header are refused with what they are and what Earstage reads; never a garbled
/// "unsupported codec is not supported" or "the file ends early".
#[test]
fn opus_and_rf64_are_named() {
    let dir = support::TempDir::new("codecs");
    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(2); // channels
    head.extend(312u16.to_le_bytes()); // pre-skip
    head.extend(48_000u32.to_le_bytes());
    head.extend(0i16.to_le_bytes()); // output gain
    head.push(0); // channel mapping family
    let mut tags = b"OpusTags".to_vec();
    tags.extend(4u32.to_le_bytes());
    tags.extend(b"test");
    tags.extend(0u32.to_le_bytes());
    let page = |kind: u8, sequence: u32, granule: u64, packet: &[u8]| {
        let mut p = b"OggS".to_vec();
        p.push(0);
        p.push(kind);
        p.extend(granule.to_le_bytes());
        p.extend(0x4541_5253u32.to_le_bytes());
        p.extend(sequence.to_le_bytes());
        p.extend(0u32.to_le_bytes());
        p.push(1);
        p.push(packet.len() as u8);
        p.extend(packet);
        let crc = ogg_crc(&p);
        p[22..26].copy_from_slice(&crc.to_le_bytes());
        p
    };
    let mut opus = page(2, 0, 0, &head);
    opus.extend(page(0, 1, 0, &tags));
    // One audio packet (a 20 ms CELT frame's TOC byte and filler) on the last page.
    for sequence in 2..12 {
        let last = if sequence == 11 { 4 } else { 0 };
        opus.extend(page(
            last,
            sequence,
            960 * u64::from(sequence - 1),
            &[0xfc, 0xff, 0xfe],
        ));
    }
    let opus_path = dir.join("voice.opus");
    std::fs::write(&opus_path, &opus).unwrap();
    let err = AudioFile::open(&opus_path).err().expect("refused");
    let message = err.to_string();
    assert!(
        message.contains("Opus") && message.contains("Earstage reads WAV"),
        "{message}"
    );
    assert!(!message.contains("is not supported"), "{message}");

    let mut rf64 = b"RF64".to_vec();
    rf64.extend(u32::MAX.to_le_bytes());
    rf64.extend(b"WAVEds64");
    rf64.extend([0u8; 64]);
    let rf64_path = dir.join("long.wav");
    std::fs::write(&rf64_path, &rf64).unwrap();
    let message = AudioFile::open(&rf64_path)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        message.contains("RF64") && !message.contains("ends early"),
        "{message}"
    );
}

/// A WAV whose "RIFF" is damaged, with an ADTS sync word in its samples, is refused as not what
/// its name says (the probe would otherwise read it as AAC and report silence), the case the
/// property test in files.rs once found.
#[test]
fn a_damaged_header_is_not_read_as_another_format() {
    let samples: [i32; 26] = {
        let mut s = [0; 26];
        s[..3].copy_from_slice(&[-234_881_282, -1_098_478_994, -729_410_488]);
        s
    };
    let data: Vec<u8> = samples.iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut body = b"WAVEfmt ".to_vec();
    body.extend(16u32.to_le_bytes());
    for v in [1u16, 1] {
        body.extend(v.to_le_bytes());
    }
    body.extend(44_100u32.to_le_bytes());
    body.extend((44_100u32 * 4).to_le_bytes());
    body.extend(4u16.to_le_bytes());
    body.extend(32u16.to_le_bytes());
    body.extend(b"data");
    body.extend((data.len() as u32).to_le_bytes());
    body.extend(&data);
    let mut bytes = b"PIFF".to_vec(); // "RIFF" with one bit flipped
    bytes.extend((body.len() as u32).to_le_bytes());
    bytes.extend(body);
    let dir = support::TempDir::new("piff");
    let path = dir.join("damaged.wav");
    std::fs::write(&path, bytes).unwrap();
    let message = AudioFile::open(&path).err().expect("refused").to_string();
    assert!(
        message.contains("its name says WAV") && message.contains("Earstage reads"),
        "{message}"
    );
}

/// Files a user meets that Earstage does not read are named for what they are, with what to do:
/// a CAF and a Wave64 file (not "the file ends early"), FLAC inside Ogg (not "a damaged
/// header"), and a 300-channel WAV as "300 channels", as 16 channels already is.
#[test]
fn foreign_files_are_named_with_what_to_do() {
    let dir = support::TempDir::new("foreign");
    let mut w64 = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\0\0".to_vec();
    w64.extend([0u8; 200]);
    let mut caf = b"caff\0\x01\0\0desc".to_vec();
    caf.extend([0u8; 200]);
    let mut ogg_flac = b"OggS\0\x02".to_vec();
    ogg_flac.extend([0u8; 21]);
    ogg_flac.push(51);
    ogg_flac.extend(b"\x7fFLAC\x01\x00\x00\x01fLaC");
    ogg_flac.extend([0u8; 200]);
    let mut wide = b"RIFF\xff\0\0\0WAVEfmt \x10\0\0\0\x01\0".to_vec();
    wide.extend(300u16.to_le_bytes());
    wide.extend(48_000u32.to_le_bytes());
    wide.extend((48_000u32 * 600).to_le_bytes());
    wide.extend(600u16.to_le_bytes());
    wide.extend(16u16.to_le_bytes());
    wide.extend(b"data\0\0\0\0");
    for (name, bytes, says) in [
        ("a.w64", &w64, "Wave64"),
        ("a.caf", &caf, "Core Audio"),
        ("a.oga", &ogg_flac, "FLAC inside an Ogg"),
        ("wide.wav", &wide, "unsupported: 300 channels"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let message = AudioFile::open(&path).err().expect("refused").to_string();
        assert!(message.contains(says), "{name}: {message}");
        assert!(
            !message.contains("ends early") && !message.contains("damaged header"),
            "{name}: {message}"
        );
    }
}
