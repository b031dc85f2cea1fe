//! `scripts/bench-chart`: the README's benchmark chart, drawn from the
//! `bench-result` lines of the benchmarks' output (runs `python3`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/it/fixtures/bench-output.txt")
}

fn bench_chart(args: &[&Path]) -> Output {
    Command::new("python3")
        .arg(root().join("scripts/bench-chart"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run python3 scripts/bench-chart")
}

#[test]
fn fixture_makes_a_chart_of_every_group() {
    let out = bench_chart(&[&fixture()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench-chart failed: {stderr}");
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "not an SVG: {svg}"
    );
    for text in [
        "keepsake",
        "matrix-sdk",
        "store alone",
        "server alone",
        "PostgreSQL",
        "Upload 10,000 new sessions (Synapse on SQLite)",
        "Restore 100,000 sessions on a new device (Synapse on SQLite)",
        // keepsake's restore time, and matrix-sdk's: 15.81 / 7.27 = 2.17.
        ">7.27 s<",
        ">15.8 s (2.2x keepsake)<",
        // The fixture's postgres line has no peak RSS for matrix-sdk.
        ">n/a<",
    ] {
        assert!(svg.contains(text), "no {text:?} in the chart:\n{svg}");
    }
    // Three groups (upload/sqlite, upload/postgres, restore/sqlite), each with
    // three time bars (keepsake, matrix-sdk, limit) and a memory bar for each
    // measured peak RSS: 2 + 1 + 2.
    assert_eq!(
        svg.matches(r#"<rect class="bar""#).count(),
        3 * 3 + 2 + 1 + 2
    );
}

#[test]
fn malformed_line_fails_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bench-output.txt");
    std::fs::write(
        &input,
        "Running benches/backup_upload.rs\nupload: done\nbench-result {not json\n",
    )
    .unwrap();
    let chart = dir.path().join("chart.svg");
    let out = bench_chart(&[Path::new("-o"), &chart, &input]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a malformed line passed: {stderr}");
    assert!(
        stderr.contains("bench-output.txt:3:"),
        "no line number in: {stderr}"
    );
    assert!(out.stdout.is_empty());
    // Nothing written, not even a partial file.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["bench-output.txt"]);
}

#[test]
fn output_option_writes_the_file_and_nothing_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart.svg");
    let out = bench_chart(&[Path::new("-o"), &chart, &fixture()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench-chart -o failed: {stderr}");
    assert!(out.stdout.is_empty(), "-o also wrote to stdout");
    let written = std::fs::read(&chart).unwrap();
    assert!(written.starts_with(b"<?xml") || written.starts_with(b"<svg"));
    // The same bytes as on stdout: the chart depends on its input alone.
    assert_eq!(written, bench_chart(&[&fixture()]).stdout);
    // No temporary file left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
