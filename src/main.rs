use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = coach::cli::Cli::parse();
    match coach::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coach: {e}");
            e.exit_code()
        }
    }
}
