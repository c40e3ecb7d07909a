use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    coach::runtime::heap::limit_arenas();
    let cli = coach::cli::Cli::parse();
    match coach::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not `eprintln!`: it panics when stderr is a terminal that is gone. Errors
            // quote file names, config lines and upstream text: stripped of escapes and
            // bidirectional overrides so none of it can drive the terminal.
            let message = coach::text::printable_lines(&e.to_string());
            let _ = writeln!(std::io::stderr(), "coach: {message}");
            e.exit_code()
        }
    }
}
