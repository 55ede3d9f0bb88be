//! Configuration loading and checking (`hotline::config::load`, `hotline check-config`): the
//! shipped example loads and holds the demo contract; every kind of problem the checker knows is
//! reported with the file and key it is about. Each test copies `sip-config/` into a temporary
//! directory and plants its mistakes there.

use std::path::{Path, PathBuf};
use std::process::Command;

use hotline::config::{load, Problem, Role};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sip-config")
}

const FILES: [&str; 5] = [
    "hotline.toml",
    "queues.toml",
    "users.toml",
    "city.toml",
    "calendar.toml",
];

/// A copy of the shipped example configuration in a temporary directory.
struct Cfg {
    dir: tempfile::TempDir,
}

impl Cfg {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for f in FILES {
            std::fs::copy(shipped().join(f), dir.path().join(f)).unwrap();
        }
        Cfg { dir }
    }

    fn main(&self) -> PathBuf {
        self.path("hotline.toml")
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// How a problem names `file`.
    fn shown(&self, file: &str) -> String {
        self.path(file).display().to_string()
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file)).unwrap()
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.path(file), text).unwrap();
    }

    /// Replaces the `nth` (0-based) occurrence of `from` in `file` by `to`.
    fn replace_nth(&self, file: &str, from: &str, nth: usize, to: &str) -> &Self {
        let text = self.read(file);
        let (at, _) = text
            .match_indices(from)
            .nth(nth)
            .unwrap_or_else(|| panic!("{from:?} #{nth} not found in {file}"));
        let new = format!("{}{}{}", &text[..at], to, &text[at + from.len()..]);
        self.write(file, &new);
        self
    }

    /// Replaces the only occurrence of `from` in `file` by `to`.
    fn replace(&self, file: &str, from: &str, to: &str) -> &Self {
        assert_eq!(
            self.read(file).matches(from).count(),
            1,
            "{from:?} is not unique in {file}"
        );
        self.replace_nth(file, from, 0, to)
    }

    fn append(&self, file: &str, text: &str) -> &Self {
        let old = self.read(file);
        self.write(file, &format!("{old}\n{text}\n"));
        self
    }

    fn problems(&self) -> Vec<Problem> {
        match load(&self.main()) {
            Ok(_) => panic!("the configuration loaded without problems"),
            Err(e) => e.0,
        }
    }

    /// Asserts exactly one problem, in `file` at `key`, whose message contains `needle`.
    #[track_caller]
    fn assert_one(&self, file: &str, key: &str, needle: &str) -> Problem {
        let problems = self.problems();
        assert_eq!(problems.len(), 1, "expected one problem, got {problems:#?}");
        let p = problems.into_iter().next().unwrap();
        assert_eq!(p.file, self.shown(file), "{p}");
        assert_eq!(p.key, key, "{p}");
        assert!(p.message.contains(needle), "{needle:?} not in {p}");
        p
    }

    fn check_config(&self) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_hotline"))
            .arg("check-config")
            .arg("--config")
            .arg(self.main())
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }
}

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
                a.password.as_str(),
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
    ] {
        cfg.replace(
            "users.toml",
            &format!("\"demo-{t}\""),
            &format!("\"token-for-{t}\""),
        );
    }
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

// ----- one test per kind of problem -------------------------------------------------------------

#[test]
fn unknown_section() {
    let cfg = Cfg::new();
    cfg.append("city.toml", "[[parks]]\nname = \"Bingcaogang\"");
    cfg.assert_one("city.toml", "parks", "unknown section");
}

#[test]
fn section_defined_twice_in_two_files() {
    let cfg = Cfg::new();
    cfg.append("calendar.toml", "[server]\nrtp_ports = \"30000-30999\"");
    let p = cfg.assert_one("calendar.toml", "server", "already defined in");
    assert!(p.message.contains(&cfg.shown("hotline.toml")), "{p}");
    // The first definition wins.
    let cfg = Cfg::new();
    cfg.append(
        "users.toml",
        "[[trunks]]\nname = \"other\"\naddresses = [\"192.0.2.1\"]",
    );
    let p = cfg.assert_one("users.toml", "trunks", "already defined in");
    assert!(p.message.contains(&cfg.shown("hotline.toml")), "{p}");
}

#[test]
fn unknown_key_in_a_table_section() {
    let cfg = Cfg::new();
    cfg.replace(
        "hotline.toml",
        "data_dir = \"./data\"",
        "data_dir = \"./data\"\nsip_adress = \"0.0.0.0:5070\"",
    );
    cfg.assert_one("hotline.toml", "server", "sip_adress");
}

#[test]
fn unknown_key_in_an_array_section() {
    let cfg = Cfg::new();
    cfg.replace(
        "hotline.toml",
        "name = \"carrier\"",
        "name = \"carrier\"\nport = 5060",
    );
    cfg.assert_one("hotline.toml", "trunks[0]", "port");
    // The 5th department (nobody refers to it).
    let cfg = Cfg::new();
    cfg.replace(
        "city.toml",
        "name = \"住房和城乡建设局\"",
        "name = \"住房和城乡建设局\"\nemail = \"x@example.org\"",
    );
    cfg.assert_one("city.toml", "departments[4]", "email");
}

#[test]
fn bad_toml_in_the_main_file_names_the_line() {
    let cfg = Cfg::new();
    let text = cfg.read("hotline.toml");
    let line = text
        .lines()
        .position(|l| l.starts_with("rtp_ports"))
        .unwrap()
        + 1;
    cfg.replace(
        "hotline.toml",
        "rtp_ports = \"20000-29999\"",
        "rtp_ports = \"20000-29999",
    );
    cfg.assert_one("hotline.toml", &format!("line {line}"), "not valid TOML");
}

#[test]
fn bad_toml_in_an_included_file_names_the_file_and_line() {
    let cfg = Cfg::new();
    let text = cfg.read("queues.toml");
    let line = text
        .lines()
        .position(|l| l.starts_with("strategy"))
        .unwrap()
        + 1;
    cfg.replace_nth(
        "queues.toml",
        "strategy = \"longest-idle\"",
        0,
        "strategy = = \"longest-idle\"",
    );
    // The broken file itself and its line are named, and nothing else: sections left out by
    // the broken file would only cause knock-on problems.
    cfg.assert_one("queues.toml", &format!("line {line}"), "not valid TOML");
}

#[test]
fn missing_include_file() {
    let cfg = Cfg::new();
    cfg.replace(
        "hotline.toml",
        "\"calendar.toml\"]",
        "\"calendar.toml\", \"nowhere.toml\"]",
    );
    let p = cfg.assert_one("hotline.toml", "include[4]", "cannot read");
    assert!(p.message.contains("nowhere.toml"), "{p}");
}

#[test]
fn duplicate_agent_id() {
    let cfg = Cfg::new();
    cfg.replace("queues.toml", "id = \"1002\"", "id = \"1001\"");
    cfg.assert_one("queues.toml", "agents[1].id", "\"1001\" is used twice");
}

#[test]
fn duplicate_queue_name() {
    let cfg = Cfg::new();
    cfg.replace("queues.toml", "name = \"12319\"", "name = \"12345\"");
    let problems = cfg.problems();
    // The queue 12319 is gone, so its number and agents point nowhere; the duplicate is first.
    assert_eq!(problems[0].key, "queues[1].name", "{problems:#?}");
    assert_eq!(problems[0].file, cfg.shown("queues.toml"));
    assert!(problems.iter().any(|p| p.key == "numbers[1].queue"));
}

#[test]
fn duplicate_department_id_grid_code_number_and_user_name() {
    let cfg = Cfg::new();
    cfg.replace("city.toml", "id = \"housing\"", "id = \"market\"");
    cfg.assert_one("city.toml", "departments[4].id", "\"market\" is used twice");

    let cfg = Cfg::new();
    cfg.replace("city.toml", "\"510402002003001\"", "\"510402001001001\"");
    cfg.assert_one("city.toml", "grid_cells[2].code", "is used twice");

    let cfg = Cfg::new();
    cfg.replace("hotline.toml", "number = \"12319\"", "number = \"12345\"");
    cfg.assert_one("hotline.toml", "numbers[1].number", "is used twice");

    let cfg = Cfg::new();
    cfg.replace("users.toml", "name = \"supervisor\"", "name = \"admin\"");
    cfg.assert_one("users.toml", "users[1].name", "is used twice");

    let cfg = Cfg::new();
    cfg.replace("users.toml", "\"demo-supervisor\"", "\"demo-admin\"");
    cfg.assert_one("users.toml", "users[1].token", "used by another user");
}

#[test]
fn bad_queue_strategy() {
    let cfg = Cfg::new();
    cfg.replace_nth(
        "queues.toml",
        "strategy = \"longest-idle\"",
        1,
        "strategy = \"random\"",
    );
    cfg.assert_one(
        "queues.toml",
        "queues[1].strategy",
        "\"random\" is not a strategy",
    );
}

#[test]
fn queue_timer_of_zero() {
    let cfg = Cfg::new();
    cfg.replace_nth("queues.toml", "ring_secs = 15", 0, "ring_secs = 0");
    cfg.assert_one("queues.toml", "queues[0].ring_secs", "more than 0");
}

#[test]
fn number_not_digits() {
    let cfg = Cfg::new();
    cfg.replace("hotline.toml", "number = \"12319\"", "number = \"12319a\"");
    cfg.assert_one("hotline.toml", "numbers[1].number", "digits only");
}

#[test]
fn number_hours() {
    let cfg = Cfg::new();
    cfg.replace_nth("hotline.toml", "hours = \"24x7\"", 0, "hours = \"always\"");
    cfg.assert_one("hotline.toml", "numbers[0].hours", "\"always\"");
}

#[test]
fn unknown_channel_of_a_number() {
    let cfg = Cfg::new();
    cfg.replace(
        "hotline.toml",
        "channel = \"phone-12345\"",
        "channel = \"phone-999\"",
    );
    cfg.assert_one(
        "hotline.toml",
        "numbers[0].channel",
        "\"phone-999\" is not a channel",
    );
}

#[test]
fn unknown_channel_of_a_user() {
    let cfg = Cfg::new();
    cfg.replace(
        "users.toml",
        "channel = \"field-inspector\"",
        "channel = \"pigeon\"",
    );
    cfg.assert_one(
        "users.toml",
        "users[3].channel",
        "\"pigeon\" is not a channel",
    );
    let cfg = Cfg::new();
    cfg.replace("users.toml", "channel = \"field-inspector\"\n", "");
    cfg.assert_one("users.toml", "users[3].channel", "names its channel");
}

#[test]
fn user_with_both_token_forms() {
    let cfg = Cfg::new();
    let hash = "a".repeat(64);
    cfg.replace(
        "users.toml",
        "token = \"demo-admin\"",
        &format!("token = \"demo-admin\"\ntoken_sha256 = \"{hash}\""),
    );
    cfg.assert_one(
        "users.toml",
        "users[0].token",
        "exactly one of token and token_sha256",
    );
}

#[test]
fn user_with_neither_token_form() {
    let cfg = Cfg::new();
    cfg.replace("users.toml", "token = \"demo-supervisor\"\n", "");
    cfg.assert_one(
        "users.toml",
        "users[1].token",
        "exactly one of token and token_sha256",
    );
}

#[test]
fn token_forms_are_checked() {
    let cfg = Cfg::new();
    cfg.replace("users.toml", "token = \"demo-admin\"", "token = \"short\"");
    cfg.assert_one("users.toml", "users[0].token", "at least 8 characters");

    let cfg = Cfg::new();
    cfg.replace(
        "users.toml",
        "token = \"demo-admin\"",
        "token_sha256 = \"not-hex\"",
    );
    cfg.assert_one("users.toml", "users[0].token_sha256", "64 hex digits");

    // A hash is accepted in place of the clear token.
    let cfg = Cfg::new();
    let hash = "0123456789abcdef".repeat(4);
    cfg.replace(
        "users.toml",
        "token = \"demo-admin\"",
        &format!("token_sha256 = \"{hash}\""),
    );
    assert!(load(&cfg.main()).is_ok());
}

#[test]
fn agent_role_without_agent() {
    let cfg = Cfg::new();
    cfg.replace("users.toml", "agent = \"1001\"\n", "");
    cfg.assert_one("users.toml", "users[2].agent", "names its agent id");
    let cfg = Cfg::new();
    cfg.replace("users.toml", "agent = \"1001\"", "agent = \"9999\"");
    cfg.assert_one(
        "users.toml",
        "users[2].agent",
        "\"9999\" is not a configured agent",
    );
}

#[test]
fn department_role_with_unknown_department() {
    let cfg = Cfg::new();
    cfg.replace(
        "users.toml",
        "department = \"roads\"",
        "department = \"police\"",
    );
    cfg.assert_one(
        "users.toml",
        "users[5].department",
        "\"police\" is not a configured department",
    );
    let cfg = Cfg::new();
    cfg.replace("users.toml", "department = \"roads\"\n", "");
    cfg.assert_one("users.toml", "users[5].department", "names its department");
}

#[test]
fn agent_in_unknown_queue_bad_id_and_short_password() {
    let cfg = Cfg::new();
    cfg.replace_nth(
        "queues.toml",
        "queues = [\"12345\"]",
        2,
        "queues = [\"12345\", \"vip\"]",
    );
    cfg.assert_one(
        "queues.toml",
        "agents[2].queues[1]",
        "\"vip\" is not a configured queue",
    );

    let cfg = Cfg::new();
    cfg.replace("queues.toml", "id = \"2002\"", "id = \"20x2\"");
    cfg.assert_one("queues.toml", "agents[4].id", "must be digits");

    let cfg = Cfg::new();
    cfg.replace(
        "queues.toml",
        "password = \"demo-2001\"",
        "password = \"pw\"",
    );
    cfg.assert_one("queues.toml", "agents[3].password", "at least 8 characters");
}

#[test]
fn bad_utc_offset() {
    for bad in ["+8", "08:00", "+15:00", "+08:60", "UTC+8"] {
        let cfg = Cfg::new();
        cfg.replace(
            "calendar.toml",
            "utc_offset = \"+08:00\"",
            &format!("utc_offset = \"{bad}\""),
        );
        cfg.assert_one("calendar.toml", "calendar.utc_offset", "+08:00");
    }
}

#[test]
fn bad_workday() {
    let cfg = Cfg::new();
    cfg.replace("calendar.toml", "\"wed\"", "\"funday\"");
    cfg.assert_one(
        "calendar.toml",
        "calendar.workdays[2]",
        "\"funday\" is not a weekday",
    );
}

#[test]
fn bad_working_period() {
    let cfg = Cfg::new();
    cfg.replace("calendar.toml", "\"13:30-17:30\"", "\"17:30-09:00\"");
    cfg.assert_one(
        "calendar.toml",
        "calendar.working_hours[1]",
        "ends before it starts",
    );

    let cfg = Cfg::new();
    cfg.replace("calendar.toml", "\"13:30-17:30\"", "\"13:30 to 17:30\"");
    cfg.assert_one("calendar.toml", "calendar.working_hours[1]", "not a period");

    // Overlapping periods.
    let cfg = Cfg::new();
    cfg.replace("calendar.toml", "\"13:30-17:30\"", "\"11:30-17:30\"");
    cfg.assert_one("calendar.toml", "calendar", "overlap");
}

#[test]
fn holiday_also_a_make_up_day() {
    let cfg = Cfg::new();
    cfg.replace("calendar.toml", "2026-10-07,", "2026-10-07, 2026-10-10,");
    cfg.assert_one(
        "calendar.toml",
        "calendar",
        "2026-10-10 is listed both as a holiday and as a make-up working day",
    );
}

#[test]
fn deadline_rule_of_zero() {
    let cfg = Cfg::new();
    cfg.replace(
        "calendar.toml",
        "consultation = { working_days = 3 }",
        "consultation = { working_days = 0 }",
    );
    cfg.assert_one(
        "calendar.toml",
        "deadlines.by_type.consultation",
        "between 1 and 3650",
    );

    let cfg = Cfg::new();
    cfg.replace(
        "calendar.toml",
        "E0101 = { working_hours = 8 }",
        "E0101 = { working_hours = 0 }",
    );
    cfg.assert_one(
        "calendar.toml",
        "deadlines.by_category.E0101",
        "between 1 and 3650",
    );
}

#[test]
fn missing_deadline_for_a_request_type() {
    let cfg = Cfg::new();
    cfg.replace("calendar.toml", "help = { working_days = 7 }\n", "");
    cfg.assert_one("calendar.toml", "deadlines.by_type.help", "missing");
}

#[test]
fn bad_category_id_in_by_category() {
    let cfg = Cfg::new();
    cfg.replace(
        "calendar.toml",
        "E0101 = { working_hours = 8 }",
        "X0101 = { working_hours = 8 }",
    );
    cfg.assert_one(
        "calendar.toml",
        "deadlines.by_category.X0101",
        "not a category id",
    );
}

#[test]
fn bad_rtp_range() {
    for bad in ["30000-20000", "80-1000", "20000", "20000-7000x"] {
        let cfg = Cfg::new();
        cfg.replace(
            "hotline.toml",
            "rtp_ports = \"20000-29999\"",
            &format!("rtp_ports = \"{bad}\""),
        );
        cfg.assert_one("hotline.toml", "server.rtp_ports", "");
    }
}

#[test]
fn bad_database_url_scheme() {
    let cfg = Cfg::new();
    cfg.replace(
        "hotline.toml",
        "data_dir = \"./data\"",
        "data_dir = \"./data\"\ndatabase_url = \"mysql://hotline@127.0.0.1/hotline\"",
    );
    cfg.assert_one(
        "hotline.toml",
        "server.database_url",
        "must start with postgres://",
    );
    // The accepted schemes.
    for url in [
        "postgres://h@127.0.0.1/h",
        "postgresql://h@127.0.0.1/h",
        "sqlite://data/h.db",
    ] {
        let cfg = Cfg::new();
        cfg.replace(
            "hotline.toml",
            "data_dir = \"./data\"",
            &format!("data_dir = \"./data\"\ndatabase_url = \"{url}\""),
        );
        assert!(load(&cfg.main()).is_ok(), "{url}");
    }
}

#[test]
fn bad_redis_url_scheme() {
    let cfg = Cfg::new();
    cfg.replace(
        "hotline.toml",
        "data_dir = \"./data\"",
        "data_dir = \"./data\"\nredis_url = \"http://127.0.0.1:6379\"",
    );
    cfg.assert_one("hotline.toml", "server.redis_url", "redis://");
}

#[test]
fn bad_trunk_address() {
    let cfg = Cfg::new();
    cfg.replace("hotline.toml", "\"::1\"", "\"10.0.0.0/33\"");
    cfg.assert_one(
        "hotline.toml",
        "trunks[0].addresses[1]",
        "not an IP address",
    );
    let cfg = Cfg::new();
    cfg.replace("hotline.toml", "[\"127.0.0.1\", \"::1\"]", "[]");
    cfg.assert_one("hotline.toml", "trunks[0].addresses", "no address");
}

#[test]
fn number_leading_to_unknown_queue() {
    let cfg = Cfg::new();
    cfg.replace("hotline.toml", "queue = \"12319\"", "queue = \"12320\"");
    cfg.assert_one(
        "hotline.toml",
        "numbers[1].queue",
        "\"12320\" is not a configured queue",
    );
}

#[test]
fn section_of_the_wrong_shape() {
    let cfg = Cfg::new();
    cfg.replace("hotline.toml", "[[trunks]]", "[trunks]");
    cfg.assert_one("hotline.toml", "trunks", "array of tables");
}

#[test]
fn main_file_missing_is_one_problem() {
    let cfg = Cfg::new();
    std::fs::remove_file(cfg.main()).unwrap();
    let problems = cfg.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].file, cfg.shown("hotline.toml"));
    assert!(problems[0].message.contains("cannot read"));
}

#[test]
fn problems_display_with_file_and_key() {
    let p = Problem {
        file: "q.toml".into(),
        key: "queues[0].strategy".into(),
        message: "bad".into(),
    };
    assert_eq!(p.to_string(), "q.toml: queues[0].strategy: bad");
    let p = Problem {
        key: String::new(),
        ..p
    };
    assert_eq!(p.to_string(), "q.toml: bad");
}

#[test]
fn same_token_in_clear_and_hashed_is_used_twice() {
    let cfg = Cfg::new();
    let hash = hotline::api::auth::token_hash("demo-admin").to_ascii_uppercase();
    cfg.replace(
        "users.toml",
        "token = \"demo-supervisor\"",
        &format!("token_sha256 = \"{hash}\""),
    );
    cfg.assert_one(
        "users.toml",
        "users[1].token_sha256",
        "used by another user",
    );
}

#[test]
fn department_with_empty_id_or_name() {
    let cfg = Cfg::new();
    cfg.replace("city.toml", "name = \"市场监督管理局\"", "name = \"  \"");
    cfg.assert_one("city.toml", "departments[3]", "must not be empty");
}

#[test]
fn include_that_is_not_a_list() {
    let cfg = Cfg::new();
    cfg.replace(
        "hotline.toml",
        "include = [\"queues.toml\", \"users.toml\", \"city.toml\", \"calendar.toml\"]",
        "include = \"queues.toml\"",
    );
    let problems = cfg.problems();
    let p = problems
        .iter()
        .find(|p| p.key == "include")
        .unwrap_or_else(|| panic!("{problems:#?}"));
    assert_eq!(p.file, cfg.shown("hotline.toml"));
    assert!(p.message.contains("list of file names"));
}

#[test]
fn every_calendar_problem_is_reported() {
    let cfg = Cfg::new();
    cfg.replace(
        "calendar.toml",
        "utc_offset = \"+08:00\"",
        "utc_offset = \"+8h\"",
    );
    cfg.replace("calendar.toml", "\"wed\"", "\"funday\"");
    let problems = cfg.problems();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    for p in &problems {
        assert_eq!(p.file, cfg.shown("calendar.toml"));
        assert!(p.key.starts_with("calendar"), "{p}");
    }
    assert!(problems
        .iter()
        .any(|p| p.to_string().contains("utc_offset")));
    assert!(problems.iter().any(|p| p.to_string().contains("funday")));
}

#[test]
fn utc_offset_with_signed_parts_is_rejected() {
    for bad in ["+-08:00", "++08:00", "+08:-30", "-+05:00"] {
        let cfg = Cfg::new();
        cfg.replace(
            "calendar.toml",
            "utc_offset = \"+08:00\"",
            &format!("utc_offset = \"{bad}\""),
        );
        let r = load(&cfg.main());
        assert!(r.is_err(), "{bad} was accepted");
        cfg.assert_one("calendar.toml", "calendar.utc_offset", "+08:00");
    }
}

#[test]
fn a_working_period_may_end_at_midnight() {
    for end in ["24:00", "00:00"] {
        let cfg = Cfg::new();
        cfg.replace(
            "calendar.toml",
            "\"13:30-17:30\"",
            &format!("\"13:30-17:30\", \"18:00-{end}\""),
        );
        let c = load(&cfg.main())
            .unwrap_or_else(|e| panic!("{end}: {e}"))
            .config;
        let cal = c.working_calendar().unwrap();
        // Friday 2026-11-27 20:00 +08:00 is working time now.
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T20:00:00+08:00").unwrap();
        assert!(cal.is_working_time(at.with_timezone(&chrono::Utc)), "{end}");
    }
}
