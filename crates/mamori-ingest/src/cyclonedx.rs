//! CycloneDX bills of materials in JSON: SBOMs (software), HBOMs (hardware) and firmware BOMs
//! of spec versions 1.2 to 1.6 (later 1.x versions are read too, by the same fields).
//!
//! One BOM describes one product, so a file gives **one** [`Observation`]: the BOM's subject
//! (`metadata.component`) with everything listed under `components` as its software.
//!
//! - `name` and `product`: the subject's `name` (without a subject, `name` is the file name
//!   without its extension, `.json` and `.cdx`);
//! - `vendor`: the subject's `manufacturer` (1.6), else `metadata.manufacture` (1.2–1.5), else
//!   the subject's `supplier`, else `metadata.supplier`, else the subject's `publisher`;
//! - `serial`: a property of the subject whose name ends in `serialNumber`, `serial_number`,
//!   `serialNo` or `serial` (CycloneDX has no field for it);
//! - `os_version`: the subject's `version` when it is `firmware` or an `operating-system`
//!   (whose `name` is then also `os`);
//! - `seen_at`: `metadata.timestamp` (RFC 3339);
//! - attributes `sbom.serial_number` (the BOM's `serialNumber`), `sbom.spec_version`,
//!   `sbom.component_type` and `sbom.version` (the subject's `type` and `version`), `sbom.group`
//!   (the subject's `group`), and `sbom.cpe` when the subject is a `device` with a CPE;
//! - `software`: the subject itself first, unless it is a `device` (hardware is not software:
//!   its parts are), then every component under `components`, nested ones included, depth
//!   first in file order, once per `bom-ref` (the first one wins; components without a
//!   `bom-ref` are merged only when identical). Each is a [`Software`] with `name`, `version`,
//!   `cpe` (the component's `cpe` as written), `purl` (its package URL), and `vendor` from the component's `supplier`,
//!   else `manufacturer`, else `publisher`, else `group`. Hardware parts of an HBOM
//!   (`device`) are listed like any other component.
//! - `line`: where the subject starts (1 without a subject).
//!
//! A component without a `name` is not kept: it lands in [`Ingested::rejected`] with its line.
//!
//! # What is refused
//!
//! - Anything that is not a CycloneDX JSON document: another `bomFormat`, no `bomFormat` (an
//!   SPDX document is named as such), a `specVersion` before 1.2 (1.0 and 1.1 were XML only)
//!   or of another major version, CycloneDX XML, UTF-16 text, JSON that is malformed,
//!   truncated, followed by more data, or whose values have the wrong type.
//! - A BOM with neither `metadata.component` nor `components`: it describes nothing.
//! - A VEX document: `vulnerabilities` and no `components`. It says which products a
//!   vulnerability affects, not what a device is made of, and importing it as an inventory
//!   would record a device with nothing installed.
//! - More than [`MAX_BOM_BYTES`] of input, more than [`MAX_COMPONENTS`] components, a kept
//!   value longer than [`MAX_VALUE_BYTES`], and nesting deeper than serde_json's limit of 128
//!   (about 60 levels of nested components). Values that are not kept (hashes, licences,
//!   descriptions, dependencies, vulnerabilities) are read past without recursion, however
//!   deeply nested, and without being stored.
//!
//! Errors name the file, the line (from serde_json for syntax and type errors) and the field.

use crate::invalid;
use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::marker::PhantomData;

use mamori_model::{Observation, Software};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::error::Category;

use crate::{IngestError, Ingested, MAX_VALUE_BYTES};

/// Largest BOM read: 256 MiB. A container image's SBOM with every file listed stays well under.
pub const MAX_BOM_BYTES: u64 = 256 * 1024 * 1024;

/// Most components (nested ones included) accepted from one BOM.
pub const MAX_COMPONENTS: usize = 100_000;

/// Reads one CycloneDX JSON BOM from `reader`. `name` is used in error messages and, without a
/// `metadata.component`, as the product's name. See the module documentation.
pub fn parse_cyclonedx(name: &str, reader: impl Read) -> Result<Ingested, IngestError> {
    parse(
        name,
        reader,
        Limits {
            bytes: MAX_BOM_BYTES,
            components: MAX_COMPONENTS,
        },
    )
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    bytes: u64,
    components: usize,
}

// ---------------------------------------------------------------------------------------------
// Parse state shared with the `Deserialize` impls below (serde gives them no context).

/// Why a value was not accepted, recorded by the `Deserialize` impls so that the error can name
/// the field and tell a refusal from a mistake; serde_json only carries a message.
struct Failure {
    field: String,
    reason: String,
    refused: bool,
    /// Where the offending value starts, when known better than serde_json's position (which is
    /// where it noticed, after the value).
    line: Option<u64>,
}

thread_local! {
    /// Line of the next byte serde_json reads.
    static LINE: Cell<u64> = const { Cell::new(1) };
    /// Components seen so far.
    static COMPONENTS: Cell<usize> = const { Cell::new(0) };
    static MAX: Cell<usize> = const { Cell::new(MAX_COMPONENTS) };
    static FAILURE: Cell<Option<Failure>> = const { Cell::new(None) };
}

fn current_line() -> u64 {
    LINE.with(Cell::get)
}

/// Records why, and returns serde's error to unwind with.
fn fail<E: de::Error>(field: &str, reason: String, refused: bool, line: Option<u64>) -> E {
    let error = E::custom(&reason);
    record(field, reason, refused, line);
    error
}

/// Records why a value was not accepted; the first failure is the cause, later ones are its
/// consequences.
fn record(field: &str, reason: String, refused: bool, line: Option<u64>) {
    FAILURE.with(|f| {
        let first = f.take();
        f.set(Some(first.unwrap_or(Failure {
            field: field.to_owned(),
            reason,
            refused,
            line,
        })));
    });
}

/// Resets the shared state for one parse, and again when the parse ends (also on unwinding).
struct StateGuard;

impl StateGuard {
    fn new(limits: Limits) -> Self {
        Self::reset();
        MAX.with(|m| m.set(limits.components));
        Self
    }

    fn reset() {
        LINE.with(|l| l.set(1));
        COMPONENTS.with(|c| c.set(0));
        MAX.with(|m| m.set(MAX_COMPONENTS));
        FAILURE.with(|f| f.set(None));
    }
}

impl Drop for StateGuard {
    fn drop(&mut self) {
        Self::reset();
    }
}

/// Counts lines for [`current_line`] and stops at the size limit.
struct Counted<R> {
    inner: R,
    bytes: u64,
    newlines: u64,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // One byte past the limit, to tell "exactly at" from "over".
        let room = usize::try_from(self.limit.saturating_add(1).saturating_sub(self.bytes))
            .unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let Some(part) = buf.get_mut(..want) else {
            return Ok(0);
        };
        let n = self.inner.read(part)?;
        let read = part.get(..n).unwrap_or_default();
        self.bytes = self.bytes.saturating_add(n as u64);
        let newlines = read.iter().filter(|&&b| b == b'\n').count() as u64;
        if newlines > 0 {
            self.newlines += newlines;
            LINE.with(|l| l.set(self.newlines + 1));
        }
        if self.bytes > self.limit {
            let limit = self.limit;
            record(
                "file",
                format!("the file is larger than {limit} bytes"),
                true,
                Some(self.newlines + 1),
            );
            return Err(io::Error::other("over the size limit"));
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// The document, as far as it is read. Unknown fields are skipped (serde's default).

#[derive(Deserialize)]
#[serde(
    rename_all = "camelCase",
    expecting = "a CycloneDX BOM (a JSON object)"
)]
struct Bom {
    bom_format: Option<BomFormat>,
    spec_version: Option<SpecVersion>,
    serial_number: Option<Text>,
    metadata: Option<Metadata>,
    components: Option<Components>,
    vulnerabilities: Option<Located<Vec<IgnoredAny>>>,
    /// Present in SPDX JSON documents, to name them.
    spdx_version: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Metadata {
    timestamp: Option<Timestamp>,
    component: Option<Located<Component>>,
    /// 1.2–1.5: the manufacturer of the subject (1.6 moved it to `component.manufacturer`).
    manufacture: Option<Organization>,
    supplier: Option<Organization>,
}

#[derive(Deserialize)]
#[serde(expecting = "a component (a JSON object)")]
struct Component {
    #[serde(rename = "type")]
    kind: Option<Text>,
    #[serde(rename = "bom-ref")]
    bom_ref: Option<Text>,
    name: Option<Text>,
    version: Option<Text>,
    group: Option<Text>,
    publisher: Option<Text>,
    supplier: Option<Organization>,
    manufacturer: Option<Organization>,
    cpe: Option<Text>,
    purl: Option<Text>,
    properties: Option<Properties>,
    components: Option<Components>,
}

#[derive(Deserialize)]
struct Organization {
    name: Option<Text>,
}

#[derive(Deserialize)]
struct Property {
    name: Option<Text>,
    value: Option<Text>,
}

/// A string no longer than [`MAX_VALUE_BYTES`].
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let line = current_line();
        let s = String::deserialize(d)?;
        if s.len() > MAX_VALUE_BYTES {
            return Err(fail(
                "value",
                format!("a value longer than {MAX_VALUE_BYTES} bytes"),
                true,
                Some(line),
            ));
        }
        Ok(Text(s))
    }
}

impl Text {
    /// The text, unless it is empty or blank.
    fn given(&self) -> Option<&str> {
        let t = self.0.trim();
        (!t.is_empty()).then_some(t)
    }
}

fn given(text: Option<&Text>) -> Option<String> {
    text.and_then(Text::given).map(str::to_owned)
}

fn org_name(org: Option<&Organization>) -> Option<String> {
    given(org.and_then(|o| o.name.as_ref()))
}

/// `"bomFormat": "CycloneDX"`, checked as it is read.
struct BomFormat;

impl<'de> Deserialize<'de> for BomFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let line = current_line();
        let value = Text::deserialize(d)?;
        if value.0 == "CycloneDX" {
            Ok(BomFormat)
        } else {
            Err(fail(
                "bomFormat",
                format!(
                    "{} is not \"CycloneDX\": this is not a CycloneDX BOM",
                    shown(&value.0)
                ),
                false,
                Some(line),
            ))
        }
    }
}

/// `"specVersion": "1.N"` with N ≥ 2, checked as it is read.
struct SpecVersion(String);

impl<'de> Deserialize<'de> for SpecVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let line = current_line();
        let value = Text::deserialize(d)?;
        let minor = value
            .0
            .strip_prefix("1.")
            .filter(|m| !m.is_empty() && m.len() <= 3 && m.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|m| m.parse::<u16>().ok());
        match minor {
            Some(m) if m >= 2 => Ok(SpecVersion(value.0)),
            _ => Err(fail(
                "specVersion",
                format!(
                    "CycloneDX {} is not supported: only JSON BOMs of spec version 1.2 to 1.6 \
                     (and later 1.x) are read",
                    shown(&value.0)
                ),
                false,
                Some(line),
            )),
        }
    }
}

/// `metadata.timestamp` as Unix seconds.
#[derive(Clone, Copy)]
struct Timestamp(i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let line = current_line();
        let value = Text::deserialize(d)?;
        crate::convert::rfc3339_to_unix(&value.0)
            .map(Timestamp)
            .ok_or_else(|| {
                fail(
                    "metadata.timestamp",
                    format!("{} is not an RFC 3339 date-time", shown(&value.0)),
                    false,
                    Some(line),
                )
            })
    }
}

/// A value with the line where it starts.
struct Located<T> {
    line: u64,
    value: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let line = current_line();
        let value = T::deserialize(d)?;
        Ok(Located { line, value })
    }
}

/// A `components` array, counted against the limit as it is read.
struct Components(Vec<Located<Component>>);

impl<'de> Deserialize<'de> for Components {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Components;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of components")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Components, A::Error> {
                let mut out = Vec::new();
                while let Some(c) = seq.next_element::<Located<Component>>()? {
                    let count = COMPONENTS.with(|n| {
                        let count = n.get().saturating_add(1);
                        n.set(count);
                        count
                    });
                    let max = MAX.with(Cell::get);
                    if count > max {
                        return Err(fail(
                            "components",
                            format!("more than {max} components"),
                            true,
                            Some(c.line),
                        ));
                    }
                    out.push(c);
                }
                Ok(Components(out))
            }
        }
        d.deserialize_seq(V)
    }
}

/// A component's `properties`, of which only a serial number is kept (streamed, so that a
/// million properties cost no memory).
#[derive(Default)]
struct Properties {
    serial: Option<String>,
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V(PhantomData<Properties>);
        impl<'de> Visitor<'de> for V {
            type Value = Properties;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of properties")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Properties, A::Error> {
                let mut out = Properties::default();
                while let Some(p) = seq.next_element::<Property>()? {
                    if out.serial.is_none() && p.name.as_ref().is_some_and(is_serial_name) {
                        out.serial = given(p.value.as_ref());
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// `serialNumber`, `cdx:device:serial_number`, `acme:serialNo`, `Serial` …
fn is_serial_name(name: &Text) -> bool {
    let last = name.0.rsplit(':').next().unwrap_or_default();
    let squeezed: String = last
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    matches!(squeezed.as_str(), "serialnumber" | "serial" | "serialno")
}

fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(80).collect();
    if s.len() < value.len() {
        s.push('…');
    }
    format!("{s:?}")
}

// ---------------------------------------------------------------------------------------------


fn parse(name: &str, reader: impl Read, limits: Limits) -> Result<Ingested, IngestError> {
    let mut reader = BufReader::new(reader);
    let head = reader.fill_buf().map_err(|source| IngestError::Io {
        file: name.to_owned(),
        line: 1,
        source,
    })?;
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Err(invalid(
            name,
            1,
            "JSON",
            "the file is UTF-16 (as PowerShell's `>` saves it); CycloneDX JSON is UTF-8: save \
             the BOM as UTF-8",
        ));
    }
    if head.is_empty() {
        return Err(invalid(name, 1, "JSON", "the file is empty"));
    }
    let bom_len = if head.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let rest = head.get(bom_len..).unwrap_or_default();
    let first = rest.iter().position(|b| !b.is_ascii_whitespace());
    if let Some(at) = first {
        let line = 1 + rest.iter().take(at).filter(|&&b| b == b'\n').count() as u64;
        match rest.get(at) {
            Some(b'{') => {}
            Some(b'<') => {
                return Err(invalid(
                    name,
                    line,
                    "JSON",
                    "this is XML: CycloneDX XML is not supported, export the BOM as JSON",
                ));
            }
            _ => {
                return Err(invalid(
                    name,
                    line,
                    "JSON",
                    "not a CycloneDX JSON document: it must start with `{`",
                ));
            }
        }
    }
    reader.consume(bom_len);

    let _state = StateGuard::new(limits);
    let counted = Counted {
        inner: reader,
        bytes: 0,
        newlines: 0,
        limit: limits.bytes,
    };
    let mut de = serde_json::Deserializer::from_reader(counted);
    let parsed = Bom::deserialize(&mut de).and_then(|bom| de.end().map(|()| bom));
    let bom = parsed.map_err(|e| json_error(name, e))?;
    build(name, bom)
}

/// serde_json's error, named with the field the `Deserialize` impls recorded.
fn json_error(file: &str, e: serde_json::Error) -> IngestError {
    let line = u64::try_from(e.line()).unwrap_or(u64::MAX).max(1);
    if let Some(f) = FAILURE.with(Cell::take) {
        let line = f.line.unwrap_or(line).max(1);
        return if f.refused {
            IngestError::Refused {
                file: file.to_owned(),
                line,
                field: f.field,
                reason: f.reason,
            }
        } else {
            invalid(file, line, &f.field, f.reason)
        };
    }
    let column = e.column();
    let message = {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        full.strip_suffix(&suffix)
            .map(str::to_owned)
            .unwrap_or(full)
    };
    match e.classify() {
        Category::Io => IngestError::Io {
            file: file.to_owned(),
            line: current_line(),
            source: io::Error::from(e),
        },
        Category::Eof => invalid(
            file,
            line,
            "JSON",
            "the file ends in the middle of the JSON document: it is truncated",
        ),
        Category::Syntax if message.contains("recursion limit") => IngestError::Refused {
            file: file.to_owned(),
            line,
            field: "JSON".to_owned(),
            reason: "arrays and objects nested deeper than 128 levels".to_owned(),
        },
        Category::Syntax => invalid(
            file,
            line,
            "JSON",
            format!("malformed JSON at column {column}: {message}"),
        ),
        Category::Data => invalid(
            file,
            line,
            "CycloneDX",
            format!("at column {column}: {message}"),
        ),
    }
}

/// The one observation of a parsed BOM.
fn build(file: &str, bom: Bom) -> Result<Ingested, IngestError> {
    if bom.bom_format.is_none() {
        let reason = if bom.spdx_version.is_some() {
            "this is an SPDX document: only CycloneDX BOMs are read"
        } else {
            "no \"bomFormat\": \"CycloneDX\": this is not a CycloneDX BOM"
        };
        return Err(invalid(file, 1, "bomFormat", reason));
    }
    let Some(SpecVersion(spec)) = bom.spec_version else {
        return Err(invalid(file, 1, "specVersion", "no specVersion"));
    };
    let components = bom.components.map(|c| c.0).unwrap_or_default();
    let Metadata {
        timestamp,
        component: subject,
        manufacture,
        supplier,
    } = bom.metadata.unwrap_or(Metadata {
        timestamp: None,
        component: None,
        manufacture: None,
        supplier: None,
    });

    if components.is_empty() {
        if let Some(v) = bom.vulnerabilities.as_ref().filter(|v| !v.value.is_empty()) {
            let n = v.value.len();
            return Err(IngestError::Refused {
                file: file.to_owned(),
                line: v.line,
                field: "vulnerabilities".to_owned(),
                reason: format!(
                    "VEX document (vulnerabilities only, no components): it lists {n} \
                     vulnerabilit{} of a product, not what a device is made of; import the \
                     product's SBOM instead",
                    if n == 1 { "y" } else { "ies" }
                ),
            });
        }
        if subject.is_none() {
            return Err(invalid(
                file,
                1,
                "components",
                "the BOM describes nothing: no metadata.component and no components",
            ));
        }
    }

    let mut rejected = Vec::new();
    let mut o = Observation::at_line(subject.as_ref().map_or(1, |s| s.line));
    o.seen_at = timestamp.map(|t| t.0);
    o.attributes
        .insert("sbom.spec_version".to_owned(), spec.clone());
    if let Some(serial) = given(bom.serial_number.as_ref()) {
        o.attributes.insert("sbom.serial_number".to_owned(), serial);
    }

    let mut seen_refs: HashSet<String> = HashSet::new();
    let mut seen_anonymous: HashSet<SoftwareKey> = HashSet::new();
    let mut software = Vec::new();
    let mut stack: Vec<Located<Component>> = Vec::new();

    match subject {
        Some(Located { value: s, .. }) => {
            let kind = given(s.kind.as_ref());
            let name = given(s.name.as_ref());
            let version = given(s.version.as_ref());
            o.name = name.clone().or_else(|| Some(file_stem(file)));
            o.product.clone_from(&name);
            o.vendor = org_name(s.manufacturer.as_ref())
                .or_else(|| org_name(manufacture.as_ref()))
                .or_else(|| org_name(s.supplier.as_ref()))
                .or_else(|| org_name(supplier.as_ref()))
                .or_else(|| given(s.publisher.as_ref()));
            o.serial = s.properties.as_ref().and_then(|p| p.serial.clone());
            match kind.as_deref() {
                Some("firmware") => o.os_version.clone_from(&version),
                Some("operating-system") => {
                    o.os.clone_from(&name);
                    o.os_version.clone_from(&version);
                }
                _ => {}
            }
            for (key, value) in [
                ("sbom.component_type", kind.clone()),
                ("sbom.version", version),
                ("sbom.group", given(s.group.as_ref())),
            ] {
                if let Some(v) = value {
                    o.attributes.insert(key.to_owned(), v);
                }
            }
            let is_device = kind.as_deref() == Some("device");
            if let Some(cpe) = given(s.cpe.as_ref()).filter(|_| is_device) {
                o.attributes.insert("sbom.cpe".to_owned(), cpe);
            }
            if let Some(sw) = software_of(&s).filter(|_| !is_device) {
                software.push(sw);
            }
            if let Some(r) = given(s.bom_ref.as_ref()) {
                seen_refs.insert(r);
            }
            let parts = s.components.map(|p| p.0).unwrap_or_default();
            // The subject's own sub-components come before the BOM's components.
            push_reversed(&mut stack, components);
            push_reversed(&mut stack, parts);
        }
        None => {
            o.name = Some(file_stem(file));
            push_reversed(&mut stack, components);
        }
    }

    while let Some(Located { line, value: mut c }) = stack.pop() {
        let children = c.components.take().map(|p| p.0).unwrap_or_default();
        push_reversed(&mut stack, children);
        let bom_ref = given(c.bom_ref.as_ref());
        if bom_ref
            .as_ref()
            .is_some_and(|r| !seen_refs.insert(r.clone()))
        {
            continue;
        }
        let Some(sw) = software_of(&c) else {
            rejected.push(invalid(
                file,
                line,
                "component",
                match &bom_ref {
                    Some(r) => format!("a component without a name (bom-ref {})", shown(r)),
                    None => "a component without a name".to_owned(),
                },
            ));
            continue;
        };
        if bom_ref.is_none()
            && !seen_anonymous.insert((
                sw.name.clone(),
                sw.version.clone(),
                sw.vendor.clone(),
                sw.cpe.clone(),
            ))
        {
            continue;
        }
        software.push(sw);
    }
    o.software = software;

    Ok(Ingested {
        observations: vec![o],
        rejected,
        taken_at: timestamp.map(|t| t.0),
    })
}

/// Name, version, vendor and CPE: what makes two components without a `bom-ref` the same.
type SoftwareKey = (String, Option<String>, Option<String>, Option<String>);

fn push_reversed(stack: &mut Vec<Located<Component>>, items: Vec<Located<Component>>) {
    stack.extend(items.into_iter().rev());
}

/// A component as installed software; `None` without a name.
fn software_of(c: &Component) -> Option<Software> {
    Some(Software {
        name: given(c.name.as_ref())?,
        vendor: org_name(c.supplier.as_ref())
            .or_else(|| org_name(c.manufacturer.as_ref()))
            .or_else(|| given(c.publisher.as_ref()))
            .or_else(|| given(c.group.as_ref())),
        version: given(c.version.as_ref()),
        cpe: given(c.cpe.as_ref()),
        purl: given(c.purl.as_ref()),
    })
}

/// `sbom-keycloak-10.0.2.json` → `sbom-keycloak-10.0.2`; `router.cdx.json` → `router`.
fn file_stem(file: &str) -> String {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let mut stem = base;
    for ext in [".json", ".JSON", ".cdx", ".CDX"] {
        if let Some(s) = stem.strip_suffix(ext).filter(|s| !s.is_empty()) {
            stem = s;
        }
    }
    stem.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Ingested {
        parse_cyclonedx("bom.json", text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: impl AsRef<[u8]>) -> IngestError {
        match parse_cyclonedx("bom.json", text.as_ref()) {
            Ok(i) => panic!("accepted: {:?}", i.observations),
            Err(e) => e,
        }
    }

    const FIRMWARE: &str = r#"{
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2024-05-01T09:30:00+09:00",
    "supplier": { "name": "Reseller KK" },
    "component": {
      "type": "firmware",
      "bom-ref": "fw",
      "manufacturer": { "name": "Yamaha Corporation" },
      "name": "RTX1300",
      "version": "23.00.06",
      "cpe": "cpe:2.3:o:yamaha:rtx1300_firmware:23.00.06:*:*:*:*:*:*:*",
      "properties": [
        { "name": "cdx:device:quantity", "value": "1" },
        { "name": "acme:serialNumber", "value": "S123456" }
      ],
      "components": [ { "type": "library", "bom-ref": "sub", "name": "inner" } ]
    }
  },
  "components": [
    { "type": "library", "bom-ref": "openssl", "name": "openssl", "version": "3.0.13",
      "supplier": { "name": "OpenSSL Software Foundation" },
      "cpe": "cpe:2.3:a:openssl:openssl:3.0.13:*:*:*:*:*:*:*",
      "purl": "pkg:generic/openssl@3.0.13",
      "components": [
        { "type": "file", "bom-ref": "libcrypto", "name": "libcrypto.so.3", "publisher": "OpenSSL" },
        { "type": "library", "bom-ref": "openssl", "name": "openssl", "version": "duplicate" }
      ]
    },
    { "type": "library", "name": "zlib", "version": "1.3", "group": "madler" },
    { "type": "library", "name": "zlib", "version": "1.3", "group": "madler" },
    { "type": "library", "bom-ref": "fw", "name": "the subject again" },
    { "type": "library", "bom-ref": "nameless" },
    { "type": "device", "name": "flash chip", "manufacturer": { "name": "Winbond" } }
  ],
  "dependencies": [ { "ref": "fw", "dependsOn": ["openssl"] } ]
}"#;

    #[test]
    fn firmware_bom_gives_one_device_with_its_software() {
        let got = ok(FIRMWARE);
        assert_eq!(got.observations.len(), 1);
        assert_eq!(got.taken_at, Some(1_714_523_400));
        let o = &got.observations[0];
        assert_eq!(o.line, 9);
        assert_eq!(o.name.as_deref(), Some("RTX1300"));
        assert_eq!(o.product.as_deref(), Some("RTX1300"));
        assert_eq!(o.vendor.as_deref(), Some("Yamaha Corporation"));
        assert_eq!(o.serial.as_deref(), Some("S123456"));
        assert_eq!(o.os_version.as_deref(), Some("23.00.06"));
        assert_eq!(o.os, None);
        assert_eq!(o.seen_at, Some(1_714_523_400));
        assert_eq!(o.attributes["sbom.spec_version"], "1.6");
        assert_eq!(
            o.attributes["sbom.serial_number"],
            "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
        );
        assert_eq!(o.attributes["sbom.component_type"], "firmware");
        assert_eq!(o.attributes["sbom.version"], "23.00.06");
        let names: Vec<(&str, Option<&str>, Option<&str>)> = o
            .software
            .iter()
            .map(|s| (s.name.as_str(), s.version.as_deref(), s.vendor.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("RTX1300", Some("23.00.06"), Some("Yamaha Corporation")),
                ("inner", None, None),
                (
                    "openssl",
                    Some("3.0.13"),
                    Some("OpenSSL Software Foundation")
                ),
                ("libcrypto.so.3", None, Some("OpenSSL")),
                ("zlib", Some("1.3"), Some("madler")),
                ("flash chip", None, Some("Winbond")),
            ]
        );
        assert_eq!(
            o.software[0].cpe.as_deref(),
            Some("cpe:2.3:o:yamaha:rtx1300_firmware:23.00.06:*:*:*:*:*:*:*")
        );
        assert_eq!(o.software[3].cpe, None);
        assert_eq!(got.rejected.len(), 1);
        let r = &got.rejected[0];
        assert_eq!(
            r.to_string(),
            "bom.json:36: component: a component without a name (bom-ref \"nameless\")"
        );
    }

    #[test]
    fn without_subject_the_file_names_the_product() {
        let got = parse_cyclonedx(
            "C:\\exports\\router.cdx.json",
            &br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"busybox","version":"1.36.1"}]}"#[..],
        )
        .unwrap();
        let o = &got.observations[0];
        assert_eq!(
            (o.line, o.name.as_deref(), o.product.as_deref()),
            (1, Some("router"), None)
        );
        assert_eq!(o.software.len(), 1);
        assert_eq!(o.seen_at, None);
    }

    #[test]
    fn hardware_subject_is_not_software_and_os_subject_fills_os() {
        let o = &ok(r#"{"bomFormat":"CycloneDX","specVersion":"1.4","metadata":{"component":{"type":"device","name":"board","cpe":"cpe:2.3:h:acme:board:1:*:*:*:*:*:*:*"}}}"#)
            .observations[0];
        assert!(o.software.is_empty());
        assert_eq!(
            o.attributes["sbom.cpe"],
            "cpe:2.3:h:acme:board:1:*:*:*:*:*:*:*"
        );
        let o = &ok(r#"{"bomFormat":"CycloneDX","specVersion":"1.7","metadata":{"component":{"type":"operating-system","name":"Debian","version":"12"}}}"#)
            .observations[0];
        assert_eq!(
            (o.os.as_deref(), o.os_version.as_deref()),
            (Some("Debian"), Some("12"))
        );
        assert_eq!(o.software.len(), 1);
    }

    #[test]
    fn not_cyclonedx_is_an_error_naming_the_line() {
        let e = err("{\n  \"bomFormat\": \"SPDX\",\n  \"specVersion\": \"1.5\"\n}");
        assert_eq!(
            (e.line(), e.field(), e.is_refusal()),
            (2, "bomFormat", false),
            "{e}"
        );
        assert!(e.to_string().contains("not a CycloneDX BOM"), "{e}");
        let e = err("{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.1\"\n}");
        assert_eq!((e.line(), e.field()), (3, "specVersion"), "{e}");
        assert!(e.to_string().contains("1.1"), "{e}");
        for v in ["2.0", "1", "1.", "1.x", "01.4", "1.4.1"] {
            let e = err(format!(
                "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"{v}\"}}"
            ));
            assert_eq!(e.field(), "specVersion", "{v}: {e}");
        }
        let e = err(r#"{"spdxVersion":"SPDX-2.3","name":"x","packages":[]}"#);
        assert!(e.to_string().contains("SPDX"), "{e}");
        let e = err(r#"{"name":"x"}"#);
        assert_eq!(e.field(), "bomFormat", "{e}");
        let e = err(r#"{"bomFormat":"CycloneDX"}"#);
        assert_eq!(e.field(), "specVersion", "{e}");
        let e = err(r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#);
        assert!(e.to_string().contains("describes nothing"), "{e}");
    }

    #[test]
    fn not_json_xml_utf16_empty() {
        let e =
            err("<?xml version=\"1.0\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"/>");
        assert!(
            e.to_string().contains("CycloneDX XML is not supported"),
            "{e}"
        );
        let e = err("\n\nhello");
        assert_eq!((e.line(), e.field()), (3, "JSON"), "{e}");
        let e = err("");
        assert!(e.to_string().contains("empty"), "{e}");
        let utf16: Vec<u8> = [0xfeff_u16]
            .into_iter()
            .chain("{}".encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(err(utf16).to_string().contains("UTF-16"));
        // A UTF-8 byte-order mark is fine.
        let with_bom = format!("\u{feff}{FIRMWARE}");
        assert_eq!(ok(&with_bom).observations[0].line, 9);
    }

    #[test]
    fn malformed_truncated_or_trailing_json() {
        let cut = FIRMWARE.get(..400).unwrap_or_default();
        let e = err(cut);
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = err("{\"bomFormat\": \"CycloneDX\",\n\"specVersion\": \"1.5\",,}");
        assert_eq!((e.line(), e.field()), (2, "JSON"), "{e}");
        assert!(e.to_string().contains("malformed JSON"), "{e}");
        let e = err(format!("{FIRMWARE}\n{FIRMWARE}"));
        assert!(e.to_string().contains("trailing characters"), "{e}");
        let mut bad_utf8 =
            b"{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{\"name\":\"caf"
                .to_vec();
        bad_utf8.extend([0xe9, 0xff]);
        bad_utf8.extend(b"\"}]}");
        let e = err(bad_utf8);
        assert_eq!(e.field(), "JSON", "{e}");
    }

    #[test]
    fn wrong_types_name_line_and_column() {
        let e = err("{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\n\"components\": {}}");
        assert_eq!((e.line(), e.field()), (2, "CycloneDX"), "{e}");
        assert!(
            e.to_string().contains("expected a list of components"),
            "{e}"
        );
        let e = err(
            "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[\n{\"name\": 5}]}",
        );
        assert_eq!(e.line(), 2, "{e}");
        assert!(e.to_string().contains("invalid type: integer `5`"), "{e}");
        let e = err("{\"bomFormat\":\"CycloneDX\",\"specVersion\":1.5}");
        assert!(e.to_string().contains("invalid type"), "{e}");
        let e = err("{\"bomFormat\":\"CycloneDX\",\"bomFormat\":\"CycloneDX\"}");
        assert!(e.to_string().contains("duplicate field"), "{e}");
        let e = err(
            "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"metadata\":{\n\"timestamp\":\"yesterday\"}}",
        );
        assert_eq!((e.line(), e.field()), (2, "metadata.timestamp"), "{e}");
    }

    #[test]
    fn vex_is_refused() {
        let text = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\",\n\"metadata\":{\"component\":{\"name\":\"DEF\"}},\n\"vulnerabilities\": [{\"id\":\"CVE-2021-44228\"}]}";
        let e = err(text);
        assert!(e.is_refusal(), "{e}");
        assert_eq!((e.line(), e.field()), (3, "vulnerabilities"), "{e}");
        assert!(
            e.to_string()
                .contains("VEX document (vulnerabilities only, no components)"),
            "{e}"
        );
        // With components, the vulnerabilities are ignored and the inventory imported.
        let text = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\",\"components\":[{\"name\":\"log4j-core\"}],\"vulnerabilities\":[{\"id\":\"CVE-2021-44228\"}]}";
        assert_eq!(ok(text).observations[0].software.len(), 1);
    }

    fn components(n: usize) -> String {
        let one = "{\"type\":\"library\",\"name\":\"x\"}";
        format!(
            "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[\n{}]}}",
            vec![one; n].join(",\n")
        )
    }

    #[test]
    fn limits_are_refusals() {
        let limits = Limits {
            bytes: MAX_BOM_BYTES,
            components: 3,
        };
        let got = parse("x", components(3).as_bytes(), limits).unwrap();
        // Identical anonymous components are merged.
        assert_eq!(got.observations[0].software.len(), 1);
        let e = parse("x", components(4).as_bytes(), limits).unwrap_err();
        assert!(
            e.is_refusal() && e.to_string().contains("more than 3 components"),
            "{e}"
        );
        assert_eq!(e.line(), 5, "the fourth component");
        // Nested ones count too.
        let nested = "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{\"name\":\"a\",\"components\":[{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":\"d\"}]}]}";
        assert!(
            parse("x", nested.as_bytes(), limits)
                .unwrap_err()
                .is_refusal()
        );

        let text = components(100);
        let small = Limits {
            bytes: 200,
            components: MAX_COMPONENTS,
        };
        let e = parse("x", text.as_bytes(), small).unwrap_err();
        assert!(
            e.is_refusal() && e.to_string().contains("larger than 200 bytes"),
            "{e}"
        );
        let exact = Limits {
            bytes: text.len() as u64,
            components: MAX_COMPONENTS,
        };
        assert!(parse("x", text.as_bytes(), exact).is_ok());

        let long = format!(
            "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[\n{{\"name\":\"{}\"}}]}}",
            "a".repeat(MAX_VALUE_BYTES + 1)
        );
        let e = err(long);
        assert!(e.is_refusal() && e.line() == 2, "{e}");
        // Skipped values may be long.
        let long = format!(
            "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":[{{\"name\":\"a\",\"description\":\"{}\"}}]}}",
            "a".repeat(MAX_VALUE_BYTES + 1)
        );
        assert_eq!(ok(&long).observations[0].software.len(), 1);
    }

    #[test]
    fn deep_nesting_neither_overflows_nor_is_kept() {
        let open = "[".repeat(100_000);
        // At the top: not an object.
        assert_eq!(err(&open).field(), "JSON");
        // In a skipped field: read past without recursion, then the file ends.
        let e = err(format!("{{\"bomFormat\":\"CycloneDX\",\"x\":{open}"));
        assert!(e.to_string().contains("truncated"), "{e}");
        let closed = format!(
            "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"x\":{open}{},\"components\":[{{\"name\":\"a\"}}]}}",
            "]".repeat(100_000)
        );
        assert_eq!(ok(&closed).observations[0].software.len(), 1);
        let objects = format!(
            "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"x\":{}",
            "{\"a\":".repeat(100_000)
        );
        assert!(err(objects).to_string().contains("truncated"));
        // In kept values: serde_json's recursion limit.
        let e = err(format!(
            "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"components\":{}",
            "[{\"name\":\"a\",\"components\":".repeat(100_000)
        ));
        assert!(
            e.is_refusal() && e.to_string().contains("nested deeper than 128"),
            "{e}"
        );
        let e = err(format!(
            "{{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"metadata\":{open}"
        ));
        assert!(!e.to_string().is_empty());
    }

    #[test]
    fn one_byte_reads_and_repeated_parses_agree() {
        let whole = ok(FIRMWARE);
        let trickled =
            parse_cyclonedx("bom.json", BufReader::with_capacity(1, FIRMWARE.as_bytes())).unwrap();
        assert_eq!(whole.observations, trickled.observations);
        // State from a failed parse does not leak into the next one.
        let _ = err(components(1).replace("\"x\"", "5"));
        assert_eq!(ok(FIRMWARE).observations, whole.observations);
    }

    #[test]
    fn serial_property_names() {
        for name in [
            "serialNumber",
            "cdx:device:serial_number",
            "acme:serialNo",
            "Serial",
            "x:serial-number",
        ] {
            assert!(is_serial_name(&Text(name.to_owned())), "{name}");
        }
        for name in ["cdx:device:quantity", "serials", "bomSerial"] {
            assert!(!is_serial_name(&Text(name.to_owned())), "{name}");
        }
        assert_eq!(
            file_stem("a/b/sbom-keycloak-10.0.2.json"),
            "sbom-keycloak-10.0.2"
        );
        assert_eq!(file_stem(".json"), ".json");
    }
}
