//! Reading audio files for offline analysis and rendering: WAV (EXTENSIBLE and 64-bit float
//! included), AIFF/AIFC, FLAC, MP3, Ogg Vorbis, AAC and ALAC (in MP4/M4A), decoded by
//! [symphonia](https://crates.io/crates/symphonia) to 32-bit float, full scale = 1.0.
//!
//! The file is streamed: at most one decoded packet and one block are held, whatever its length.
//! Every error names the file, what is wrong (the chunk, field or position where it is known)
//! and what Earstage reads.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::{AudioBufferRef, SampleBuffer};
use symphonia::core::codecs::{self, CodecParameters, CodecType, Decoder, DecoderOptions};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::{Limit, MetadataOptions};
use symphonia::core::probe::Hint;

/// Frames returned per call of [`AudioFile::read_block`].
pub const BLOCK_FRAMES: usize = 4_096;
/// The most channels read (the meters' limit, `dsp::MAX_CHANNELS`).
pub const MAX_CHANNELS: usize = 8;
/// The sample rates read, Hz.
pub const MIN_RATE_HZ: u32 = 8_000;
pub const MAX_RATE_HZ: u32 = 768_000;
/// File name extensions taken from a folder (compared without case); each names a format whose
/// codecs a file of that name must hold (a unit test keeps the two lists together).
pub const AUDIO_EXTENSIONS: [&str; 12] = [
    "wav", "wave", "bwf", "aif", "aiff", "aifc", "flac", "mp3", "ogg", "oga", "m4a", "mp4",
];
/// How far a lossy file's decoded length may fall short of its header's count before it counts
/// as cut short: two of the longest packets (Vorbis's 2048 frames).
pub const LOSSY_SLACK_FRAMES: u64 = 4_096;
/// Tags and cover art are skipped beyond this many bytes, so a damaged size field in them
/// cannot make us allocate what it claims.
const METADATA_LIMIT_BYTES: usize = 1 << 20;

/// What every error says Earstage reads.
const READS: &str = "Earstage reads WAV, AIFF, FLAC, MP3, Ogg Vorbis, AAC and ALAC, 1 to 8 \
                     channels at 8 to 768 kHz";

#[derive(Debug, thiserror::Error)]
pub enum AudioFileError {
    #[error("{path}: cannot read the file: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable audio file: {reason} ({READS})")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{path}: unsupported: {reason} ({READS})")]
    Unsupported { path: PathBuf, reason: String },
    #[error("{path}: damaged at {at_s:.3} s: {reason} (a file must decode to its end)")]
    Damaged {
        path: PathBuf,
        at_s: f64,
        reason: String,
    },
    #[error(
        "{path}: truncated: the header declares {expected} frames but the file ends after \
         {found} (a file must hold all the audio its header declares)"
    )]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
}

impl AudioFileError {
    /// `path` could not be opened or read.
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// `path` does not read as an audio file, for `reason`.
    fn unreadable(path: &Path, reason: String) -> Self {
        Self::Unreadable {
            path: path.to_owned(),
            reason,
        }
    }

    /// `path` is an audio file Earstage does not read, for `reason`.
    fn unsupported(path: &Path, reason: String) -> Self {
        Self::Unsupported {
            path: path.to_owned(),
            reason,
        }
    }
}

/// How the audio in a file is coded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// "PCM", "float PCM", "FLAC", "ALAC", "MP3", "AAC", "Vorbis".
    pub codec: &'static str,
    /// Bits per sample where the codec has them (PCM, FLAC, ALAC); `None` for lossy codecs.
    pub bits_per_sample: Option<u32>,
    /// PCM, FLAC and ALAC: every sample is in the file.
    pub lossless: bool,
}

impl Encoding {
    fn of(codec: CodecType, bits: Option<u32>) -> Self {
        use codecs::*;
        let name = match codec {
            CODEC_TYPE_PCM_F32LE | CODEC_TYPE_PCM_F32BE | CODEC_TYPE_PCM_F64LE
            | CODEC_TYPE_PCM_F64BE => "float PCM",
            CODEC_TYPE_FLAC => "FLAC",
            CODEC_TYPE_ALAC => "ALAC",
            CODEC_TYPE_MP3 | CODEC_TYPE_MP2 | CODEC_TYPE_MP1 => "MP3",
            CODEC_TYPE_AAC => "AAC",
            CODEC_TYPE_VORBIS => "Vorbis",
            CODEC_TYPE_ADPCM_MS
            | CODEC_TYPE_ADPCM_IMA_WAV
            | CODEC_TYPE_ADPCM_IMA_QT
            | CODEC_TYPE_ADPCM_G722
            | CODEC_TYPE_ADPCM_G726
            | CODEC_TYPE_ADPCM_G726LE => "ADPCM",
            // Eight-bit companded telephone codes: lossy, whatever width the header names.
            CODEC_TYPE_PCM_ALAW => "A-law",
            CODEC_TYPE_PCM_MULAW => "µ-law",
            _ => "PCM",
        };
        let lossless = matches!(name, "PCM" | "float PCM" | "FLAC" | "ALAC");
        // Float PCM's width is in its codec type; some readers leave the field empty.
        let float_bits = match codec {
            CODEC_TYPE_PCM_F32LE | CODEC_TYPE_PCM_F32BE => Some(32),
            CODEC_TYPE_PCM_F64LE | CODEC_TYPE_PCM_F64BE => Some(64),
            _ => None,
        };
        Self {
            codec: name,
            bits_per_sample: float_bits.or(bits).filter(|_| lossless),
            lossless,
        }
    }

    /// "24-bit FLAC", "32-bit float PCM", "MP3 (lossy)".
    pub fn describe(&self) -> String {
        match self.bits_per_sample {
            Some(bits) => format!("{bits}-bit {}", self.codec),
            None => format!("{} (lossy)", self.codec),
        }
    }
}

/// An open audio file, decoded as it is read.
pub struct AudioFile {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    pub sample_rate: u32,
    pub channels: usize,
    pub encoding: Encoding,
    /// Frames the file declares, where its header says (most formats do).
    pub declared_frames: Option<u64>,
    /// Frames returned so far.
    pub frames_read: u64,
    /// Packets a lossy decoder could not decode and skipped (a damaged frame in an MP3, say).
    pub skipped_packets: u64,
    /// The last decoded packet, planar, and how much of it has been returned.
    decoded: Option<SampleBuffer<f32>>,
    decoded_frames: usize,
    decoded_at: usize,
    end: bool,
    /// Frames the declared count may exceed what a whole file holds: symphonia 0.5 counts the
    /// 8 bytes of an AIFF SSND chunk's offset and block size as audio.
    count_slack: u64,
    /// The track is Vorbis (in Ogg, the one container of it symphonia reads).
    vorbis: bool,
}

impl AudioFile {
    /// Opens `path` and decodes its first packet: refused unless it holds an audio track that
    /// Earstage decodes, is what its name and its first bytes say, and has 1 to [`MAX_CHANNELS`]
    /// channels at [`MIN_RATE_HZ`] to [`MAX_RATE_HZ`].
    pub fn open(path: &Path) -> Result<Self, AudioFileError> {
        let file = File::open(path).map_err(|source| AudioFileError::io(path, source))?;
        let head = head_bytes(&file);
        if let Some(kind) = wide_wav(&head) {
            return Err(AudioFileError::unsupported(
                path,
                format!(
                    "it is {kind} (a WAV for files over 4 GB), which Earstage does not read yet; \
                     export it as WAV or FLAC, or in parts"
                ),
            ));
        }
        if let Some(what) = foreign_head(&head) {
            return Err(AudioFileError::unsupported(path, what));
        }
        let format = probe(path, file)?;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != codecs::CODEC_TYPE_NULL)
            .ok_or_else(|| AudioFileError::unreadable(path, "it holds no audio track".into()))?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        let decoder = make_decoder(path, &params)?;
        let encoding = Encoding::of(params.codec, bits_per_sample(&params));
        check_contents(path, &head, &encoding)?;
        let mut file = Self {
            path: path.to_owned(),
            format,
            decoder,
            track_id,
            sample_rate: params.sample_rate.unwrap_or(0),
            channels: params.channels.map_or(0, |c| c.count()),
            encoding,
            declared_frames: params.n_frames,
            frames_read: 0,
            skipped_packets: 0,
            decoded: None,
            decoded_frames: 0,
            decoded_at: 0,
            end: false,
            count_slack: count_slack(&params),
            vorbis: params.codec == codecs::CODEC_TYPE_VORBIS,
        };
        // The first packet settles what a header may leave open (an ADTS stream's channels).
        file.decode_next_guarded()?;
        file.check_layout()?;
        Ok(file)
    }

    /// 1 to [`MAX_CHANNELS`] channels at [`MIN_RATE_HZ`] to [`MAX_RATE_HZ`].
    fn check_layout(&self) -> Result<(), AudioFileError> {
        if !(1..=MAX_CHANNELS).contains(&self.channels) {
            return Err(AudioFileError::unsupported(
                &self.path,
                format!("{} channels", self.channels),
            ));
        }
        if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&self.sample_rate) {
            return Err(AudioFileError::unsupported(
                &self.path,
                format!("sample rate {} Hz", self.sample_rate),
            ));
        }
        Ok(())
    }

    /// The declared length, seconds, where the header gives it.
    pub fn declared_duration_s(&self) -> Option<f64> {
        self.declared_frames
            .map(|n| n as f64 / f64::from(self.sample_rate))
    }

    /// For a lossy file read to its end: the declared and the read length, seconds, when it held
    /// clearly less than its header declares (cut short). A lossy header's count may miss by a
    /// packet or two of encoder delay and padding, so less than [`LOSSY_SLACK_FRAMES`] is not
    /// counted. (A lossless file that ends early is an error of [`Self::read_block`].)
    pub fn lossy_shortfall_s(&self) -> Option<(f64, f64)> {
        let declared = self.declared_frames?;
        (!self.encoding.lossless && self.frames_read + LOSSY_SLACK_FRAMES < declared).then(|| {
            (
                declared as f64 / f64::from(self.sample_rate),
                self.duration_read_s(),
            )
        })
    }

    /// An Ogg Vorbis stream with no last page (the page flagged end-of-stream, which also gives
    /// its length): what a download or copy that stopped leaves. Such a file holds no count to
    /// fall short of, so [`Self::lossy_shortfall_s`] cannot tell.
    pub fn ogg_ends_unterminated(&self) -> bool {
        self.vorbis && self.declared_frames.is_none()
    }

    /// Where the programme ends, frames, when the decoder runs past it: a Vorbis stream's last
    /// page's granule position, which symphonia 0.5 gives as the track's frame count but does
    /// not trim the last packet to. libvorbisfile (`oggdec`) ends there, as ffprobe's duration
    /// does; the decoder's output starts where theirs does, so the excess is all at the end.
    /// Other codecs' counts are trimmed by symphonia itself (MP3's LAME tag, AAC's iTunSMPB) or
    /// are exact (PCM, FLAC, ALAC).
    fn end_at(&self) -> Option<u64> {
        self.vorbis.then_some(self.declared_frames).flatten()
    }

    /// The length of what has been read, seconds.
    pub fn duration_read_s(&self) -> f64 {
        self.frames_read as f64 / f64::from(self.sample_rate)
    }

    /// Reads up to [`BLOCK_FRAMES`] frames into `planar` (one Vec per channel, cleared first);
    /// returns the number of frames, 0 at the end. A file that ends before the frames its header
    /// declares is an error, as is a lossless packet that does not decode.
    pub fn read_block(&mut self, planar: &mut [Vec<f32>]) -> Result<usize, AudioFileError> {
        for channel in planar.iter_mut() {
            channel.clear();
        }
        let wanted = self.end_at().map_or(BLOCK_FRAMES, |end| {
            end.saturating_sub(self.frames_read)
                .min(BLOCK_FRAMES as u64) as usize
        });
        let mut filled = 0;
        while filled < wanted {
            if self.decoded_at == self.decoded_frames {
                if self.end || !self.decode_next_guarded()? {
                    break;
                }
                continue;
            }
            let take = (wanted - filled).min(self.decoded_frames - self.decoded_at);
            let samples = self.decoded.as_ref().map_or(&[][..], |b| b.samples());
            for (ch, out) in planar.iter_mut().enumerate().take(self.channels) {
                let start = ch * self.decoded_frames + self.decoded_at;
                out.extend_from_slice(&samples[start..start + take]);
            }
            self.decoded_at += take;
            filled += take;
        }
        self.frames_read += filled as u64;
        if filled == 0
            && let Some(expected) = self.declared_frames
            && self.frames_read + self.count_slack < expected
            && self.encoding.lossless
        {
            return Err(AudioFileError::Truncated {
                path: self.path.clone(),
                expected,
                found: self.frames_read,
            });
        }
        Ok(filled)
    }

    /// [`Self::decode_next`], with a panic in the decoder (a malformed file can trip one)
    /// turned into an error; the file reads as ended after it.
    fn decode_next_guarded(&mut self) -> Result<bool, AudioFileError> {
        let (path, at_s) = (self.path.clone(), self.duration_read_s());
        let result = guarded(&path, at_s, || self.decode_next());
        if result.is_err() {
            self.end = true;
            self.decoded_frames = 0;
            self.decoded_at = 0;
        }
        result
    }

    /// Decodes the next packet of the track; `false` at the end of the file.
    fn decode_next(&mut self) -> Result<bool, AudioFileError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                Err(DecodeError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.end = true;
                    return Ok(false);
                }
                Err(e) => return Err(self.damaged(&e)),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(decoded) => {
                    let spec = *decoded.spec();
                    let frames = decoded.frames();
                    if self.decoded.is_none() {
                        self.sample_rate = spec.rate;
                        self.channels = spec.channels.count();
                        // A container may not say the width (ALAC in MP4); the decoder's
                        // buffer does.
                        if self.encoding.lossless && self.encoding.bits_per_sample.is_none() {
                            self.encoding.bits_per_sample = match &decoded {
                                AudioBufferRef::U8(_) | AudioBufferRef::S8(_) => Some(8),
                                AudioBufferRef::U16(_) | AudioBufferRef::S16(_) => Some(16),
                                AudioBufferRef::U24(_) | AudioBufferRef::S24(_) => Some(24),
                                AudioBufferRef::U32(_) | AudioBufferRef::S32(_) => Some(32),
                                AudioBufferRef::F32(_) => Some(32),
                                AudioBufferRef::F64(_) => Some(64),
                            };
                        }
                    } else if spec.channels.count() != self.channels {
                        return Err(self.damaged_because(format!(
                            "the channel count changes from {} to {}",
                            self.channels,
                            spec.channels.count()
                        )));
                    }
                    let buffer = match &mut self.decoded {
                        // Its capacity counts samples, all channels together.
                        Some(b) if b.capacity() >= frames * spec.channels.count() => b,
                        slot => slot.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
                    };
                    buffer.copy_planar_ref(decoded);
                    self.decoded_frames = frames;
                    self.decoded_at = 0;
                    if frames > 0 {
                        return Ok(true);
                    }
                }
                // A lossy frame that does not decode is skipped, as players do; the count is
                // reported. A lossless one is an error: its samples would be missing.
                Err(DecodeError::DecodeError(_)) if !self.encoding.lossless => {
                    self.skipped_packets += 1;
                }
                Err(e) => return Err(self.damaged(&e)),
            }
        }
    }

    fn damaged(&self, error: &DecodeError) -> AudioFileError {
        self.damaged_because(describe_error(error))
    }

    fn damaged_because(&self, reason: String) -> AudioFileError {
        AudioFileError::Damaged {
            path: self.path.clone(),
            at_s: self.frames_read as f64 / f64::from(self.sample_rate.max(1)),
            reason,
        }
    }
}

/// Runs `f`, turning a panic in it into [`AudioFileError::Damaged`]. symphonia 0.5 can panic on
/// malformed input (an EXTENSIBLE fmt chunk with 32 or more channels and no channel mask
/// overflows a shift); a damaged file must be an error, never a crash.
fn guarded<T>(
    path: &Path,
    at_s: f64,
    f: impl FnOnce() -> Result<T, AudioFileError>,
) -> Result<T, AudioFileError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(AudioFileError::Damaged {
            path: path.to_owned(),
            at_s,
            reason: "the decoder failed on malformed data".into(),
        })
    })
}

/// The container of the open `file` at `path`, found by its contents (its extension a hint).
fn probe(path: &Path, file: File) -> Result<Box<dyn FormatReader>, AudioFileError> {
    let source =
        super::aifc::media_source(file).map_err(|source| AudioFileError::io(path, source))?;
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let format_options = FormatOptions {
        // Encoder delay and padding (MP3's LAME tag, AAC's iTunSMPB) are not programme.
        enable_gapless: true,
        ..FormatOptions::default()
    };
    let metadata_options = MetadataOptions {
        limit_metadata_bytes: Limit::Maximum(METADATA_LIMIT_BYTES),
        limit_visual_bytes: Limit::Maximum(METADATA_LIMIT_BYTES),
    };
    let probed = guarded(path, 0.0, || {
        symphonia::default::get_probe()
            .format(&hint, stream, &format_options, &metadata_options)
            .map_err(|e| {
                AudioFileError::unreadable(
                    path,
                    match e {
                        DecodeError::Unsupported(_) => {
                            "its contents are not an audio format".into()
                        }
                        e => describe_error(&e),
                    },
                )
            })
    })?;
    Ok(probed.format)
}

/// The decoder of the track `params` describe; a codec Earstage does not decode is named.
fn make_decoder(path: &Path, params: &CodecParameters) -> Result<Box<dyn Decoder>, AudioFileError> {
    guarded(path, 0.0, || {
        symphonia::default::get_codecs()
            .make(params, &DecoderOptions::default())
            .map_err(|e| {
                AudioFileError::unsupported(
                    path,
                    match e {
                        DecodeError::Unsupported(_) => format!(
                            "its audio is {}, which Earstage does not decode",
                            codec_name(params.codec)
                        ),
                        e => describe_error(&e),
                    },
                )
            })
    })
}

/// The bits per sample the track declares, or for ALAC its magic cookie's.
fn bits_per_sample(params: &CodecParameters) -> Option<u32> {
    params.bits_per_sample.or_else(|| {
        (params.codec == codecs::CODEC_TYPE_ALAC)
            .then(|| alac_bit_depth(params.extra_data.as_deref()?))
            .flatten()
    })
}

/// Refuses a file whose contents are not what it says. The probe searches ahead for any format's
/// marker, so a file whose own header is damaged can be read as something else found in its data
/// (a WAV whose samples hold an ADTS sync word, read as AAC): what it holds must be what its name
/// says, and it must begin as such a file does.
fn check_contents(path: &Path, head: &[u8], encoding: &Encoding) -> Result<(), AudioFileError> {
    if let Some((kind, codecs)) = promised_codecs(path)
        && !codecs.contains(&encoding.codec)
    {
        return Err(AudioFileError::unreadable(
            path,
            format!(
                "its name says {kind}, but what it holds reads as {} (a damaged header?)",
                encoding.codec
            ),
        ));
    }
    if !starts_as(head, encoding.codec) {
        return Err(AudioFileError::unreadable(
            path,
            format!(
                "it does not begin as a {} file does (a damaged header?); {} was only found \
                 further in",
                encoding.codec, encoding.codec
            ),
        ));
    }
    Ok(())
}

/// The frames an AIFF track's declared count may exceed its audio by ([`AudioFile`]'s
/// `count_slack`: the SSND chunk's 8 bytes of offset and block size, in whole frames).
fn count_slack(params: &CodecParameters) -> u64 {
    match params.codec {
        codecs::CODEC_TYPE_PCM_S16BE
        | codecs::CODEC_TYPE_PCM_S24BE
        | codecs::CODEC_TYPE_PCM_S32BE
        | codecs::CODEC_TYPE_PCM_F32BE
        | codecs::CODEC_TYPE_PCM_F64BE
        | codecs::CODEC_TYPE_PCM_S8 => {
            let frame_bytes = params.bits_per_sample.unwrap_or(8).div_ceil(8) as u64
                * params.channels.map_or(1, |c| c.count()) as u64;
            8u64.div_ceil(frame_bytes.max(1))
        }
        _ => 0,
    }
}

/// The bit depth in an ALAC magic cookie (Apple's `ALACSpecificConfig`: frame length u32,
/// compatible version u8, then the bit depth u8), with or without the `alac` atom header MP4
/// wraps it in.
fn alac_bit_depth(cookie: &[u8]) -> Option<u32> {
    let config = match cookie.get(4..8) {
        Some(b"alac") => cookie.get(12..)?,
        _ => cookie,
    };
    let bits = u32::from(*config.get(5)?);
    matches!(bits, 16 | 20 | 24 | 32).then_some(bits)
}

/// The first bytes of an open file (fewer if it is shorter, none if it cannot be read), with the
/// file left at its start for the decoder.
fn head_bytes(mut file: &File) -> Vec<u8> {
    use std::io::{Read as _, Seek as _};
    let mut head = Vec::with_capacity(HEAD_BYTES);
    let _ = file.take(HEAD_BYTES as u64).read_to_end(&mut head);
    let _ = file.seek(std::io::SeekFrom::Start(0));
    head
}

/// Whether a file that starts with `head` can hold `codec` as the format readers find it there:
/// each format's signature at byte 0 (an ID3 tag may come first in MP3, AAC and FLAC files).
fn starts_as(head: &[u8], codec: &str) -> bool {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    let sync = |mask: u8| head.len() >= 2 && head[0] == 0xff && head[1] & mask == mask;
    let mp4 = at(4, b"ftyp");
    match codec {
        "PCM" | "float PCM" | "ADPCM" | "A-law" | "µ-law" => {
            at(0, b"RIFF") || at(0, b"RIFX") || at(0, b"FORM")
        }
        "FLAC" => at(0, b"fLaC") || at(0, b"ID3"),
        "MP3" => at(0, b"ID3") || sync(0xe0),
        "AAC" => mp4 || at(0, b"ID3") || sync(0xf0),
        "ALAC" => mp4,
        "Vorbis" => at(0, b"OggS"),
        _ => true,
    }
}

/// What a WAV or AIFF file may hold.
const WAV_CODECS: [&str; 5] = ["PCM", "float PCM", "ADPCM", "A-law", "µ-law"];

/// The format a file's extension names and the codecs such a file holds; `None` for a name that
/// promises none.
fn promised_codecs(path: &Path) -> Option<(&'static str, &'static [&'static str])> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match extension.as_str() {
        "wav" | "wave" | "bwf" => ("WAV", &WAV_CODECS),
        "aif" | "aiff" | "aifc" => ("AIFF", &WAV_CODECS),
        "flac" => ("FLAC", &["FLAC"]),
        "mp3" => ("MP3", &["MP3"]),
        "ogg" | "oga" => ("Ogg Vorbis", &["Vorbis"]),
        "m4a" | "mp4" => ("MP4 audio", &["AAC", "ALAC"]),
        _ => return None,
    })
}

/// How much of a file's start the checks before the probe read: a WAV's `fmt ` chunk up to its
/// channel count, an Ogg stream's first packet's signature.
const HEAD_BYTES: usize = 40;

/// What a file is, by its first bytes, when it is a form Earstage does not read, and what to do
/// with it: Sony Wave64, Apple's CAF, FLAC inside Ogg; and a WAV with more channels than the
/// meters take (symphonia's own refusal of a large count would read "invalid channel count").
fn foreign_head(head: &[u8]) -> Option<String> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"riff\x2e\x91\xcf\x11") {
        return Some(
            "it is a Sony Wave64 (.w64) file, which Earstage does not read; convert it to WAV \
             or FLAC (for example `ffmpeg -i IN.w64 OUT.flac`)"
                .into(),
        );
    }
    if at(0, b"caff") {
        return Some(
            "it is an Apple Core Audio Format (.caf) file, which Earstage does not read; \
             convert it to WAV, AIFF or FLAC (for example `ffmpeg -i IN.caf OUT.flac`)"
                .into(),
        );
    }
    // An Ogg stream's first page: 27 bytes of header, a one-byte segment table, the packet.
    if at(0, b"OggS") && at(28, b"\x7fFLAC") {
        return Some(
            "it is FLAC inside an Ogg container, which Earstage does not read; make it a .flac \
             file without re-encoding (`ffmpeg -i IN.oga -c copy OUT.flac`)"
                .into(),
        );
    }
    if at(0, b"RIFF") && at(8, b"WAVEfmt ") {
        let channels = usize::from(u16::from_le_bytes([*head.get(22)?, *head.get(23)?]));
        if channels > MAX_CHANNELS {
            return Some(format!("{channels} channels"));
        }
    }
    None
}

/// "RF64" or "BW64" when the file is one of those 64-bit WAV forms (symphonia 0.5 has no reader).
fn wide_wav(head: &[u8]) -> Option<&'static str> {
    match head.get(..4)? {
        b"RF64" => Some("RF64"),
        b"BW64" => Some("BW64"),
        _ => None,
    }
}

/// A codec's name for a message (the ones a file may hold that symphonia knows but does not
/// decode here).
fn codec_name(codec: CodecType) -> &'static str {
    match codec {
        codecs::CODEC_TYPE_OPUS => "Opus",
        codecs::CODEC_TYPE_SPEEX => "Speex",
        codecs::CODEC_TYPE_WAVPACK => "WavPack",
        codecs::CODEC_TYPE_MONKEYS_AUDIO => "Monkey's Audio",
        codecs::CODEC_TYPE_TTA => "TTA",
        codecs::CODEC_TYPE_MUSEPACK => "Musepack",
        codecs::CODEC_TYPE_EAC3 => "E-AC-3",
        codecs::CODEC_TYPE_AC4 => "AC-4",
        codecs::CODEC_TYPE_DCA => "DTS",
        codecs::CODEC_TYPE_WMA => "WMA",
        codecs::CODEC_TYPE_MP1 => "MPEG-1 Layer I",
        codecs::CODEC_TYPE_MP2 => "MPEG-1 Layer II",
        codecs::CODEC_TYPE_ATRAC1
        | codecs::CODEC_TYPE_ATRAC3
        | codecs::CODEC_TYPE_ATRAC3PLUS
        | codecs::CODEC_TYPE_ATRAC9 => "ATRAC",
        codecs::CODEC_TYPE_PCM_ALAW => "A-law",
        codecs::CODEC_TYPE_PCM_MULAW => "µ-law",
        _ => "a codec",
    }
}

fn describe_error(error: &DecodeError) -> String {
    match error {
        DecodeError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends early".into()
        }
        DecodeError::IoError(e) => e.to_string(),
        DecodeError::DecodeError(reason) => format!("malformed data: {reason}"),
        DecodeError::SeekError(_) => "cannot seek".into(),
        DecodeError::Unsupported(what) => format!("unsupported here ({what})"),
        DecodeError::LimitError(what) => format!("{what} exceeds a limit"),
        DecodeError::ResetRequired => "the stream changes its track layout".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The extensions a folder scan takes and the ones whose contents are checked are the same.
    #[test]
    fn every_audio_extension_promises_its_codecs() {
        for extension in AUDIO_EXTENSIONS {
            let name = format!("x.{}", extension.to_ascii_uppercase());
            assert!(promised_codecs(Path::new(&name)).is_some(), "{name}");
        }
        assert!(promised_codecs(Path::new("x.txt")).is_none());
    }

    /// Compressed WAV codecs are named as the lossy codecs they are, with no PCM width, whatever
    /// the header's bits field says (a damaged µ-law header once read as "16-bit PCM").
    #[test]
    fn compressed_wav_codecs_are_not_pcm() {
        for (codec, name) in [
            (codecs::CODEC_TYPE_PCM_MULAW, "µ-law"),
            (codecs::CODEC_TYPE_PCM_ALAW, "A-law"),
            (codecs::CODEC_TYPE_ADPCM_IMA_WAV, "ADPCM"),
        ] {
            let e = Encoding::of(codec, Some(16));
            assert_eq!(
                (e.codec, e.lossless, e.bits_per_sample),
                (name, false, None)
            );
        }
        let pcm = Encoding::of(codecs::CODEC_TYPE_PCM_S16LE, Some(16));
        assert_eq!(
            (pcm.codec, pcm.lossless, pcm.bits_per_sample),
            ("PCM", true, Some(16))
        );
    }

    /// Each format's signature at the start; another format's is refused.
    #[test]
    fn signatures() {
        assert!(starts_as(b"RIFF\0\0\0\0WAVE", "PCM"));
        assert!(starts_as(b"FORM\0\0\0\0AIFC", "float PCM"));
        assert!(starts_as(b"fLaC", "FLAC"));
        assert!(starts_as(&[0xff, 0xfb, 0x90], "MP3"));
        assert!(starts_as(&[0xff, 0xf1, 0x50], "AAC"));
        assert!(starts_as(b"\0\0\0\x20ftypM4A ", "ALAC"));
        assert!(starts_as(b"OggS", "Vorbis"));
        assert!(!starts_as(b"PIFF\0\0\0\0WAVE", "AAC"));
        assert!(!starts_as(b"PIFF\0\0\0\0WAVE", "PCM"));
        assert_eq!(wide_wav(b"RF64\xff\xff\xff\xff"), Some("RF64"));
        assert_eq!(wide_wav(b"RIF"), None);
    }

    /// Forms Earstage does not read are named by their first bytes, and a WAV's channel count
    /// is read from its `fmt ` chunk; an ordinary WAV or a short file is none of them.
    #[test]
    fn foreign_heads_are_named() {
        let mut wav = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0".to_vec();
        wav.extend(300u16.to_le_bytes());
        wav.extend([0u8; 16]);
        assert_eq!(foreign_head(&wav).as_deref(), Some("300 channels"));
        wav[22..24].copy_from_slice(&2u16.to_le_bytes());
        assert_eq!(foreign_head(&wav), None);
        let w64 = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\0\0";
        assert!(foreign_head(w64).unwrap().contains("Wave64"));
        assert!(
            foreign_head(b"caff\0\x01\0\0desc")
                .unwrap()
                .contains("Core Audio")
        );
        let mut ogg = b"OggS".to_vec();
        ogg.extend([0u8; 23]);
        ogg.push(0x33);
        ogg.extend(b"\x7fFLAC\x01\x00");
        assert!(foreign_head(&ogg).unwrap().contains("FLAC inside an Ogg"));
        assert_eq!(foreign_head(b"OggS"), None);
        assert_eq!(foreign_head(b""), None);
    }
}
