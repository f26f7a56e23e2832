//! Text of a spreadsheet export as a stream of UTF-8 with LF line ends, whatever the file's
//! encoding: UTF-8 (with or without BOM), Shift_JIS/CP932 (Excel on Japanese Windows) or UTF-16
//! (Excel's "Unicode text"). The file is never held whole: memory is one buffer.
//!
//! UTF-8 or Shift_JIS is decided at the first byte that is not ASCII (both encodings agree on
//! everything before it), by whether what follows is valid UTF-8. A byte sequence that is not
//! valid in the encoding decided is an error naming the line and byte offset: a ledger whose
//! text cannot be trusted is not imported with replacement characters in it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

use encoding_rs::{Decoder, DecoderResult, Encoding, SHIFT_JIS, UTF_8};

const CHUNK: usize = 64 * 1024;

/// Why the text could not be decoded; carried inside the `io::Error` the reader returns.
#[derive(Debug)]
pub(crate) struct EncodingError {
    /// 1-based line of the decoded text where the bad bytes are.
    pub line: u64,
    pub byte: u8,
    pub offset: u64,
}

impl std::fmt::Display for EncodingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the file is neither UTF-8 nor Shift_JIS (CP932) text (byte 0x{:02x} at offset {}); \
             save it as CSV UTF-8",
            self.byte, self.offset
        )
    }
}

impl std::error::Error for EncodingError {}

/// The encoding known from the start of the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sniffed {
    /// `None`: ASCII so far, UTF-8 or Shift_JIS decided later.
    pub encoding: Option<&'static Encoding>,
    /// Bytes of BOM to skip.
    pub bom_len: usize,
    /// UTF-16 (Excel's "Unicode text", tab separated by default).
    pub utf16: bool,
}

/// The encoding from the first bytes of the file.
pub(crate) fn sniff(head: &[u8]) -> Sniffed {
    if let Some((encoding, bom_len)) = Encoding::for_bom(head) {
        return Sniffed { encoding: Some(encoding), bom_len, utf16: encoding != UTF_8 };
    }
    if let Some(encoding) = utf16_without_bom(head) {
        return Sniffed { encoding: Some(encoding), bom_len: 0, utf16: true };
    }
    Sniffed { encoding: None, bom_len: 0, utf16: false }
}

/// UTF-16 without a BOM: ASCII text with a zero byte in every other position.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = bytes.get(..bytes.len().min(512)).unwrap_or_default();
    if head.len() < 4 || !head.contains(&0) {
        return None;
    }
    let pairs = head.len() / 2;
    let (mut even_zero, mut odd_zero) = (0usize, 0usize);
    for pair in head.chunks_exact(2) {
        if let [a, b] = pair {
            even_zero += usize::from(*a == 0);
            odd_zero += usize::from(*b == 0);
        }
    }
    if even_zero == 0 && odd_zero * 4 >= pairs {
        Some(encoding_rs::UTF_16LE)
    } else if odd_zero == 0 && even_zero * 4 >= pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Reads the first `n` bytes (fewer at the end of the input).
pub(crate) fn read_head(mut r: impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    r.by_ref().take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// A [`Read`] of UTF-8 text with every CRLF and lone CR turned into LF.
pub(crate) struct TextReader<R> {
    inner: R,
    decoder: Option<Decoder>,
    /// Lossy decoding (UTF-16, as Excel writes it); strict otherwise.
    lossy: bool,
    raw: Vec<u8>,
    raw_start: usize,
    /// Offset in the file of `raw[0]`.
    raw_offset: u64,
    skip: usize,
    eof: bool,
    out: Vec<u8>,
    out_pos: usize,
    /// The last byte handed out was a CR turned into LF: a following LF is dropped.
    after_cr: bool,
    /// Line ends handed out so far.
    newlines: u64,
    decoded: String,
    /// Where the text stopped being UTF-8, when that made it Shift_JIS: the error to report if
    /// it is not Shift_JIS either.
    not_utf8: Option<EncodingError>,
    /// Bytes handed out or buffered to be, and the offset of each line end not yet counted
    /// by [`Lines`].
    pushed: u64,
    line_ends: Rc<RefCell<VecDeque<u64>>>,
}

/// The line where each record starts, from the line ends a [`TextReader`] logged: the CSV
/// reader's own count is off after blank lines. Memory: the line ends read ahead only.
pub(crate) struct Lines {
    ends: Rc<RefCell<VecDeque<u64>>>,
    line: u64,
}

impl Lines {
    /// The 1-based line of the text byte `offset` where a record's reading started (blank lines
    /// before the record are skipped over, as the CSV reader does).
    pub(crate) fn line_at(&mut self, offset: u64) -> u64 {
        let mut ends = self.ends.borrow_mut();
        let mut target = offset;
        loop {
            match ends.front().copied() {
                Some(e) if e < target => {
                    ends.pop_front();
                    self.line += 1;
                }
                Some(e) if e == target => {
                    ends.pop_front();
                    self.line += 1;
                    target += 1;
                }
                _ => break,
            }
        }
        self.line
    }
}

impl<R: Read> TextReader<R> {
    pub(crate) fn new(inner: R, sniffed: Sniffed) -> Self {
        Self {
            inner,
            decoder: sniffed.encoding.map(Encoding::new_decoder_without_bom_handling),
            lossy: sniffed.utf16,
            raw: Vec::with_capacity(CHUNK),
            raw_start: 0,
            raw_offset: 0,
            skip: sniffed.bom_len,
            eof: false,
            out: Vec::with_capacity(CHUNK * 2),
            out_pos: 0,
            after_cr: false,
            newlines: 0,
            decoded: String::with_capacity(CHUNK * 3),
            not_utf8: None,
            pushed: 0,
            line_ends: Rc::new(RefCell::new(VecDeque::new())),
        }
    }

    /// Line numbering for the records read from this text.
    pub(crate) fn lines(&self) -> Lines {
        Lines { ends: self.line_ends.clone(), line: 1 }
    }

    fn newline(&mut self) {
        self.out.push(b'\n');
        self.line_ends.borrow_mut().push_back(self.pushed);
        self.pushed += 1;
        self.newlines += 1;
    }

    /// Reads more raw bytes after those not yet decoded; false at the end of the input.
    fn more(&mut self) -> io::Result<bool> {
        if self.raw_start > 0 {
            self.raw.drain(..self.raw_start);
            self.raw_offset += self.raw_start as u64;
            self.raw_start = 0;
        }
        let had = self.raw.len();
        self.raw.resize(had + CHUNK, 0);
        let n = loop {
            match self.inner.read(self.raw.get_mut(had..).unwrap_or_default()) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.raw.truncate(had);
                    return Err(e);
                }
            }
        };
        self.raw.truncate(had + n);
        while self.skip > 0 && self.raw_start < self.raw.len() {
            self.raw_start += 1;
            self.skip -= 1;
        }
        Ok(n > 0)
    }

    fn push_text(&mut self, text: &[u8]) {
        for &b in text {
            match b {
                b'\r' => {
                    self.newline();
                    self.after_cr = true;
                }
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' => self.newline(),
                _ => {
                    self.after_cr = false;
                    self.out.push(b);
                    self.pushed += 1;
                }
            }
        }
    }

    fn bad(&mut self, at: usize) -> io::Error {
        if let Some(e) = self.not_utf8.take() {
            return io::Error::new(io::ErrorKind::InvalidData, e);
        }
        let pending = self.raw.get(self.raw_start..).unwrap_or_default();
        let before = std::str::from_utf8(pending.get(..at).unwrap_or_default())
            .map_or(0, |s| s.bytes().filter(|&b| b == b'\n').count() as u64);
        let byte = pending.get(at).copied().unwrap_or_default();
        io::Error::new(
            io::ErrorKind::InvalidData,
            EncodingError {
                line: self.newlines + before + 1,
                byte,
                offset: self.raw_offset + (self.raw_start + at) as u64,
            },
        )
    }

    /// Decodes what is buffered into `out`; reads more input first when nothing is buffered.
    fn fill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        while self.out.is_empty() {
            if self.raw_start >= self.raw.len() && !self.eof && !self.more()? {
                self.eof = true;
            }
            if self.decoder.is_none() {
                let pending = self.raw.get(self.raw_start..).unwrap_or_default();
                match pending.iter().position(|b| !b.is_ascii()) {
                    None => {
                        let ascii = pending.to_vec();
                        self.raw_start = self.raw.len();
                        self.push_text(&ascii);
                        if self.eof {
                            return Ok(());
                        }
                        continue;
                    }
                    Some(at) => {
                        let rest = pending.get(at..).unwrap_or_default();
                        // UTF-8 only if everything buffered from here is (Shift_JIS text can
                        // hold a few bytes that happen to look like UTF-8).
                        let decided = match std::str::from_utf8(rest) {
                            Ok(_) => Some(UTF_8),
                            // Cut off at the end of the buffer.
                            Err(e) if e.error_len().is_none() && !self.eof => {
                                if e.valid_up_to() == 0 { None } else { Some(UTF_8) }
                            }
                            Err(e) => {
                                let valid = rest.get(..e.valid_up_to()).unwrap_or_default();
                                let before = pending.get(..at).unwrap_or_default();
                                let lines = before.iter().chain(valid).filter(|&&b| b == b'\n').count() as u64;
                                self.not_utf8 = Some(EncodingError {
                                    line: self.newlines + lines + 1,
                                    byte: rest.get(e.valid_up_to()).copied().unwrap_or_default(),
                                    offset: self.raw_offset + (self.raw_start + at + e.valid_up_to()) as u64,
                                });
                                Some(SHIFT_JIS)
                            }
                        };
                        let Some(encoding) = decided else {
                            if !self.more()? {
                                self.eof = true;
                            }
                            continue;
                        };
                        self.decoder = Some(encoding.new_decoder_without_bom_handling());
                    }
                }
            }
            let Some(decoder) = self.decoder.as_mut() else { continue };
            let src = self.raw.get(self.raw_start..).unwrap_or_default();
            self.decoded.clear();
            self.decoded.reserve(decoder.max_utf8_buffer_length(src.len()).unwrap_or(src.len() * 3));
            let last = self.eof;
            let read = if self.lossy {
                let (_, read, _) = decoder.decode_to_string(src, &mut self.decoded, last);
                read
            } else {
                let (result, read) = decoder.decode_to_string_without_replacement(src, &mut self.decoded, last);
                if let DecoderResult::Malformed(bad, _) = result {
                    let at = read.saturating_sub(usize::from(bad));
                    return Err(self.bad(at));
                }
                read
            };
            self.raw_start += read;
            let decoded = std::mem::take(&mut self.decoded);
            self.push_text(decoded.as_bytes());
            self.decoded = decoded;
            if self.eof {
                return Ok(());
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for TextReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos >= self.out.len() {
            if self.eof && self.raw_start >= self.raw.len() {
                return Ok(0);
            }
            self.fill()?;
        }
        let avail = self.out.get(self.out_pos..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> io::Result<String> {
        let s = sniff(bytes);
        let mut out = String::new();
        TextReader::new(bytes, s).read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn encodings_and_line_ends() {
        assert_eq!(text(b"a,b\r\nc\rd\n").unwrap(), "a,b\nc\nd\n");
        assert_eq!(text("\u{feff}機器名\r\n".as_bytes()).unwrap(), "機器名\n");
        let (sjis, _, _) = SHIFT_JIS.encode("機器名,IPアドレス\r\n端末1,10.0.0.1\r\n");
        assert_eq!(text(&sjis).unwrap(), "機器名,IPアドレス\n端末1,10.0.0.1\n");
        let mut utf16 = vec![0xff, 0xfe];
        for u in "名前\tIP\r\n".encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        assert_eq!(text(&utf16).unwrap(), "名前\tIP\n");
        assert!(sniff(&utf16).utf16);
    }

    #[test]
    fn decision_at_the_first_non_ascii_byte_far_into_the_file() {
        let mut body = "name,ip\n".repeat(20_000);
        body.push_str("端末,10.0.0.1\n");
        let (sjis, _, _) = SHIFT_JIS.encode(&body);
        assert_eq!(text(&sjis).unwrap(), body);
        assert_eq!(text(body.as_bytes()).unwrap(), body);
    }

    #[test]
    fn undecodable_bytes_name_the_line() {
        let mut bytes = "機器名\n端末\n".as_bytes().to_vec();
        bytes.extend([0xff, 0xfe, b'\n']);
        let e = text(&bytes).unwrap_err();
        let inner = e.get_ref().and_then(|e| e.downcast_ref::<EncodingError>()).unwrap();
        assert_eq!((inner.line, inner.byte), (3, 0xff));
    }
}
