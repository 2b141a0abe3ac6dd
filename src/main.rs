use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};
use uc_emulator::config::{Cli, Command, PartnerConnectCommand};
use uc_emulator::telemetry::LogFormat;

/// mimalloc instead of glibc's malloc: a request allocates and frees many small strings on
/// whichever worker thread serves it (measured on a listTables page: about 20% of the time in
/// glibc's malloc and free, about 8% in mimalloc's). See ARCHITECTURE.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let (log_format, batched) = match &cli.command {
        Command::Serve(args) => (args.log_format, true),
        _ => (LogFormat::Text, false),
    };
    uc_emulator::telemetry::init(log_format, batched);
    match cli.command {
        Command::Serve(args) => {
            let code = serve(args);
            uc_emulator::telemetry::flush();
            code
        }
        Command::Healthcheck(args) => match uc_emulator::healthcheck::run(&args) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(line) => {
                eprintln!("uc-emulator healthcheck: {line}");
                ExitCode::FAILURE
            }
        },
        Command::Explain(args) => match uc_emulator::explain::run_cli(&args) {
            Ok((text, allowed)) => {
                println!("{text}");
                // 1 = DENIED, so scripts can branch on the verdict; 2 = the question failed.
                if allowed {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("uc-emulator explain: {e}");
                ExitCode::from(2)
            }
        },
        Command::PartnerConnect(pc) => match pc.command {
            PartnerConnectCommand::Certify(args) => ExitCode::from(
                u8::try_from(uc_emulator::partner_connect::certify::run(&args, start_certify_sandbox)).unwrap_or(1),
            ),
        },
    }
}

fn serve(args: uc_emulator::config::ServeArgs) -> ExitCode {
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let running = match uc_emulator::api::app::start(&args) {
            Ok(r) => r,
            Err(e) => {
                uc_emulator::telemetry::flush();
                eprintln!("uc-emulator: {e}");
                return ExitCode::from(2);
            }
        };
        // Signal handlers are installed before the listening line, so a SIGTERM that follows
        // it at once still shuts down cleanly.
        let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(t), Ok(i)) => (t, i),
            _ => {
                uc_emulator::telemetry::flush();
                eprintln!("uc-emulator: cannot install signal handlers");
                return ExitCode::from(2);
            }
        };
        let handle = running.server.handle();
        let mut server = actix_web::rt::spawn(running.server);
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "uc-emulator listening on {}", running.url);
            if let Some(s3) = &running.s3 {
                let _ = writeln!(out, "uc-emulator s3 endpoint on {}", s3.url);
            }
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
        drop(running.s3);
        running.store.close();
        match result {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(e)) => {
                uc_emulator::telemetry::flush();
                eprintln!("uc-emulator: server error: {e}");
                ExitCode::FAILURE
            }
            Err(e) => {
                uc_emulator::telemetry::flush();
                eprintln!("uc-emulator: server task failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// `--help` and `--version` print to stdout and exit 0; any other command-line error is one line
/// on stderr (clap's reason, with its tip when it has one) and exit status 2.
fn usage_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            eprintln!(
                "uc-emulator: a subcommand is required (serve, explain, healthcheck, partner-connect); \
                 see 'uc-emulator --help'"
            );
            return ExitCode::from(2);
        }
        _ => {}
    }
    // The subcommand the user meant, for the pointer to its --help.
    let args: Vec<String> = std::env::args().skip(1).take(2).collect();
    let command = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["partner-connect", "certify", ..] => "uc-emulator partner-connect certify".to_string(),
        [sub, ..] if ["serve", "explain", "healthcheck", "partner-connect"].contains(sub) => {
            format!("uc-emulator {sub}")
        }
        _ => "uc-emulator".to_string(),
    };
    eprintln!("uc-emulator: {}; see '{command} --help'", one_line(&e.render().to_string()));
    ExitCode::from(2)
}

/// clap's error text without its usage block: the error paragraph (reason, missing arguments,
/// possible values) and any `tip:` lines, on one line.
fn one_line(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut in_error = false;
    for line in rendered.lines().map(str::trim) {
        if let Some(reason) = line.strip_prefix("error: ") {
            parts.push(reason.to_string());
            in_error = true;
        } else if line.is_empty() {
            in_error = false;
        } else if let Some(tip) = line.strip_prefix("tip: ") {
            parts.push(tip.to_string());
        } else if let (true, Some(last)) = (in_error, parts.last_mut()) {
            // "required arguments were not provided:" + the list; "[possible values: ...]"
            let more = line.trim_matches(|c| c == '[' || c == ']');
            last.push_str(if last.ends_with(':') { " " } else { "; " });
            last.push_str(more);
        }
    }
    if parts.is_empty() {
        parts.push(rendered.lines().next().unwrap_or("invalid command line").trim().to_string());
    }
    parts.join("; ")
}

/// Starts certify's private emulator (the sandbox) through the HTTP layer's start-up.
fn start_certify_sandbox(
    args: &uc_emulator::config::ServeArgs,
) -> Result<uc_emulator::partner_connect::certify::SandboxServer, String> {
    let running = uc_emulator::api::app::start(args).map_err(|e| e.to_string())?;
    Ok(uc_emulator::partner_connect::certify::SandboxServer {
        url: running.url,
        store: running.store,
        server: running.server,
    })
}
