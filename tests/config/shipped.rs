//! The shipped example loads and holds the demo contract, `hotline check-config` accepts it, and
//! three mistakes planted in three files are all reported, by the loader and by the command.

use hotline::config::{load, Role};

use crate::support::{shipped, Cfg};

// ----- the shipped example ----------------------------------------------------------------------

#[test]
fn shipped_example_loads_with_the_demo_contract() {
    let loaded = load(&shipped().join("hotline.toml")).unwrap_or_else(|e| panic!("{e}"));
    let c = &loaded.config;

    assert_eq!(c.trunks.len(), 1);
    assert!(c.trunks[0].addresses.iter().any(|a| a == "127.0.0.1"));

    let numbers: Vec<(&str, &str, &str)> = c
        .numbers
        .iter()
        .map(|n| (n.number.as_str(), n.queue.as_str(), n.channel.as_str()))
        .collect();
    assert_eq!(
        numbers,
        [
            ("12345", "12345", "phone-12345"),
            ("12319", "12319", "phone-12319")
        ]
    );
    let queues: Vec<&str> = c.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(queues, ["12345", "12319"]);

    let agents: Vec<(&str, &str, Vec<&str>)> = c
        .agents
        .iter()
        .map(|a| {
            (
                a.id.as_str(),
                a.password.as_deref().unwrap_or_default(),
                a.queues.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        agents,
        [
            ("1001", "demo-1001", vec!["12345"]),
            ("1002", "demo-1002", vec!["12345"]),
            ("1003", "demo-1003", vec!["12345"]),
            ("2001", "demo-2001", vec!["12319"]),
            ("2002", "demo-2002", vec!["12319"]),
        ]
    );

    let token = |t: &str| {
        c.users
            .iter()
            .find(|u| u.token.as_deref() == Some(t))
            .unwrap_or_else(|| panic!("no user with token {t}"))
    };
    assert_eq!(token("demo-admin").role, Role::Admin);
    assert_eq!(token("demo-supervisor").role, Role::Supervisor);
    let agent = token("demo-agent-1001");
    assert_eq!(agent.role, Role::Agent);
    assert_eq!(agent.agent.as_deref(), Some("1001"));
    let channel = token("demo-channel");
    assert_eq!(channel.role, Role::Channel);
    assert!(channel.channel.is_some());

    assert!(c.has_demo_credentials());
    assert!(c.working_calendar().is_ok());
    assert_eq!(
        c.sources.get("agents"),
        Some(&shipped().join("queues.toml"))
    );
    assert_eq!(
        c.sources.get("server"),
        Some(&shipped().join("hotline.toml"))
    );
}

#[test]
fn demo_credentials_are_detected_until_replaced() {
    let cfg = Cfg::new();
    for id in ["1001", "1002", "1003", "2001", "2002"] {
        cfg.replace(
            "queues.toml",
            &format!("\"demo-{id}\""),
            &format!("\"secret-{id}-pw\""),
        );
    }
    assert!(load(&cfg.main()).unwrap().config.has_demo_credentials());
    for t in [
        "admin",
        "supervisor",
        "agent-1001",
        "channel",
        "dept-sanitation",
        "dept-roads",
        "inspector-01",
        "inspector-02",
        "leader",
        "110",
    ] {
        cfg.replace(
            "users.toml",
            &format!("\"demo-{t}\""),
            &format!("\"token-for-{t}\""),
        );
    }
    // The supervisor's softphone password is a demo one too.
    assert!(load(&cfg.main()).unwrap().config.has_demo_credentials());
    cfg.replace("users.toml", "\"demo-8001\"", "\"secret-8001-pw\"");
    assert!(!load(&cfg.main()).unwrap().config.has_demo_credentials());
}

#[test]
fn check_config_accepts_the_good_config() {
    let cfg = Cfg::new();
    let out = cfg.check_config();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(
        stdout.contains("prompts: 70 (zh), languages en, zh"),
        "{stdout}"
    );
}

#[test]
fn check_config_names_missing_prompts() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-prompts");
    let partial = tempfile::tempdir().unwrap();
    std::fs::create_dir(partial.path().join("zh")).unwrap();
    std::fs::copy(
        shipped.join("manifest.toml"),
        partial.path().join("manifest.toml"),
    )
    .unwrap();
    for name in std::fs::read_dir(shipped.join("zh")).unwrap() {
        let name = name.unwrap().file_name();
        if name != "beep.wav" && name != "goodbye.wav" {
            std::fs::copy(
                shipped.join("zh").join(&name),
                partial.path().join("zh").join(&name),
            )
            .unwrap();
        }
    }
    let cfg = Cfg::edited(
        "hotline.toml",
        "prompts_dir = \"ivr-prompts\"",
        &format!("prompts_dir = {:?}", partial.path().display().to_string()),
    );
    let out = cfg.check_config();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("media.language: 2 prompt(s)") && stderr.contains("beep, goodbye"),
        "{stderr}"
    );
}

// ----- three mistakes in three files ------------------------------------------------------------

fn three_mistakes() -> Cfg {
    let cfg = Cfg::new();
    // Agent 2002 (agents[4]) in a queue that does not exist.
    cfg.replace_nth(
        "queues.toml",
        "queues = [\"12319\"]",
        1,
        "queues = [\"99999\"]",
    );
    // A grid cell code with a letter.
    cfg.replace("city.toml", "\"510402001001002\"", "\"51040200100100X\"");
    // A deadline for a request type that does not exist.
    cfg.replace(
        "calendar.toml",
        "report = { working_days = 15 }",
        "report = { working_days = 15 }\nemergency = { working_days = 1 }",
    );
    cfg
}

fn three_expected(cfg: &Cfg) -> [(String, &'static str); 3] {
    [
        (cfg.shown("queues.toml"), "agents[4].queues[0]"),
        (cfg.shown("city.toml"), "grid_cells[1].code"),
        (cfg.shown("calendar.toml"), "deadlines.by_type.emergency"),
    ]
}

#[test]
fn three_mistakes_in_three_files_are_all_reported() {
    let cfg = three_mistakes();
    let problems = cfg.problems();
    let got: Vec<(String, &str)> = problems
        .iter()
        .map(|p| (p.file.clone(), p.key.as_str()))
        .collect();
    assert_eq!(got, three_expected(&cfg), "{problems:#?}");
    assert!(problems[0].message.contains("\"99999\""));
    assert!(problems[1].message.contains("15 digits"));
    assert!(problems[2].message.contains("not a request type"));
}

#[test]
fn check_config_names_every_problem_and_exits_1() {
    let cfg = three_mistakes();
    let out = cfg.check_config();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("3 configuration problem(s)"), "{stderr}");
    for (file, key) in three_expected(&cfg) {
        assert!(
            stderr.contains(&format!("{file}: {key}: ")),
            "{file}: {key} not in {stderr}"
        );
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains("configuration OK"));
}
