//! Vulnerability intelligence (issue 5): the feed readers — NVD API 2.0 ([`nvd`]), CISA KEV
//! ([`kev`]), FIRST EPSS ([`epss`]), JVN iPedia ([`jvn`]), CSAF 2.0 ([`csaf`]) and CycloneDX VEX
//! ([`vex`]) — CPE names as NISTIR 7695 defines them and compared as NISTIR 7696 says ([`cpe`]),
//! version comparison per vendor scheme ([`version`]), and the matcher that evaluates an NVD
//! configuration tree against a device ([`matcher`]).
//!
//! No database: readers take `Read` and hand over one record at a time; the store decides what
//! to keep.

pub mod cpe;
pub mod decompress;
pub mod csaf;
pub mod epss;
pub mod index;
pub mod jvn;
pub mod kev;
pub mod matcher;
pub mod model;
pub mod nvd;
pub mod suggest;
pub mod urgency;
pub mod version;
pub mod vex;
