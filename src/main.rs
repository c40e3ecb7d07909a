use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = coach::cli::Cli::parse();
    match coach::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not `eprintln!`: it panics when stderr is a terminal that is gone.
            let _ = writeln!(std::io::stderr(), "coach: {e}");
            e.exit_code()
        }
    }
}
