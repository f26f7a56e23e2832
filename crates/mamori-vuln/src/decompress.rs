//! Feed files arrive plain, gzip-compressed (NVD yearly feeds, EPSS) or xz-compressed (NVD
//! bundles). The compression is told by the first bytes, not by the file name, so a renamed
//! file still reads.

use std::io::{self, BufRead, BufReader, Read};

/// How a stream is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
}

impl Compression {
    /// Tells the compression from a stream's first bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else {
            Compression::None
        }
    }
}

/// Wraps `reader` in the decoder its first bytes call for. Multi-member gzip files (as `cat
/// a.gz b.gz` makes) read through.
pub fn decoder<'a, R: Read + Send + 'a>(reader: R) -> io::Result<(Compression, Box<dyn Read + Send + 'a>)> {
    let mut buf = BufReader::with_capacity(256 * 1024, reader);
    let head = buf.fill_buf()?;
    let kind = Compression::sniff(head);
    let out: Box<dyn Read + Send + 'a> = match kind {
        Compression::None => Box::new(buf),
        Compression::Gzip => Box::new(BufReader::with_capacity(256 * 1024, flate2::bufread::MultiGzDecoder::new(buf))),
        Compression::Xz => Box::new(BufReader::with_capacity(256 * 1024, xz2::bufread::XzDecoder::new_multi_decoder(buf))),
    };
    Ok((kind, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_plain_gzip_and_xz_alike() -> io::Result<()> {
        let text = b"{\"id\":\"CVE-2024-21762\"}".repeat(1000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text)?;
        let gz = gz.finish()?;
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&text)?;
        let xz = xz.finish()?;
        for (bytes, kind) in [(text.clone(), Compression::None), (gz, Compression::Gzip), (xz, Compression::Xz)] {
            let (k, mut r) = decoder(bytes.as_slice())?;
            assert_eq!(k, kind);
            let mut out = Vec::new();
            r.read_to_end(&mut out)?;
            assert_eq!(out, text);
        }
        // Truncated gzip is an error, not silent short data.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text)?;
        let gz = gz.finish()?;
        let (_, mut r) = decoder(gz.get(..gz.len() / 2).unwrap_or_default())?;
        assert!(r.read_to_end(&mut Vec::new()).is_err());
        Ok(())
    }
}
