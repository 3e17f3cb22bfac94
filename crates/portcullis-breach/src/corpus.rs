//! Streaming corpus parser: Pwned Passwords (`SHA1:COUNT`), bare SHA-1 hex, plain passwords,
//! each optionally gzip-compressed (detected by magic bytes).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::{BreachError, sha1_bytes};

/// No password or hash line is this long; a longer line means a binary file, and reading it
/// whole would break the promise of bounded memory.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;
const READ_BUFFER: usize = 256 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];

/// Opens a corpus file and returns a streaming iterator over the SHA-1 of each entry, in file
/// order. The format is detected per line, gzip per file (by its first two bytes); see the crate
/// documentation. After the first `Err` the iterator ends.
pub fn read_corpus(
    path: &Path,
) -> Result<impl Iterator<Item = Result<[u8; 20], BreachError>>, BreachError> {
    CorpusReader::open(path)
}

pub(crate) struct CorpusReader {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line: Vec<u8>,
    line_no: u64,
    done: bool,
}

impl CorpusReader {
    pub(crate) fn open(path: &Path) -> Result<Self, BreachError> {
        let file = File::open(path).map_err(BreachError::io(path))?;
        let mut buffered = BufReader::with_capacity(READ_BUFFER, file);
        let head = buffered.fill_buf().map_err(BreachError::io(path))?;
        let reader: Box<dyn BufRead + Send> = if head.starts_with(&GZIP_MAGIC) {
            Box::new(BufReader::with_capacity(
                READ_BUFFER,
                MultiGzDecoder::new(buffered),
            ))
        } else {
            Box::new(buffered)
        };
        Ok(CorpusReader {
            path: path.to_owned(),
            reader,
            line: Vec::with_capacity(128),
            line_no: 0,
            done: false,
        })
    }

    fn fail(&mut self, err: BreachError) -> Option<Result<[u8; 20], BreachError>> {
        self.done = true;
        Some(Err(err))
    }
}

impl Iterator for CorpusReader {
    type Item = Result<[u8; 20], BreachError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.line.clear();
            let limit = MAX_LINE_BYTES as u64 + 2; // room for "\r\n"
            let read = (&mut self.reader)
                .take(limit)
                .read_until(b'\n', &mut self.line);
            match read {
                Err(source) => {
                    let path = self.path.clone();
                    return self.fail(BreachError::Io { path, source });
                }
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => {}
            }
            self.line_no += 1;
            let mut line: &[u8] = &self.line;
            line = line.strip_suffix(b"\n").unwrap_or(line);
            line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > MAX_LINE_BYTES {
                let (path, line) = (self.path.clone(), self.line_no);
                return self.fail(BreachError::LineTooLong {
                    path,
                    line,
                    max: MAX_LINE_BYTES,
                });
            }
            if self.line_no == 1 {
                line = line.strip_prefix(&UTF8_BOM).unwrap_or(line);
            }
            match classify(line) {
                Line::Empty | Line::Padding => continue,
                Line::Sha1(sha1) => return Some(Ok(sha1)),
                Line::Password(password) => return Some(Ok(sha1_bytes(password))),
                Line::Ntlm => {
                    let (path, line) = (self.path.clone(), self.line_no);
                    return self.fail(BreachError::NtlmCorpus { path, line });
                }
            }
        }
        None
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Empty,
    /// A Pwned Passwords line with count 0 (padding, not a breached password).
    Padding,
    Sha1([u8; 20]),
    Password(&'a [u8]),
    Ntlm,
}

/// `Some(is_zero)` when `s` is `:` followed by one or more ASCII digits.
fn count_suffix(s: &[u8]) -> Option<bool> {
    let digits = s.strip_prefix(b":")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().all(|&d| d == b'0'))
}

fn is_hex(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_hexdigit)
}

fn classify(line: &[u8]) -> Line<'_> {
    if line.is_empty() {
        return Line::Empty;
    }
    if let Some((hash, rest)) = line.split_at_checked(40) {
        let zero_count = if rest.is_empty() {
            Some(false)
        } else {
            count_suffix(rest)
        };
        if let Some(zero_count) = zero_count {
            let mut sha1 = [0u8; 20];
            if hex::decode_to_slice(hash, &mut sha1).is_ok() {
                return if zero_count {
                    Line::Padding
                } else {
                    Line::Sha1(sha1)
                };
            }
        }
    }
    if let Some((hash, rest)) = line.split_at_checked(32)
        && is_hex(hash)
        && count_suffix(rest).is_some()
    {
        return Line::Ntlm;
    }
    Line::Password(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_lines() {
        let sha = "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8";
        let expected = crate::sha1_of("password");
        assert_eq!(classify(sha.as_bytes()), Line::Sha1(expected));
        assert_eq!(
            classify(sha.to_lowercase().as_bytes()),
            Line::Sha1(expected)
        );
        assert_eq!(
            classify(format!("{sha}:3861493").as_bytes()),
            Line::Sha1(expected)
        );
        assert_eq!(classify(format!("{sha}:0").as_bytes()), Line::Padding);
        // Not quite a hash line: passwords.
        for pw in [
            format!("{sha}:"),
            format!("{sha}:12x"),
            format!("{sha} "),
            format!("{sha}0"),
            sha[..39].to_owned(),
            format!("{}g", &sha[..39]),
            "password".to_owned(),
            "8846F7EAEE8FB117AD06BDD830B7586C".to_owned(), // bare 32 hex: a password
        ] {
            assert_eq!(
                classify(pw.as_bytes()),
                Line::Password(pw.as_bytes()),
                "{pw}"
            );
        }
        assert_eq!(classify(b"8846F7EAEE8FB117AD06BDD830B7586C:2"), Line::Ntlm);
        assert_eq!(classify(b""), Line::Empty);
    }
}
