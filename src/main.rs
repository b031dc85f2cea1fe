//! The `keepsake` binary: parses the command line and hands over to the
//! library. Kept thin so every job is testable through the library.

use std::process::ExitCode;

use clap::Parser;

/// keepsake: a terminal Matrix client that never loses encrypted history.
///
/// It backs up every megolm session with MSC3270 symmetric key backup
/// (`m.megolm_backup.v1.aes-hmac-sha2`) as soon as it exists, restores all of
/// it on a new device, and marks every message with whether the key that
/// decrypted it is trusted.
#[derive(Debug, Parser)]
#[command(name = "keepsake", version, about, long_about)]
struct Cli {}

fn main() -> ExitCode {
    let _cli = Cli::parse();
    // Account, chat and backup commands land with the matrix-core issue; until
    // then the binary only describes itself.
    let mut cmd = <Cli as clap::CommandFactory>::command();
    if cmd.print_long_help().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
