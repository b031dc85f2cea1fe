//! The config's sections beyond the account: `[rooms]`, `[files]`,
//! `[notifications]`, `[images]`, `[privacy]`; what each may hold and how
//! the ones that need checking become settings.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Ctx};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PrivacySection {
    /// Tell a room when you are typing.
    pub typing: Option<bool>,
    /// Others see how far you have read (else the receipt is private).
    pub read_receipts: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ImagesSection {
    pub preview: Option<bool>,
    /// auto, halfblocks, kitty, sixel or iterm2.
    pub protocol: Option<Spanned<String>>,
}

/// How image previews are drawn.
pub const IMAGE_PROTOCOLS: [&str; 5] = ["auto", "halfblocks", "kitty", "sixel", "iterm2"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NotificationsSection {
    pub desktop: Option<bool>,
    pub bell: Option<bool>,
    /// Room id or name -> off, mentions or all.
    #[serde(default)]
    pub rooms: BTreeMap<String, Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FilesSection {
    /// Where `d` and `keepsake download` save (absolute path).
    pub download_dir: Option<Spanned<String>>,
    /// The program that opens a file or link (`o`).
    pub opener: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RoomsSection {
    /// activity, name or unread.
    pub sort: Option<Spanned<String>>,
}

/// `[notifications]` as settings; a level that is not one is an error at
/// its place.
pub(super) fn notify(
    ctx: &Ctx<'_>,
    section: &NotificationsSection,
) -> Result<crate::app::alerts::Settings, ConfigError> {
    let mut notify = crate::app::alerts::Settings::default();
    if let Some(d) = section.desktop {
        notify.desktop = d;
    }
    if let Some(b) = section.bell {
        notify.bell = b;
    }
    for (room, level) in &section.rooms {
        use crate::app::alerts::Level;
        let l = Level::parse(level.get_ref()).ok_or_else(|| {
            ctx.err(
                level.span(),
                format!(
                    "[notifications.rooms] \"{room}\" must be one of {}, not \"{}\"",
                    Level::NAMES.join(", "),
                    level.get_ref()
                ),
            )
        })?;
        notify.rooms.insert(room.clone(), l);
    }
    Ok(notify)
}

/// `[images] protocol`, one of [`IMAGE_PROTOCOLS`].
pub(super) fn image_protocol(
    ctx: &Ctx<'_>,
    section: &ImagesSection,
) -> Result<String, ConfigError> {
    let image_protocol = match &section.protocol {
        None => "auto".to_owned(),
        Some(p) if IMAGE_PROTOCOLS.contains(&p.get_ref().as_str()) => p.get_ref().clone(),
        Some(p) => {
            return Err(ctx.err(
                p.span(),
                format!(
                    "[images] `protocol` must be one of {}, not \"{}\"",
                    IMAGE_PROTOCOLS.join(", "),
                    p.get_ref()
                ),
            ));
        }
    };
    Ok(image_protocol)
}
