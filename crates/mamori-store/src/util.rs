//! Small helpers shared by the store modules.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, StoreError};

/// Now, as the store writes timestamps: RFC 3339 in UTC to the second (sorts as text).
pub fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Booleans are stored as integers on both backends (0/1) so that one decoder serves both.
pub(crate) fn b2i(b: bool) -> i64 {
    i64::from(b)
}

pub(crate) fn get_bool(row: &AnyRow, col: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

pub(crate) fn get_opt_bool(row: &AnyRow, col: &str) -> Result<Option<bool>> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(|v| v != 0))
}

/// Decodes a stored code into its enum, reporting a clear error for a value we do not know.
pub(crate) fn get_code<T: std::str::FromStr>(row: &AnyRow, col: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let s: String = row.try_get(col)?;
    s.parse::<T>().map_err(|e| StoreError::Decode(format!("{col}: {e}")))
}

/// `LIKE` pattern matching `needle` anywhere, with `\` as the escape character.
pub(crate) fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A `$a, $b, …` list of `n` placeholders starting at `first`.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Placeholders for a multi-row statement. SQLite gets anonymous `?`: it resolves a named
/// parameter such as `$7` by a linear scan of all the statement's names, which makes binding a
/// statement of a thousand `$n` parameters quadratic; PostgreSQL needs `$n`.
pub(crate) fn batch_placeholders(backend: crate::Backend, first: usize, n: usize) -> String {
    match backend {
        crate::Backend::Sqlite => vec!["?"; n].join(", "),
        crate::Backend::Postgres => placeholders(first, n),
    }
}

/// Today in Japan (Asia/Tokyo), `YYYY-MM-DD`: the day a facility's records are dated by.
pub fn today_tokyo() -> String {
    let now = jiff::Timestamp::now();
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap_or(jiff::tz::TimeZone::UTC);
    now.to_zoned(tz).date().to_string()
}
