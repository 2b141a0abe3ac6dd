use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};
use uc_emulator::config::{Cli, Command, PartnerConnectCommand};

/// mimalloc instead of glibc's malloc: a request allocates and frees many small strings on
/// whichever worker thread serves it (measured on a listTables page: about 20% of the time in
/// glibc's malloc and free, about 8% in mimalloc's). See ARCHITECTURE.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Command::PartnerConnect(pc) => match pc.command {
            PartnerConnectCommand::Certify(args) => {
                ExitCode::from(u8::try_from(uc_emulator::partner_connect::certify::run(&args)).unwrap_or(1))
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
        // Signal handlers are installed before the listening line, so a SIGTERM that follows
        // it at once still shuts down cleanly.
        let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(t), Ok(i)) => (t, i),
            _ => {
                eprintln!("uc-emulator: cannot install signal handlers");
                return ExitCode::from(2);
            }
        };
        let handle = running.server.handle();
        let mut server = actix_web::rt::spawn(running.server);
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "uc-emulator listening on {}", running.url);
            let _ = out.flush();
        }
        let result = tokio::select! {
            _ = term.recv() => None,
            _ = int.recv() => None,
            r = &mut server => Some(r),
        };
        let result = match result {
            // Stop accepting, let in-flight requests finish (at most 10 s), then close the db.
            None => {
                handle.stop(true).await;
                server.await
            }
            Some(r) => r,
        };
        running.store.close();
        match result {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(e)) => {
                eprintln!("uc-emulator: server error: {e}");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("uc-emulator: server task failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
