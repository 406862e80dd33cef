//! A streaming WAV reader for analysis: 16/24/32-bit integer and 32/64-bit float PCM,
//! WAVE_FORMAT_EXTENSIBLE included, 1–8 channels. (hound, the usual crate, does not read 64-bit
//! float.) Every error names the file, the chunk or field at fault, and what is allowed.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Frames read per call of [`WavReader::read_block`].
pub const BLOCK_FRAMES: usize = 4_096;
const MAX_CHANNELS: u16 = 8;
/// The sample rates read, Hz.
const MIN_RATE_HZ: u32 = 8_000;
const MAX_RATE_HZ: u32 = 768_000;
/// The largest fmt chunk read (WAVE_FORMAT_EXTENSIBLE's is 40 bytes).
const MAX_FMT_BYTES: u32 = 1024;

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{path}: cannot read the file: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a WAV file: {reason}")]
    NotWav { path: PathBuf, reason: String },
    #[error(
        "{path}: unsupported WAV: {reason} (Earstage reads 16/24/32-bit integer and 32/64-bit float PCM, 1 to 8 channels, 8 to 768 kHz)"
    )]
    Unsupported { path: PathBuf, reason: String },
    #[error(
        "{path}: truncated: the data chunk holds {expected} frames but the file ends after {found} (a WAV file must hold its whole data chunk)"
    )]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    Int16,
    Int24,
    Int32,
    Float32,
    Float64,
}

impl SampleFormat {
    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            Self::Int16 => 2,
            Self::Int24 => 3,
            Self::Int32 | Self::Float32 => 4,
            Self::Float64 => 8,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Int16 => "16-bit integer",
            Self::Int24 => "24-bit integer",
            Self::Int32 => "32-bit integer",
            Self::Float32 => "32-bit float",
            Self::Float64 => "64-bit float",
        }
    }

    /// One sample from its little-endian bytes, full scale = 1.0.
    fn decode(self, b: &[u8]) -> f32 {
        match self {
            Self::Int16 => f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0,
            Self::Int24 => (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0,
            Self::Int32 => {
                (f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32
            }
            Self::Float32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Self::Float64 => {
                f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }
        }
    }
}

/// An open WAV file positioned in its audio data.
pub struct WavReader {
    path: PathBuf,
    file: BufReader<File>,
    pub sample_rate: u32,
    pub channels: usize,
    pub format: SampleFormat,
    /// Frames in the data chunk.
    pub frames: u64,
    frames_read: u64,
    bytes: Vec<u8>,
}

impl WavReader {
    pub fn open(path: &Path) -> Result<Self, WavError> {
        let io = |source| WavError::Io {
            path: path.to_owned(),
            source,
        };
        let not_wav = |reason: &str| WavError::NotWav {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let unsupported = |reason: String| WavError::Unsupported {
            path: path.to_owned(),
            reason,
        };
        let file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut file = BufReader::new(file);
        let mut header = [0u8; 12];
        read_exact_or(&mut file, &mut header, || {
            not_wav("shorter than the 12-byte RIFF/WAVE header a WAV file starts with")
        })?;
        if &header[0..4] != b"RIFF" || &header[8..12] != b"WAVE" {
            return Err(if &header[0..4] == b"RF64" {
                unsupported("RF64 (files over 4 GB)".into())
            } else {
                not_wav(
                    "no RIFF/WAVE header (a WAV file starts with \"RIFF\", a size and \"WAVE\")",
                )
            });
        }
        let mut fmt: Option<(SampleFormat, usize, u32)> = None;
        loop {
            let mut chunk = [0u8; 8];
            read_exact_or(&mut file, &mut chunk, || {
                not_wav(if fmt.is_some() {
                    "the file ends before its data chunk (a WAV file needs a fmt and a data chunk)"
                } else {
                    "the file ends before its fmt chunk (a WAV file needs a fmt and a data chunk)"
                })
            })?;
            let id = [chunk[0], chunk[1], chunk[2], chunk[3]];
            let size = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            match &id {
                b"fmt " => {
                    // WAVE_FORMAT_EXTENSIBLE's is 40 bytes; a larger one is damage, and must not
                    // make us allocate what its header claims.
                    if size > MAX_FMT_BYTES {
                        return Err(not_wav(&format!(
                            "the fmt chunk claims {size} bytes; at most {MAX_FMT_BYTES} are allowed"
                        )));
                    }
                    let mut body = vec![0u8; size as usize];
                    read_exact_or(&mut file, &mut body, || {
                        not_wav(&format!(
                            "the file ends inside the fmt chunk, which must hold the {size} bytes \
                             it claims"
                        ))
                    })?;
                    fmt = Some(parse_fmt(&body).map_err(|e| match e {
                        FmtError::Malformed(reason) => not_wav(reason),
                        FmtError::Unsupported(reason) => unsupported(reason),
                    })?);
                    if size % 2 == 1 {
                        file.seek(SeekFrom::Current(1)).map_err(io)?;
                    }
                }
                b"data" => {
                    let Some((format, channels, sample_rate)) = fmt else {
                        return Err(not_wav(
                            "the data chunk comes before the fmt chunk (fmt must come first)",
                        ));
                    };
                    let frame_bytes = (format.bytes() * channels) as u64;
                    let start = file.stream_position().map_err(io)?;
                    let available = file_len.saturating_sub(start);
                    let declared = if size == u32::MAX {
                        available
                    } else {
                        u64::from(size)
                    };
                    let frames = declared / frame_bytes;
                    if declared > available {
                        return Err(WavError::Truncated {
                            path: path.to_owned(),
                            expected: frames,
                            found: available / frame_bytes,
                        });
                    }
                    return Ok(Self {
                        path: path.to_owned(),
                        file,
                        sample_rate,
                        channels,
                        format,
                        frames,
                        frames_read: 0,
                        bytes: vec![0; BLOCK_FRAMES * frame_bytes as usize],
                    });
                }
                _ => {
                    let skip = i64::from(size) + i64::from(size % 2);
                    file.seek(SeekFrom::Current(skip)).map_err(io)?;
                }
            }
        }
    }

    pub fn duration_s(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate)
    }

    /// Read up to [`BLOCK_FRAMES`] frames into `planar` (one Vec per channel, cleared first);
    /// returns the number of frames, 0 at the end.
    pub fn read_block(&mut self, planar: &mut [Vec<f32>]) -> Result<usize, WavError> {
        let frames = (self.frames - self.frames_read).min(BLOCK_FRAMES as u64) as usize;
        let sample_bytes = self.format.bytes();
        let bytes = &mut self.bytes[..frames * sample_bytes * self.channels];
        if let Err(source) = self.file.read_exact(bytes) {
            return Err(if source.kind() == std::io::ErrorKind::UnexpectedEof {
                WavError::Truncated {
                    path: self.path.clone(),
                    expected: self.frames,
                    found: self.frames_read,
                }
            } else {
                WavError::Io {
                    path: self.path.clone(),
                    source,
                }
            });
        }
        for (ch, out) in planar.iter_mut().enumerate() {
            out.clear();
            out.extend(
                bytes
                    .chunks_exact(sample_bytes * self.channels)
                    .map(|frame| self.format.decode(&frame[ch * sample_bytes..])),
            );
        }
        self.frames_read += frames as u64;
        Ok(frames)
    }
}

fn read_exact_or(
    file: &mut impl Read,
    buf: &mut [u8],
    err: impl FnOnce() -> WavError,
) -> Result<(), WavError> {
    file.read_exact(buf).map_err(|_| err())
}

enum FmtError {
    Malformed(&'static str),
    Unsupported(String),
}

/// WAVE_FORMAT_PCM = 1, WAVE_FORMAT_IEEE_FLOAT = 3, WAVE_FORMAT_EXTENSIBLE = 0xFFFE (whose
/// sub-format GUID starts with one of the first two).
fn parse_fmt(body: &[u8]) -> Result<(SampleFormat, usize, u32), FmtError> {
    if body.len() < 16 {
        return Err(FmtError::Malformed(
            "the fmt chunk is shorter than the 16 bytes it needs",
        ));
    }
    let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
    let mut tag = u16_at(0);
    let channels = u16_at(2);
    let sample_rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
    let bits = u16_at(14);
    if tag == 0xFFFE {
        if body.len() < 26 {
            return Err(FmtError::Malformed(
                "WAVE_FORMAT_EXTENSIBLE without its sub-format (the fmt chunk needs 26 bytes or more)",
            ));
        }
        tag = u16_at(24);
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(FmtError::Unsupported(format!("{channels} channels")));
    }
    if !(MIN_RATE_HZ..=MAX_RATE_HZ).contains(&sample_rate) {
        return Err(FmtError::Unsupported(format!(
            "sample rate {sample_rate} Hz"
        )));
    }
    let format = match (tag, bits) {
        (1, 16) => SampleFormat::Int16,
        (1, 24) => SampleFormat::Int24,
        (1, 32) => SampleFormat::Int32,
        (3, 32) => SampleFormat::Float32,
        (3, 64) => SampleFormat::Float64,
        (1, b) => return Err(FmtError::Unsupported(format!("{b}-bit integer PCM"))),
        (3, b) => return Err(FmtError::Unsupported(format!("{b}-bit float"))),
        (t, _) => {
            return Err(FmtError::Unsupported(format!(
                "compressed or unknown format tag {t:#06x}"
            )));
        }
    };
    Ok((format, usize::from(channels), sample_rate))
}
