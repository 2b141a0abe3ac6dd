//! `uc-emulator partner-connect certify` run as the built binary against
//! the reference fake partner (`tests/partner/fake_partner.py`, a python3 process): the
//! well-behaved partner passes, each misbehaviour switch fails the case that catches it, cases
//! without endpoints are skipped, `--case` filters, and usage errors exit 2 with empty stdout.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_uc-emulator");
const FAKE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/partner/fake_partner.py");

/// A fake partner process, killed on drop; its config is written to `config`.
struct FakePartner {
    child: Child,
    url: String,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for FakePartner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fake_partner(args: &[&str]) -> FakePartner {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("partner.json");
    let mut child = Command::new("python3")
        .arg(FAKE)
        .args(["--port", "0", "--quiet", "--config-out"])
        .arg(&config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs the fake partner");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("listening line");
    let url = line.trim().strip_prefix("fake-partner listening on ").unwrap_or_else(|| panic!("{line:?}")).to_string();
    FakePartner { child, url, config, _dir: dir }
}

/// One certify run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// `(verdict, case, reason)` per case line.
    fn cases(&self) -> Vec<(String, String, String)> {
        let lines: Vec<&str> = self.stdout.lines().collect();
        lines[..lines.len().saturating_sub(1)]
            .iter()
            .map(|l| {
                let (verdict, rest) = l.split_once(' ').unwrap_or_else(|| panic!("bad line {l:?}"));
                let (case, reason) = rest.split_once(": ").unwrap_or((rest, ""));
                (verdict.to_string(), case.to_string(), reason.to_string())
            })
            .collect()
    }

    fn with(&self, verdict: &str) -> Vec<String> {
        self.cases().into_iter().filter(|(v, _, _)| v == verdict).map(|(_, c, _)| c).collect()
    }

    fn reason(&self, case: &str) -> String {
        self.cases().into_iter().find(|(_, c, _)| c == case).map(|(_, _, r)| r).unwrap_or_default()
    }

    fn summary(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }
}

fn certify(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .args(["partner-connect", "certify"])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn certify_partner(p: &FakePartner, credentials: bool, extra: &[&str]) -> Run {
    let config = p.config.to_str().unwrap();
    let mut args = vec!["--config", config, "--timeout-ms", "1500"];
    if credentials {
        args.extend(["--basic-user", "u", "--basic-password", "p"]);
    }
    args.extend(extra);
    certify(&args)
}

const ALL: &[&str] = &[
    "CONFIG", "AUTH", "P100", "P300", "P302", "P400", "P401", "P402", "P403", "P404", "P405", "P501", "P502", "P600",
    "P700", "P800", "P801", "P900",
];

/// A partner with basic auth and these switches.
fn with_switches(switches: &[&str]) -> FakePartner {
    let mut args = vec!["--basic-user", "u", "--basic-password", "p"];
    for s in switches {
        args.extend(["--switch", s]);
    }
    fake_partner(&args)
}

#[test]
fn the_well_behaved_partner_passes_every_case() {
    let p = with_switches(&[]);
    let run = certify_partner(&p, true, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.with("PASS"), ALL, "{}", run.stdout);
    assert_eq!(run.summary(), "18 passed, 0 failed");
    assert_eq!(run.stdout.lines().count(), 19, "nothing else on stdout");
}

#[test]
fn cases_without_endpoints_or_credentials_are_skipped() {
    let p = fake_partner(&[
        "--omit-endpoint",
        "test_connection",
        "--omit-endpoint",
        "delete_connection",
        "--omit-endpoint",
        "delete_account",
        "--omit-endpoint",
        "expire_account",
        "--omit-endpoint",
        "connectors",
        "--no-demo",
    ]);
    let run = certify_partner(&p, false, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.with("PASS"), ["CONFIG", "P100", "P300", "P302", "P400", "P600"], "{}", run.stdout);
    assert_eq!(
        run.with("SKIP"),
        ["AUTH", "P401", "P402", "P403", "P404", "P405", "P501", "P502", "P700", "P800", "P801", "P900"]
    );
    assert_eq!(run.reason("P403"), "the config has no endpoints.delete_account_path");
    assert_eq!(run.reason("P801"), "the config has no endpoints.test_connection_path");
    assert_eq!(run.reason("P700"), "the config does not set supports_demo to true");
    assert!(run.reason("AUTH").contains("--basic-user"), "{}", run.stdout);
    assert_eq!(run.summary(), "6 passed, 0 failed, 12 skipped");
}

#[test]
fn other_partner_behaviours_pass_too() {
    // new_user_action, trial_type and manual sign-up change what the cases expect.
    for args in [
        &["--new-user-action", "invite", "--trial-type", "user"][..],
        &["--new-user-action", "not_found"][..],
        &["--require-manual-signup"][..],
    ] {
        let p = fake_partner(args);
        let run = certify_partner(&p, false, &[]);
        assert_eq!(run.code, 0, "{args:?}\n{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.with("SKIP"), ["AUTH"], "{args:?}\n{}", run.stdout);
    }
}

/// Switches under which every case from P100 on fails at user1's first connect.
#[test]
fn answers_that_break_the_api_fail_every_connecting_case() {
    let cases = [
        ("wrong_enum", "user_status: \"returning\" is not one of"),
        ("missing_connection_id", "connection_id: required"),
        ("string_for_bool", "configured_resources: must be a JSON boolean"),
        ("foreign_redirect_host", "redirect_uri: host evil.example.net is not in hostnames"),
        ("html_instead_of_json", "body: not JSON"),
        ("status_500", "partner answered 500 general_error"),
        ("decline", "declined"),
    ];
    for (switch, problem) in cases {
        let p = with_switches(&[switch]);
        let run = certify_partner(&p, true, &[]);
        assert_eq!(run.code, 1, "{switch}\n{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.with("PASS"), ["CONFIG", "AUTH"], "{switch}\n{}", run.stdout);
        assert_eq!(run.with("FAIL"), &ALL[2..], "{switch}\n{}", run.stdout);
        for case in &ALL[2..] {
            let reason = run.reason(case);
            assert!(reason.contains("connect of user1"), "{switch} {case}: {reason}");
            assert!(reason.contains(problem), "{switch} {case}: {reason}");
        }
        assert_eq!(run.summary(), "2 passed, 16 failed");
    }
}

#[test]
fn targeted_misbehaviours_fail_their_case_only() {
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("accept_wrong_credentials", &[("AUTH", "connect with a wrong password: expected 401 unauthorized")]),
        ("hooks_accept_any_domain", &[("P405", "delete-account of the non-test domain")]),
        (
            "wrong_user_status",
            &[
                ("P302", "sign-in of user2: expected user_status \"new\" (new_user_action auto_add), got \"existing\""),
                ("P700", "demo connect of user1: expected user_status \"new\""),
            ],
        ),
        (
            "deleted_connection_still_200",
            &[
                ("P402", "sign-in of user1: expected 404 connection_not_found, the partner answered 200"),
                // delete-account deletes the account's connections too, so P404 sees the same.
                ("P404", "sign-in of user1: expected 404 connection_not_found, the partner answered 200"),
                ("P801", "test of the deleted connection: expected 404 connection_not_found"),
            ],
        ),
    ];
    for (switch, expected) in cases {
        let p = with_switches(&[switch]);
        let run = certify_partner(&p, true, &[]);
        assert_eq!(run.code, 1, "{switch}\n{}\n{}", run.stdout, run.stderr);
        let failed: Vec<&str> = expected.iter().map(|(c, _)| *c).collect();
        assert_eq!(run.with("FAIL"), failed, "{switch}\n{}", run.stdout);
        for (case, reason) in expected {
            assert!(run.reason(case).starts_with(reason), "{switch} {case}: {}", run.reason(case));
        }
        assert_eq!(run.with("PASS").len(), 18 - failed.len());
    }
}

#[test]
fn a_slow_partner_times_out_and_case_filters_apply() {
    let p = fake_partner(&["--switch", "slow", "--slow-seconds", "2", "--basic-user", "u", "--basic-password", "p"]);
    let config = p.config.to_str().unwrap();
    let run = certify(&[
        "--config",
        config,
        "--basic-user",
        "u",
        "--basic-password",
        "p",
        "--timeout-ms",
        "300",
        "--case",
        "P100",
        "--case",
        "auth",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.with("FAIL"), ["AUTH", "P100"], "{}", run.stdout);
    assert_eq!(run.reason("P100"), "connect of user1: the partner did not answer within 300 ms");
    assert_eq!(run.summary(), "1 passed, 2 failed");
}

#[test]
fn case_filter_runs_config_and_the_chosen_cases_in_order() {
    let p = with_switches(&[]);
    let run = certify_partner(&p, true, &["--case", "P300", "--case", "p100", "--case", "P300"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "PASS CONFIG\nPASS P100\nPASS P300\n3 passed, 0 failed\n");
}

/// A plain HTTP/1.0 GET of the fake partner's control routes.
fn get_json(base: &str, path: &str) -> serde_json::Value {
    let addr = base.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn test_workspace_detail_replaces_the_sandbox_address() {
    let p = fake_partner(&[]);
    let mut config: serde_json::Value = serde_json::from_slice(&std::fs::read(&p.config).unwrap()).unwrap();
    config["test_workspace_detail"] = serde_json::json!({
        "hostname": "dbc-certify.cloud.databricks.com", "port": 443,
        "jdbc_url": "jdbc:spark://dbc-certify", "databricks_jdbc_url": "jdbc:databricks://dbc-certify",
        "http_path": "/sql/1.0/warehouses/feedc0de", "cluster_id": "0101-010101-abcdefgh",
    });
    let path = p._dir.path().join("detail.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let run = certify(&["--config", path.to_str().unwrap(), "--case", "P100", "--timeout-ms", "1500"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let calls = get_json(&p.url, "/_fake/calls");
    let calls = calls.as_array().or_else(|| calls["calls"].as_array()).expect("a call list").clone();
    let connect = calls.iter().find(|c| c["operation"] == "connect").expect("a connect call");
    let req = &connect["json"];
    assert_eq!(req["hostname"], "dbc-certify.cloud.databricks.com");
    assert_eq!(req["port"], 443);
    let ws = req["workspace_id"].as_i64().unwrap();
    assert_eq!(req["workspace_url"], format!("https://dbc-certify.cloud.databricks.com:443/?o={ws}"));
    assert_eq!(req["http_path"], "/sql/1.0/warehouses/feedc0de");
    assert_eq!(req["cluster_id"], "0101-010101-abcdefgh");
    assert_eq!(req["jdbc_url"], "jdbc:spark://dbc-certify");
    assert_eq!(req["databricks_jdbc_url"], "jdbc:databricks://dbc-certify");
    let email = req["user_info"]["email"].as_str().unwrap();
    assert!(email.starts_with("user1@") && email.ends_with(".databricks-test.com"), "{email}");
}

#[test]
fn an_invalid_config_fails_config_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, r#"{"name": "Acme", "category": "GAMES"}"#).unwrap();
    let run = certify(&["--config", path.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.reason("CONFIG").contains("api_version: required"), "{}", run.stdout);
    assert!(run.reason("CONFIG").contains("category:"), "{}", run.stdout);
    assert_eq!(run.with("SKIP"), &ALL[1..]);
    assert_eq!(run.summary(), "0 passed, 1 failed, 17 skipped");
}

fn usage_error(args: &[&str], why: &str) {
    let run = certify(args);
    assert_eq!(run.code, 2, "{args:?}: {}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "{args:?}");
    assert!(run.stderr.contains(why), "{args:?}: {}", run.stderr);
}

#[test]
fn usage_errors_exit_2_with_empty_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let bad: &Path = &dir.path().join("bad.json");
    std::fs::write(bad, "not json").unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, "{}").unwrap();
    let (bad, good) = (bad.to_str().unwrap(), good.to_str().unwrap());
    let missing = dir.path().join("missing.json");
    usage_error(&[], "--config");
    usage_error(&["--config", good, "--basic-user", "u"], "--basic-password");
    usage_error(&["--config", good, "--basic-password", "p"], "--basic-user");
    usage_error(&["--config", missing.to_str().unwrap()], "cannot be read");
    usage_error(&["--config", bad], "is not JSON");
    usage_error(&["--config", good, "--frobnicate"], "--frobnicate");
    usage_error(&["--config", good, "--case", "P999"], "P999");
    usage_error(&["--config", good, "--timeout-ms", "abc"], "--timeout-ms");

    let help = certify(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Usage: uc-emulator partner-connect certify --config FILE"), "{}", help.stdout);
    assert!(help.stdout.contains("--timeout-ms"));
}
