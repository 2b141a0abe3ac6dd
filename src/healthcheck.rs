//! `uc-emulator healthcheck`: `GET /healthz` on a running server, for container health checks
//! (the image then needs no curl). Exit 0 on a 200, 1 otherwise, one line either way.

use std::time::Duration;

use crate::config::HealthcheckArgs;

/// The URL a `--bind` address is reached at from this machine.
pub fn healthz_url(bind: &str) -> Result<String, String> {
    let (host, port) = bind.rsplit_once(':').ok_or_else(|| format!("{bind:?} is not HOST:PORT"))?;
    let port: u16 = port.parse().map_err(|_| format!("{bind:?}: {port:?} is not a port"))?;
    if port == 0 {
        return Err(format!("{bind:?}: port 0 is picked at start-up; name the real port"));
    }
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "::" | "[::]" => "[::1]",
        h => h,
    };
    Ok(format!("http://{host}:{port}/healthz"))
}

/// Runs the check; `Ok` carries the line for stdout, `Err` the line for stderr.
pub fn run(args: &HealthcheckArgs) -> Result<String, String> {
    let url = healthz_url(&args.bind)?;
    let timeout = Duration::from_secs(args.timeout);
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start: {e}"))?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot start an HTTP client: {e}"))?;
        let res = client.get(&url).send().await.map_err(|e| format!("{url}: {}", root_cause(&e)))?;
        let status = res.status();
        if status.as_u16() == 200 {
            Ok(format!("{url}: healthy"))
        } else {
            Err(format!("{url}: answered HTTP {}", status.as_u16()))
        }
    })
}

/// The innermost error ("Connection refused (os error 111)", "operation timed out"): the
/// layers above it only repeat the URL.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::healthz_url;

    #[test]
    fn wildcard_hosts_mean_this_machine() {
        assert_eq!(healthz_url("0.0.0.0:8080").unwrap(), "http://127.0.0.1:8080/healthz");
        assert_eq!(healthz_url("[::]:9000").unwrap(), "http://[::1]:9000/healthz");
        assert_eq!(healthz_url("localhost:81").unwrap(), "http://localhost:81/healthz");
        assert!(healthz_url("127.0.0.1:0").is_err());
        assert!(healthz_url("nonsense").is_err());
    }
}
