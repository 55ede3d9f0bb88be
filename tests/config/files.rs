//! Problems with the files themselves: unknown or twice-defined sections, unknown keys, sections
//! of the wrong shape, broken TOML, includes that are missing or not a list, a missing main
//! file; and how a problem is displayed.

use hotline::config::Problem;

use crate::support::{edit_gives_one, Cfg};

// ----- sections and keys ------------------------------------------------------------------------

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
    edit_gives_one(
        "hotline.toml",
        "data_dir = \"./data\"",
        "data_dir = \"./data\"\nsip_adress = \"0.0.0.0:5070\"",
        "server",
        "sip_adress",
    );
}

#[test]
fn unknown_key_in_an_array_section() {
    edit_gives_one(
        "hotline.toml",
        "name = \"carrier\"",
        "name = \"carrier\"\nport = 5060",
        "trunks[0]",
        "port",
    );
    // The 5th department (nobody refers to it).
    edit_gives_one(
        "city.toml",
        "name = \"住房和城乡建设局\"",
        "name = \"住房和城乡建设局\"\nemail = \"x@example.org\"",
        "departments[4]",
        "email",
    );
}

#[test]
fn section_of_the_wrong_shape() {
    edit_gives_one(
        "hotline.toml",
        "[[trunks]]",
        "[trunks]",
        "trunks",
        "array of tables",
    );
}

// ----- TOML, includes and the main file ---------------------------------------------------------

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
    let p = edit_gives_one(
        "hotline.toml",
        "\"calendar.toml\"]",
        "\"calendar.toml\", \"nowhere.toml\"]",
        "include[4]",
        "cannot read",
    );
    assert!(p.message.contains("nowhere.toml"), "{p}");
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
