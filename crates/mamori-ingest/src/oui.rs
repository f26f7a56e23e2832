//! The maker of a network card, from the first bytes of its MAC address (the IEEE
//! Organizationally Unique Identifier).
//!
//! The table is the one bundled by the `oui-data` crate (0.2.4, built from git commit
//! `dbbd5e5b` of jwalton/rs-oui-data): the IEEE Registration Authority's public CSV files for
//! MA-L (40,347 assignments), MA-M (6,641), MA-S (7,234), CID (221) and IAB (4,575), as
//! downloaded by that crate's `update_data.sh`. The crate does not record the date of the
//! download; its 0.2 series was first published in May 2024, so assignments made since may be
//! missing (the lookup then gives `None`, not a wrong name). Longer prefixes (MA-S, MA-M) win
//! over the 24-bit MA-L block they are carved from.

/// The IEEE organisation name registered for the MAC's prefix, e.g. `Intel Corporate` for
/// `00:1f:3c:87:66:50`.
///
/// `None` when:
/// - `mac` is not a MAC address (any form `crate::normalize_mac` accepts is);
/// - it is a multicast or broadcast address (lowest bit of the first octet set): not a device;
/// - it is locally administered (a randomised Wi-Fi address, a VM or container address, see
///   [`mamori_model::is_randomized_mac`]): its first bytes were not assigned by the IEEE;
/// - the prefix is not in the table, or is registered as `Private` (the IEEE hides the owner,
///   which says nothing about the device).
pub fn vendor_of(mac: &str) -> Option<&'static str> {
    let norm = crate::normalize_mac(mac)?;
    let first = norm
        .get(0..2)
        .and_then(|h| u8::from_str_radix(h, 16).ok())?;
    if first & 0x01 != 0 || mamori_model::is_randomized_mac(&norm) {
        return None;
    }
    // Only ASCII hex digits reach the lookup (it slices by byte offset).
    let hex: String = norm
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if hex.len() != 12 {
        return None;
    }
    let org = oui_data::lookup(&hex)?.organization().trim();
    if org.is_empty() || org.eq_ignore_ascii_case("private") {
        return None;
    }
    Some(org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_prefixes() {
        // Checked against the crate's data/oui.csv (MA-L rows).
        assert_eq!(vendor_of("00:1F:3C:87:66:50"), Some("Intel Corporate"));
        assert_eq!(vendor_of("00-1b-21-0a-0b-0c"), Some("Intel Corporate"));
        assert_eq!(vendor_of("6c2e.8519.af00"), Some("Sagemcom Broadband SAS"));
        assert_eq!(vendor_of("00:00:0c:12:34:56"), Some("Cisco Systems, Inc"));
        assert_eq!(
            vendor_of("00:11:32:0a:0b:0c"),
            Some("Synology Incorporated")
        );
        assert_eq!(vendor_of("00:00:00:00:00:01"), Some("XEROX CORPORATION"));
        assert_eq!(vendor_of("3c:5a:b4:00:00:01"), Some("Google, Inc."));
        // One-digit octets as macOS writes them.
        assert_eq!(vendor_of("0:1f:3c:87:66:50"), Some("Intel Corporate"));
    }

    #[test]
    fn longer_registrations_win() {
        // B8:4C:87 is an MA-L block split into MA-M assignments (oui28.csv).
        assert_eq!(vendor_of("b8:4c:87:40:00:01"), Some("Blum Novotest GmbH"));
        // 8C:1F:64 is split into MA-S assignments (oui36.csv).
        assert_eq!(
            vendor_of("8c:1f:64:af:a0:01"),
            Some("DATA ELECTRONIC DEVICES, INC")
        );
    }

    #[test]
    fn no_vendor_for_invalid_random_multicast_or_private() {
        assert_eq!(vendor_of(""), None);
        assert_eq!(vendor_of("garbage"), None);
        assert_eq!(vendor_of("00:1f:3c"), None);
        assert_eq!(vendor_of("00:1f:3c:87:66:50:00"), None);
        // Multibyte input never reaches the lookup.
        assert_eq!(vendor_of("００:1f:3c:87:66:50"), None);
        assert_eq!(vendor_of("é0:1f:3c:87:66:50"), None);
        // Locally administered: Docker, a phone's private Wi-Fi address, a CID block.
        assert_eq!(vendor_of("02:42:ac:1c:01:03"), None);
        assert_eq!(vendor_of("da:a1:19:00:00:01"), None);
        assert_eq!(vendor_of("ea:27:01:00:00:00"), None);
        // Multicast and broadcast.
        assert_eq!(vendor_of("01:00:5e:00:00:fb"), None);
        assert_eq!(vendor_of("33:33:00:00:00:01"), None);
        assert_eq!(vendor_of("ff:ff:ff:ff:ff:ff"), None);
        // Registered as "Private".
        assert_eq!(vendor_of("ac:de:48:00:11:22"), None);
    }
}
