//! Streaming parsers of outside inventory data: nmap XML scans ([`nmap`]) and ISC
//! `dhcpd.leases` files ([`leases`]).
//!
//! Both parsers read from any [`std::io::BufRead`] without loading the whole file, treat every
//! byte as hostile (the files come from other programs, other people's networks, and clients
//! that choose their own host names), and never panic: anything they cannot accept is an
//! [`IngestError`] that names the file, the line and the element or statement concerned.
//!
//! Memory is bounded by the limits below rather than by the size of the input: a single markup
//! event or lease block, a single value, and the number of hosts or leases are capped, and going
//! over a cap is an error, not a truncation.
//!
//! This crate does no I/O of its own (the caller opens the file) and knows nothing about the
//! database: it only turns bytes into plain data.

pub mod checklist_form;
pub mod checklist_xlsx;
pub mod convert;
pub mod cyclonedx;
pub mod detect;
pub mod docx;
pub mod dnsmasq;
pub mod facility_file;
pub mod kea;
pub mod leases;
pub mod ledger;
pub mod neigh;
pub mod nmap;
pub mod oui;
mod text;

pub use convert::{lease_observations, nmap_observations};
pub use cyclonedx::parse_cyclonedx;
pub use detect::detect;
pub use dnsmasq::parse_dnsmasq_leases;
pub use kea::parse_kea_leases;
pub use leases::{Lease, LeaseKind, latest_per_address, parse_isc_leases};
pub use ledger::{
    EXPORT_COLUMNS, LedgerSheet, parse_field_override, propose_mapping, read_ledger_csv,
    read_ledger_xlsx, template_xlsx, write_xlsx,
};
pub use oui::vendor_of;
pub use neigh::parse_neighbours;
pub use nmap::{NmapHost, NmapHostname, NmapPort, NmapScan, OsClass, OsMatch, parse_nmap};

/// What one file yielded: the devices it describes, and the records that could not be read.
///
/// A record that cannot be read (a ledger row with an invalid MAC, a neighbour-table line that is
/// garbled) does not stop the file: it lands in `rejected` with file, line, field and reason, and
/// the preview shows it. A file that cannot be read at all is an `Err(IngestError)` instead.
#[derive(Debug, Default)]
pub struct Ingested {
    pub observations: Vec<mamori_model::Observation>,
    pub rejected: Vec<IngestError>,
    /// When the source was taken (scan start), Unix seconds, if the file says.
    pub taken_at: Option<i64>,
}

/// Where a streaming parser puts what it reads, one record at a time, so that a file of any size
/// is read in bounded memory. [`Ingested`] is the sink that keeps everything.
///
/// Returning an `Err` stops the parser, which returns that error (an import that was cancelled
/// or failed returns [`IngestError::Stopped`]).
pub trait Sink {
    /// One device the file describes.
    fn observation(&mut self, o: mamori_model::Observation) -> Result<(), IngestError>;
    /// One record that could not be read; the file goes on.
    fn rejected(&mut self, e: IngestError) -> Result<(), IngestError>;
    /// When the source was taken, once known (an nmap scan says it at the top).
    fn taken_at(&mut self, _at: Option<i64>) {}
}

impl Sink for Ingested {
    fn observation(&mut self, o: mamori_model::Observation) -> Result<(), IngestError> {
        self.observations.push(o);
        Ok(())
    }
    fn rejected(&mut self, e: IngestError) -> Result<(), IngestError> {
        self.rejected.push(e);
        Ok(())
    }
    fn taken_at(&mut self, at: Option<i64>) {
        self.taken_at = at;
    }
}

/// Longest single value kept: an attribute value or element text (nmap), a quoted string or word
/// (leases). 64 KiB.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Longest single raw piece of input read in one go: one XML tag with all its attributes, one
/// text run, comment or DOCTYPE (nmap), one top-level block (leases). 1 MiB. Values that are
/// read but not kept (an NSE script's output, an nmap service fingerprint) may be longer than
/// [`MAX_VALUE_BYTES`] as long as their tag fits in this.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Most hosts (including host hints) accepted from one nmap file.
pub const MAX_HOSTS: usize = 1_000_000;

/// Most leases (including static host entries) accepted from one leases file.
pub const MAX_LEASES: usize = 1_000_000;

/// Why a file was not accepted.
///
/// Every variant names the file (as given by the caller), the 1-based line where the offending
/// element, statement or block starts, the element (`<address>`) or statement (`hardware
/// ethernet`) concerned, and a reason a person can act on. `Display` gives
/// `scan.xml:12: <address>: attribute addr is not an IPv4 address`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The underlying reader failed.
    #[error("{file}:{line}: read error: {source}")]
    Io {
        file: String,
        line: u64,
        #[source]
        source: std::io::Error,
    },
    /// The content does not follow the format: broken syntax, a missing part, or a value of the
    /// wrong shape.
    #[error("{file}:{line}: {field}: {reason}")]
    Invalid {
        file: String,
        line: u64,
        field: String,
        reason: String,
    },
    /// The content was refused on purpose: document type and entity declarations, undeclared
    /// entity references, or a value, block, or count over one of this crate's limits.
    #[error("{file}:{line}: {field}: refused: {reason}")]
    Refused {
        file: String,
        line: u64,
        field: String,
        reason: String,
    },
    /// The consumer of a streaming parser stopped it (the import was cancelled or failed).
    #[error("{file}: reading stopped")]
    Stopped { file: String },
}

impl IngestError {
    /// The file name as given to the parser.
    pub fn file(&self) -> &str {
        match self {
            Self::Io { file, .. }
            | Self::Invalid { file, .. }
            | Self::Refused { file, .. }
            | Self::Stopped { file } => file,
        }
    }

    /// The 1-based line where the offending element, statement or block starts.
    pub fn line(&self) -> u64 {
        match self {
            Self::Io { line, .. } | Self::Invalid { line, .. } | Self::Refused { line, .. } => {
                *line
            }
            Self::Stopped { .. } => 0,
        }
    }

    /// The element (`<address>`) or statement (`hardware ethernet`) concerned; `""` for read
    /// errors.
    pub fn field(&self) -> &str {
        match self {
            Self::Io { .. } | Self::Stopped { .. } => "",
            Self::Invalid { field, .. } | Self::Refused { field, .. } => field,
        }
    }

    /// True for content refused on purpose (see [`IngestError::Refused`]).
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }
}

/// An [`IngestError::Invalid`].
pub(crate) fn invalid(file: &str, line: u64, field: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Invalid { file: file.to_owned(), line, field: field.to_owned(), reason: reason.into() }
}

/// An [`IngestError::Refused`].
pub(crate) fn refused(file: &str, line: u64, field: &str, reason: impl Into<String>) -> IngestError {
    IngestError::Refused { file: file.to_owned(), line, field: field.to_owned(), reason: reason.into() }
}

/// Normalizes a MAC address written by another program: accepts what
/// [`mamori_model::normalize_mac`] accepts, plus colon- or dash-separated forms with one-digit
/// octets (`0:1a:2b:3c:4d:5e`, as macOS and some DHCP tools write them).
pub(crate) fn normalize_mac(input: &str) -> Option<String> {
    if let Some(mac) = mamori_model::normalize_mac(input) {
        return Some(mac);
    }
    let sep = if input.contains(':') { ':' } else { '-' };
    let parts: Vec<&str> = input.split(sep).collect();
    if parts.len() != 6
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    let padded: Vec<String> = parts.iter().map(|p| format!("{p:0>2}")).collect();
    mamori_model::normalize_mac(&padded.join(":"))
}

/// Lower-case hex without separators.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_short_octets_are_padded() {
        assert_eq!(
            normalize_mac("0:1A:2b:3c:4d:5e").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(
            normalize_mac("00-1A-2B-3C-4D-5E").as_deref(),
            Some("00:1a:2b:3c:4d:5e")
        );
        assert_eq!(normalize_mac("0:1:2:3:4"), None);
        assert_eq!(normalize_mac("0::2:3:4:5"), None);
        assert_eq!(normalize_mac("123:1:2:3:4:5"), None);
    }

    #[test]
    fn error_display_names_file_line_and_field() {
        let e = IngestError::Invalid {
            file: "scan.xml".into(),
            line: 12,
            field: "<address>".into(),
            reason: "attribute addr is not an IPv4 address".into(),
        };
        assert_eq!(
            e.to_string(),
            "scan.xml:12: <address>: attribute addr is not an IPv4 address"
        );
        assert_eq!(
            (e.file(), e.line(), e.field(), e.is_refusal()),
            ("scan.xml", 12, "<address>", false)
        );
    }
}
