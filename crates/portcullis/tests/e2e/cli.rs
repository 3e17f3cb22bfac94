//! The binary itself: configuration errors and the operator commands.

use std::process::Command;

use crate::helpers::{STRONG, unique};

fn portcullis(config: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn config_file(body: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique("portcullis-cli-"));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("portcullis.toml");
    std::fs::write(
        &path,
        body.replace("@DATA@", &dir.join("data").display().to_string()),
    )
    .expect("write");
    path
}

#[test]
fn the_example_config_is_accepted() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../portcullis.example.toml"
    ))
    .expect("example");
    let data = std::env::temp_dir().join(unique("portcullis-example-"));
    let path = config_file(&text.replace("./portcullis-data", &data.display().to_string()));
    let (code, out, err) = portcullis(&path, &["migrate"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn bad_configs_stop_with_the_key_named() {
    let cases = [
        (
            "listen = \"127.0.0.1:1\"\ndata_dir = \"@DATA@\"\ncolour = 1\n",
            "colour",
        ),
        ("listen = \"nowhere\"\ndata_dir = \"@DATA@\"\n", "listen"),
        (
            "listen = \"127.0.0.1:1\"\ndata_dir = \"@DATA@\"\n[[connections]]\nname = \"a\"\n[connections.options]\npasswordPolicy = \"strong\"\n",
            "connections[0].options.passwordPolicy",
        ),
        (
            "listen = \"127.0.0.1:1\"\ndata_dir = \"@DATA@\"\n[tenant]\ndefault_directory = \"missing\"\n",
            "tenant.default_directory",
        ),
        (
            "listen = \"127.0.0.1:1\"\ndata_dir = \"@DATA@\"\ntls = \"maybe\"\n",
            "tls",
        ),
    ];
    for (body, key) in cases {
        let path = config_file(body);
        let (code, _, err) = portcullis(&path, &["serve"]);
        assert_eq!(code, 1, "{body}");
        assert!(err.contains(key), "{key} not named in: {err}");
    }
}

#[test]
fn environment_overrides_file_keys() {
    let path = config_file("listen = \"127.0.0.1:1\"\ndata_dir = \"@DATA@\"\n");
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("--config")
        .arg(&path)
        .arg("migrate")
        .env("PORTCULLIS_TENANT__DEFAULT_DIRECTORY", "missing")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tenant.default_directory"));
}

#[test]
fn operator_user_commands() {
    let path = config_file(
        "listen = \"127.0.0.1:1\"\ndata_dir = \"@DATA@\"\n[[connections]]\nname = \"db\"\n[connections.options]\npasswordPolicy = \"good\"\n",
    );
    let (code, _, err) = portcullis(
        &path,
        &[
            "user",
            "create",
            "--connection",
            "db",
            "--email",
            "op@example.com",
            "--password",
            "weak",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("At least 8 characters"), "{err}");
    let (code, out, err) = portcullis(
        &path,
        &[
            "user",
            "create",
            "--connection",
            "db",
            "--email",
            "op@example.com",
            "--password",
            STRONG,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let user_id = out.trim().to_owned();
    assert!(user_id.starts_with("auth0|"));
    let (code, _, _) = portcullis(&path, &["user", "block", &user_id]);
    assert_eq!(code, 0);
    let (_, out, _) = portcullis(&path, &["user", "list", "--email", "OP@example.com"]);
    let listed: serde_json::Value = serde_json::from_str(out.trim()).expect("json line");
    assert_eq!(
        (listed["user_id"].as_str(), &listed["blocked"]),
        (Some(user_id.as_str()), &serde_json::json!(true))
    );
    let (code, _, _) = portcullis(&path, &["user", "delete", &user_id]);
    assert_eq!(code, 0);
    let (code, _, _) = portcullis(&path, &["user", "delete", &user_id]);
    assert_eq!(code, 1);
    let (code, out, _) = portcullis(&path, &["keys", "rotate"]);
    assert_eq!(code, 0);
    assert!(out.contains("generation 2"), "{out}");
}

#[test]
fn seeding_makes_many_users_that_can_log_in() {
    let path = config_file(
        "listen = \"127.0.0.1:1\"\ndata_dir = \"@DATA@\"\n[[connections]]\nname = \"db\"\n[connections.options]\npasswordPolicy = \"good\"\n",
    );
    let seed = |first: &str, count: &str, password: &str| {
        portcullis(
            &path,
            &[
                "user",
                "seed",
                "--connection",
                "db",
                "--count",
                count,
                "--first",
                first,
                "--email",
                "load{n}@example.com",
                "--password",
                password,
                "--batch",
                "300",
            ],
        )
    };
    // The connection's rules hold for seeded users too.
    let (code, _, err) = seed("0", "10", "weak");
    assert_eq!(code, 1);
    assert!(err.contains("At least 8 characters"), "{err}");
    let (code, out, err) = seed("0", "1000", STRONG);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("1000 users"), "{out}");
    // A batch that meets a taken e-mail stores none of its users and says so.
    let (code, _, err) = seed("999", "5", STRONG);
    assert_eq!(code, 1);
    assert!(err.contains("user exists"), "{err}");
    let (_, out, _) = portcullis(&path, &["user", "list", "--email", "load1000@example.com"]);
    assert!(out.trim().is_empty(), "{out}");
    let (_, out, _) = portcullis(&path, &["user", "list", "--email", "load999@example.com"]);
    let listed: serde_json::Value = serde_json::from_str(out.trim()).expect("json line");
    assert_eq!(listed["nickname"], "load999");
    assert_eq!(listed["identities"][0]["connection"], "db");
}

#[test]
fn at_rest_keys_are_private_rotate_and_reseal() {
    let path = config_file("listen = \"127.0.0.1:1\"\ndata_dir = \"@DATA@\"\n");
    let data = path.parent().expect("dir").join("data");
    let (code, out, err) = portcullis(&path, &["keys", "rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    let keys_file = data.join("at-rest.keys");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys_file)
            .expect("keys")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key file is its owner's alone");
    }
    let key_lines = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let first = key_lines(&std::fs::read_to_string(&keys_file).expect("keys"));
    assert_eq!(first.len(), 1);

    let (code, out, err) = portcullis(&path, &["secrets", "rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    let rotated = key_lines(&std::fs::read_to_string(&keys_file).expect("keys"));
    assert_eq!((rotated.len(), &rotated[1]), (2, &first[0]));
    let (code, out, err) = portcullis(&path, &["secrets", "reseal"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("2 stored secret(s)"), "{out}");

    // Resealed, the old key can go: the signing keys still open with the new one alone.
    std::fs::write(&keys_file, format!("{}\n", rotated[0])).expect("write");
    let (code, out, err) = portcullis(&path, &["keys", "rotate"]);
    assert_eq!(code, 0, "{out}{err}");
    // With another node's keys (or none of these), the server refuses to start and says why.
    let (code, _, err) = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("--config")
        .arg(&path)
        .args(["keys", "rotate"])
        .env(
            "PORTCULLIS_AT_REST_KEYS",
            portcullis_core::at_rest::AtRestKeys::new_key_line(),
        )
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                (),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .expect("run");
    assert_eq!(code, 1);
    assert!(err.contains("PORTCULLIS_AT_REST_KEYS"), "{err}");
}
