//! Who can read a symmetric backup: a warning, before keepsake makes one the
//! account's current backup, that names the account's other devices whose
//! clients cannot. Pure.

use crate::matrix::devices::DeviceInfo;

/// Whether a device's display name says it runs keepsake (the only client
/// known to read a symmetric backup today among those still shipped with
/// their default names).
fn reads_symmetric(name: &str) -> bool {
    name.to_lowercase().contains("keepsake")
}

/// The warning for making a symmetric backup the account's current one,
/// or `None` when this is the account's only device.
pub fn warning(devices: &[DeviceInfo]) -> Option<String> {
    let others: Vec<&DeviceInfo> = devices.iter().filter(|d| !d.this_device).collect();
    if others.is_empty() {
        return None;
    }
    let label = |d: &DeviceInfo| match &d.name {
        Some(n) if !n.trim().is_empty() => format!("\"{}\" ({})", n.trim(), d.device_id),
        _ => d.device_id.clone(),
    };
    let cannot: Vec<String> = others
        .iter()
        .filter(|d| !d.name.as_deref().is_some_and(reads_symmetric))
        .map(|d| label(d))
        .collect();
    if cannot.is_empty() {
        return Some(format!(
            "Your other devices ({}) run keepsake and read the new backup.",
            others
                .iter()
                .map(|d| label(d))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Some(format!(
        "Clients without MSC3270 support cannot read a symmetric backup: Element Web, Element X and other clients on matrix-rust-sdk read only curve25519 backups. Your other devices {} will not find their history in the new backup (and may offer to replace it).",
        cannot.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, name: Option<&str>, this: bool) -> DeviceInfo {
        DeviceInfo {
            user_id: "@a:x".into(),
            device_id: id.into(),
            name: name.map(Into::into),
            verified: true,
            cross_signed: true,
            this_device: this,
        }
    }

    #[test]
    fn names_the_devices_that_cannot_read_it() {
        let me = device("ME", Some("keepsake"), true);
        assert_eq!(warning(std::slice::from_ref(&me)), None);
        let w = warning(&[
            me.clone(),
            device("WEB", Some("app.element.io: Firefox on Linux"), false),
            device("PHONE", None, false),
            device("LAPTOP", Some("keepsake on the laptop"), false),
        ])
        .unwrap();
        assert!(
            w.contains("\"app.element.io: Firefox on Linux\" (WEB), PHONE"),
            "{w}"
        );
        assert!(!w.contains("LAPTOP"), "{w}");
        let w = warning(&[me, device("LAPTOP", Some("keepsake 2"), false)]).unwrap();
        assert!(w.contains("run keepsake"), "{w}");
    }
}
