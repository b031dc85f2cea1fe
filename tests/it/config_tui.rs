//! The TUI's `[keys]` and `[colors]` sections: what they resolve to and one
//! precise message for each mistake.

use std::path::Path;

use keepsake::config::{self, BaseDirs, Overrides};

fn resolve(text: &str) -> Result<config::Settings, String> {
    config::resolve(
        Path::new("c.toml"),
        Some(text),
        &Overrides::default(),
        &BaseDirs::under(Path::new("/run/ks")),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn keys_and_colours_resolve() {
    let s = resolve(
        "[keys]\nquit = \"ctrl-q\"\ndown = [\"down\", \"ctrl-n\"]\n[colors]\naccent = \"#ff8800\"\n",
    )
    .unwrap();
    assert_eq!(s.keys["quit"], vec!["ctrl-q"]);
    assert_eq!(s.keys["down"], vec!["down", "ctrl-n"]);
    assert_eq!(s.colors["accent"], "#ff8800");
    assert!(resolve("").unwrap().keys.is_empty());
}

#[test]
fn each_mistake_has_its_message() {
    assert_eq!(
        resolve("[keys]\nqiut = \"q\"\n").unwrap_err(),
        format!(
            "invalid config c.toml:2:1: [keys] unknown key action `qiut`; the actions are: {}",
            keepsake::app::keys::ACTIONS
                .iter()
                .map(|a| a.1)
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
    assert_eq!(
        resolve("[keys]\nquit = \"ctrl-nope\"\n").unwrap_err(),
        "invalid config c.toml:2:8: [keys] `ctrl-nope` is not a key (e.g. \"q\", \"ctrl-c\", \"alt-enter\", \"pageup\", \"f1\")"
    );
    assert_eq!(
        resolve("[colors]\nbad = \"blurple\"\n").unwrap_err(),
        "invalid config c.toml:2:7: [colors] `blurple` is not a colour (a name like \"cyan\" or \"lightred\", an index 0-255, or \"#rrggbb\")"
    );
    assert!(
        resolve("[colors]\nfancy = \"red\"\n")
            .unwrap_err()
            .starts_with("invalid config c.toml:2:1: [colors] unknown colour role `fancy`")
    );
    assert!(resolve("[keys]\nquit = 3\n").is_err());
}

#[test]
fn the_example_config_parses_with_its_tui_sections_enabled() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"))
        .unwrap();
    // Uncomment the [keys], [colors] and [rooms] examples.
    let mut on = false;
    let mut out = String::new();
    for line in text.lines() {
        if [
            "# [keys]",
            "# [colors]",
            "# [rooms]",
            "# [files]",
            "# [notifications]",
            "# [notifications.rooms]",
            "# [images]",
        ]
        .contains(&line)
        {
            on = true;
        } else if !line.starts_with("# ") {
            on = false;
        }
        let l = if on && (line.starts_with("# [") || line.contains(" = ")) {
            &line[2..]
        } else {
            line
        };
        out.push_str(l);
        out.push('\n');
    }
    let s = resolve(&out).unwrap();
    assert_eq!(s.keys["quit"], vec!["ctrl-q"]);
    assert_eq!(s.colors["selection"], "blue");
    assert!(out.contains("\n[rooms]\nsort = \"activity\"\n"), "{out}");
    assert_eq!(s.opener, "xdg-open");
    assert_eq!(
        s.download_dir,
        std::path::PathBuf::from("/home/alice/Downloads")
    );
    use keepsake::app::alerts::Level;
    assert_eq!(s.notify.rooms["!abc:example.org"], Level::All);
    assert_eq!(s.notify.rooms["Noisy lobby"], Level::Off);
    assert!(s.image_previews);
    assert_eq!(s.image_protocol, "auto");
}

#[test]
fn notifications_and_files_say_what_is_wrong() {
    assert_eq!(
        resolve("[notifications.rooms]\n\"!a:x\" = \"loud\"\n").unwrap_err(),
        "invalid config c.toml:2:10: [notifications.rooms] \"!a:x\" must be one of off, mentions, all, not \"loud\""
    );
    assert_eq!(
        resolve("[files]\ndownload_dir = \"Downloads\"\n").unwrap_err(),
        "invalid config c.toml:2:16: [files] `download_dir` must be an absolute path, not \"Downloads\""
    );
    assert_eq!(
        resolve("[images]\nprotocol = \"ascii\"\n").unwrap_err(),
        "invalid config c.toml:2:12: [images] `protocol` must be one of auto, halfblocks, kitty, sixel, iterm2, not \"ascii\""
    );
    let s = resolve("[notifications]\nbell = false\n").unwrap();
    assert!(!s.notify.bell && s.notify.desktop);
}

#[test]
fn the_room_list_order_comes_from_the_rooms_section() {
    use keepsake::matrix::room_order::RoomSort;
    assert_eq!(resolve("").unwrap().room_sort, RoomSort::Activity);
    for (name, by) in [("name", RoomSort::Name), ("unread", RoomSort::Unread)] {
        let s = resolve(&format!("[rooms]\nsort = \"{name}\"\n")).unwrap();
        assert_eq!(s.room_sort, by);
    }
}
