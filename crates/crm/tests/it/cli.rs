//! The `crm` binary's commands, run as a user would run them.

use std::io::Write;
use std::process::{Command, Stdio};

pub(crate) fn crm(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run crm");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn users_backup_and_errors_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("crm-cli-{}", uuid::Uuid::new_v4().simple()));
    let (ok, out, _) = crm(&dir, &["migrate"], None);
    assert!(ok && out.contains("migrations applied"), "{out}");
    let (ok, out, _) = crm(&dir, &["setup-link"], None);
    assert!(
        ok && out.contains("/setup?token="),
        "a setup link while no user exists: {out}"
    );
    let (ok, out, _) = crm(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(ok && out.contains("created ops@example.com"), "{out}");
    let (ok, _, err) = crm(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "Again",
            "--role",
            "rep",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(
        !ok && err.contains("Email already exists"),
        "one-line reason, non-zero exit: {err}"
    );
    let (ok, out, _) = crm(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "gen@example.com",
            "--name",
            "Gen",
            "--role",
            "rep",
        ],
        None,
    );
    assert!(ok && out.contains("password (shown once):"), "{out}");
    let (ok, out, _) = crm(&dir, &["user", "list"], None);
    assert!(
        ok && out.contains("ops@example.com") && out.contains("gen@example.com"),
        "{out}"
    );
    let (ok, _, err) = crm(&dir, &["setup-link"], None);
    assert!(!ok && err.contains("Setup is already done"), "{err}");
    let (ok, out, _) = crm(&dir, &["user", "deactivate", "--email", "gen@example.com"], None);
    assert!(ok && out.contains("deactivated"), "{out}");
    let (ok, out, _) = crm(&dir, &["seed", "demo"], None);
    assert!(ok && out.contains("demo data loaded"), "{out}");
    let (ok, out, _) = crm(&dir, &["seed", "demo"], None);
    assert!(ok && out.contains("already present"), "idempotent: {out}");

    let backup = dir.join("backup.db");
    let (ok, out, _) = crm(&dir, &["backup", "--out", backup.to_str().unwrap()], None);
    assert!(ok && out.contains("backup written"), "{out}");
    let head = std::fs::read(&backup).unwrap();
    assert!(head.starts_with(b"SQLite format 3"), "a real SQLite file");
    let (ok, _, err) = crm(&dir, &["backup", "--out", backup.to_str().unwrap()], None);
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = crm(
        &dir,
        &[
            "user",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "owner",
        ],
        None,
    );
    assert!(!ok && err.contains("invalid value 'owner'"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
