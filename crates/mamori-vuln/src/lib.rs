//! Vulnerability matching (issue 5 foundation): CPE names as NISTIR 7695 defines them — the
//! 2.3 formatted string and the 2.2 URI that JVN and nmap still write — compared as NISTIR 7696
//! says ([`cpe`]), version comparison per vendor scheme ([`version`]), and the CISA KEV catalog
//! ([`kev`]).
//!
//! No I/O, no database: plain functions over strings, so that every feed parser and the matcher
//! share one definition of "this criterion covers this device".

pub mod cpe;
pub mod kev;
pub mod version;
