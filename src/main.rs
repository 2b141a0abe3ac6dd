use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use uc_emulator::config::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    uc_emulator::telemetry::init();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Explain(args) => match uc_emulator::explain::run_cli(&args) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("uc-emulator explain: {e}");
                ExitCode::from(2)
            }
        },
    }
}

fn serve(args: uc_emulator::config::ServeArgs) -> ExitCode {
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let running = match uc_emulator::app::start(&args) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("uc-emulator: {e}");
                return ExitCode::from(2);
            }
        };
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "uc-emulator listening on {}", running.url);
            let _ = out.flush();
        }
        // actix stops accepting on SIGINT/SIGTERM and lets in-flight requests finish.
        let result = running.server.await;
        running.store.close();
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("uc-emulator: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
