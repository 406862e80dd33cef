//! AIFC float files as libsndfile and SoX write them. AIFC names its compression with a
//! four-byte code; Apple's float codes are lowercase (`fl32`, `fl64`), libsndfile and SoX write
//! them uppercase (`FL32`, `FL64`), and symphonia 0.5 reads only the lowercase ones. A file with an
//! uppercase code is read through [`FloatCodeFix`], which shows the decoder the lowercase code and
//! every other byte as it is. Nothing is written to the file.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use symphonia::core::io::MediaSource;

/// How far into a file the COMM chunk is looked for (it comes first in every writer's files).
const SEARCH_BYTES: u64 = 1 << 20;

/// Where an AIFC file's uppercase float code sits, and its lowercase form.
fn uppercase_float_code(file: &mut File) -> io::Result<Option<(u64, [u8; 4])>> {
    let mut head = [0u8; 12];
    file.seek(SeekFrom::Start(0))?;
    if file.read_exact(&mut head).is_err() || &head[0..4] != b"FORM" || &head[8..12] != b"AIFC" {
        return Ok(None);
    }
    let mut at = 12u64;
    while at < SEARCH_BYTES {
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(at))?;
        if file.read_exact(&mut chunk).is_err() {
            return Ok(None);
        }
        let size = u64::from(u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
        if &chunk[0..4] == b"COMM" {
            // channels (2), frames (4), bits (2), rate (10), then the compression code.
            if size < 22 {
                return Ok(None);
            }
            let code_at = at + 8 + 18;
            let mut code = [0u8; 4];
            file.seek(SeekFrom::Start(code_at))?;
            if file.read_exact(&mut code).is_err() {
                return Ok(None);
            }
            return Ok(match &code {
                b"FL32" => Some((code_at, *b"fl32")),
                b"FL64" => Some((code_at, *b"fl64")),
                _ => None,
            });
        }
        at += 8 + size + (size & 1);
    }
    Ok(None)
}

/// A file read with four bytes shown otherwise.
pub struct FloatCodeFix {
    file: File,
    at: u64,
    code: [u8; 4],
    position: u64,
    len: Option<u64>,
}

/// The file as the decoder should see it: unchanged, or with its float code in lowercase.
pub fn media_source(mut file: File) -> io::Result<Box<dyn MediaSource>> {
    match uppercase_float_code(&mut file)? {
        Some((at, code)) => {
            file.seek(SeekFrom::Start(0))?;
            let len = file.metadata().ok().map(|m| m.len());
            Ok(Box::new(FloatCodeFix {
                file,
                at,
                code,
                position: 0,
                len,
            }))
        }
        None => {
            file.seek(SeekFrom::Start(0))?;
            Ok(Box::new(file))
        }
    }
}

impl Read for FloatCodeFix {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        let (start, end) = (self.position, self.position + n as u64);
        for (k, &byte) in self.code.iter().enumerate() {
            let at = self.at + k as u64;
            if (start..end).contains(&at) {
                buf[(at - start) as usize] = byte;
            }
        }
        self.position = end;
        Ok(n)
    }
}

impl Seek for FloatCodeFix {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.position = self.file.seek(to)?;
        Ok(self.position)
    }
}

impl MediaSource for FloatCodeFix {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        self.len
    }
}
