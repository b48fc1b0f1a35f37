//! `heaven`: starts the local stack (`cargo run`) or one worker (`heaven serve <service>`).

use std::process::ExitCode;

use clap::Parser;
use heaven::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match heaven::stack::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("heaven: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
