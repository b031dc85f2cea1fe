//! One AFL++ binary for every target: `KEEPSAKE_FUZZ_TARGET` names it (see
//! `keepsake::fuzzing::TARGETS`).

fn main() {
    let name = std::env::var("KEEPSAKE_FUZZ_TARGET").unwrap_or_default();
    let Some(&(_, target)) = keepsake::fuzzing::TARGETS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = keepsake::fuzzing::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("set KEEPSAKE_FUZZ_TARGET to one of: {}", names.join(", "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| target(data));
}
