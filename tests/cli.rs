//! The binary as a new user meets it: `tidings init` then `tidings check`,
//! `init` refusing to overwrite, and the message for a missing config.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tidings");

fn tidings(cwd: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    // The caller's TIDINGS_* settings must not change what is tested.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TIDINGS_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn init_then_check_and_build_publish_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let init = tidings(dir.path(), &["init", "site"]);
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(
        stderr(&init)
            .contains("tidings --config site/config/tidings.toml --seeds site/seeds serve"),
        "{}",
        stderr(&init)
    );

    let flags = [
        "--config",
        "site/config/tidings.toml",
        "--seeds",
        "site/seeds",
    ];
    let check = tidings(dir.path(), &[&flags[..], &["check"]].concat());
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));

    // The sample article lands in both starter topics: by tag and by keyword.
    let build = tidings(
        dir.path(),
        &[&flags[..], &["build", "--out", "public"]].concat(),
    );
    assert_eq!(build.status.code(), Some(0), "{}", stderr(&build));
    for topic in ["city", "weather"] {
        let atom =
            std::fs::read_to_string(dir.path().join(format!("public/feeds/{topic}.atom"))).unwrap();
        assert!(
            atom.contains("Riverside library reopens"),
            "{topic}: {atom}"
        );
    }
}

#[test]
fn init_into_the_current_folder_makes_plain_commands_work() {
    let dir = tempfile::tempdir().unwrap();
    assert!(tidings(dir.path(), &["init"]).status.success());
    let check = tidings(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}

#[test]
fn init_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config/tidings.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "# mine\n").unwrap();

    let init = tidings(dir.path(), &["init"]);
    assert_eq!(init.status.code(), Some(2));
    let message = stderr(&init);
    assert!(
        message.contains("config/tidings.toml: already exists"),
        "{message}"
    );
    assert!(message.contains("never overwrites"), "{message}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "# mine\n");
    assert!(
        !dir.path().join("seeds").exists(),
        "init wrote the seeds anyway"
    );
}

#[test]
fn missing_config_says_where_it_looked_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let check = tidings(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(2));
    let message = stderr(&check);
    let looked_for = dir.path().join("config/tidings.toml");
    assert!(
        message.contains(&looked_for.display().to_string()),
        "{message}"
    );
    for hint in ["--config", "TIDINGS_CONFIG", "tidings init"] {
        assert!(message.contains(hint), "no {hint:?} in: {message}");
    }
    assert!(!message.contains("os error"), "{message}");
}

#[test]
fn an_io_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the config file should be: readable path, unreadable file.
    std::fs::create_dir_all(dir.path().join("config/tidings.toml")).unwrap();
    let check = tidings(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(2));
    let message = stderr(&check);
    assert_eq!(message.matches("os error").count(), 1, "{message}");
}

#[test]
fn a_bad_time_for_build_or_check_is_a_clear_error_and_now_wins_over_source_date_epoch() {
    let dir = tempfile::tempdir().unwrap();
    assert!(tidings(dir.path(), &["init"]).status.success());
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(dir.path())
            .env_remove("TIDINGS_NOW")
            .env_remove("TIDINGS_OUT")
            .env_remove("SOURCE_DATE_EPOCH");
        for (name, value) in env {
            command.env(name, value);
        }
        command.output().unwrap()
    };

    let bad = run(&[], &["check", "--now", "2024-06-01 09:00"]);
    assert_eq!(bad.status.code(), Some(2));
    let message = stderr(&bad);
    assert!(
        message.contains("--now") && message.contains("RFC 3339"),
        "{message}"
    );
    let bad = run(&[("TIDINGS_NOW", "tomorrow")], &["build"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("RFC 3339"), "{}", stderr(&bad));

    for epoch in ["yesterday", "1.5", "99999999999999999999"] {
        let bad = run(&[("SOURCE_DATE_EPOCH", epoch)], &["build"]);
        assert_eq!(bad.status.code(), Some(2), "{epoch}");
        let message = stderr(&bad);
        assert!(
            message.contains("SOURCE_DATE_EPOCH") && message.contains(epoch),
            "{message}"
        );
        assert!(!dir.path().join("public").exists(), "{epoch}: built anyway");
    }

    // `--now` wins; an empty SOURCE_DATE_EPOCH counts as unset.
    let now = ["build", "--now", "2030-01-01T00:00:00+02:00"];
    let good = run(&[("SOURCE_DATE_EPOCH", "yesterday")], &now);
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
    let good = run(&[("SOURCE_DATE_EPOCH", "")], &["check"]);
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
    let good = run(&[("SOURCE_DATE_EPOCH", "1717232400")], &["check"]);
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
}
