//! Problems in the call-flow settings of `[[numbers]]` (greeting, keys, self-service, closed
//! hours) and in `[callers]` (blacklist, priorities), and the defaults of those settings.

use hotline::config::load;

use crate::support::{edit_gives_one, edits_give_one, shipped, Cfg};

#[test]
fn shipped_flow_settings_and_defaults() {
    let c = load(&shipped().join("hotline.toml")).unwrap().config;
    let n = &c.numbers[0];
    assert_eq!(n.greeting_prompt(), "greeting-12345");
    assert_eq!(n.language_key.as_deref(), Some("9"));
    let services: Vec<(&str, &str)> = n
        .self_service
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        services,
        [("1", "order-status"), ("2", "voicemail"), ("3", "callback")]
    );
    assert!(n.survey);
    assert_eq!(n.queue_callback_key.as_deref(), Some("3"));
    // 12319 leaves everything but `closed` at its default.
    let n = &c.numbers[1];
    assert_eq!(n.greeting, None);
    assert_eq!(n.greeting_prompt(), "greeting-12319");
    assert!(n.recording_notice);
    assert_eq!(n.language_key, None);
    assert!(n.self_service.is_empty());
    assert!(!n.survey);
    assert_eq!(n.queue_callback_key, None);
    assert_eq!(n.closed, "voicemail");
    assert_eq!(c.callers.blacklist.len(), 1);
    assert_eq!(c.callers.priority[0].priority, 5);
    // Without `closed`, a closed number refuses.
    let cfg = Cfg::edited("hotline.toml", "closed = \"voicemail\"", "");
    assert_eq!(
        load(&cfg.main()).unwrap().config.numbers[1].closed,
        "reject"
    );
}

#[test]
fn bad_number_flow_settings() {
    #[rustfmt::skip]
    let cases = [
        ("\"3\" = \"callback\"", "\"3\" = \"fax\"", "numbers[0].self_service.3", "\"fax\" is not a self-service; use one of order-status, voicemail, callback"),
        ("\"1\" = \"order-status\"", "\"a\" = \"order-status\"", "numbers[0].self_service.a", "not a key: use one digit 0-9"),
        ("\"1\" = \"order-status\"", "\"12\" = \"order-status\"", "numbers[0].self_service.12", "not a key"),
        ("language_key = \"9\"", "language_key = \"2\"", "numbers[0].language_key", "key \"2\" is also the key of self-service \"voicemail\""),
        ("language_key = \"9\"", "language_key = \"#\"", "numbers[0].language_key", "not a key"),
        ("queue_callback_key = \"3\"", "queue_callback_key = \"33\"", "numbers[0].queue_callback_key", "not a key"),
        ("closed = \"voicemail\"", "closed = \"busy\"", "numbers[1].closed", "must be \"reject\" or \"voicemail\""),
        ("survey = true", "survey = true\ngreeting = \"my greeting\"", "numbers[0].greeting", "not a prompt name"),
    ];
    edits_give_one("hotline.toml", &cases);
}

#[test]
fn duplicate_self_service_key_is_a_toml_error() {
    let cfg = Cfg::edited(
        "hotline.toml",
        "\"2\" = \"voicemail\"",
        "\"1\" = \"voicemail\"",
    );
    let problems = cfg.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].file, cfg.shown("hotline.toml"));
    assert!(problems[0].key.starts_with("line "), "{}", problems[0]);
    assert!(
        problems[0].message.contains("duplicate key"),
        "{}",
        problems[0]
    );
}

#[test]
fn bad_callers() {
    #[rustfmt::skip]
    let cases = [
        ("priority = 5 }", "priority = 10 }", "callers.priority[0].priority", "between 1 and 9"),
        ("priority = 5 }", "priority = 0 }", "callers.priority[0].priority", "between 1 and 9"),
        ("\"13800000001\"", "\"138-0000\"", "callers.priority[0].number", "must be digits"),
        ("\"13800000001\"", "\"13900000666\"", "callers.priority[0].number", "also blacklisted"),
        ("\"13900000666\"", "\"\"", "callers.blacklist[0].number", "must be digits"),
        ("reason = \"demo entry: repeated abusive calls\"", "reason = \" \"", "callers.blacklist[0].reason", "must say why"),
        ("[callers]", "[callers]\nwhitelist = []", "callers", "unknown field `whitelist`"),
    ];
    edits_give_one("hotline.toml", &cases);
}

#[test]
fn duplicate_blacklist_and_priority_numbers() {
    let entry = "  { number = \"13900000666\", reason = \"demo entry: repeated abusive calls\" },";
    edit_gives_one(
        "hotline.toml",
        entry,
        &format!("{entry}\n  {{ number = \"13900000666\", reason = \"again\" }},"),
        "callers.blacklist[1].number",
        "\"13900000666\" is listed twice",
    );
    let entry = "  { number = \"13800000001\", priority = 5 },";
    edit_gives_one(
        "hotline.toml",
        entry,
        &format!("{entry}\n  {{ number = \"13800000001\", priority = 2 }},"),
        "callers.priority[1].number",
        "listed twice",
    );
}

#[test]
fn check_config_names_an_unknown_greeting_prompt() {
    let cfg = Cfg::edited(
        "hotline.toml",
        "survey = true",
        "survey = true\ngreeting = \"greeting-99999\"",
    );
    assert!(
        load(&cfg.main()).is_ok(),
        "the loader does not read the manifest"
    );
    let out = cfg.check_config();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: numbers[0].greeting: prompt \"greeting-99999\" is not in",
            cfg.main().display()
        )),
        "{stderr}"
    );
}

/// A number with a language key plays every prompt in the other language too.
#[test]
fn check_config_needs_the_offered_language() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-prompts");
    let partial = tempfile::tempdir().unwrap();
    std::fs::copy(
        shipped.join("manifest.toml"),
        partial.path().join("manifest.toml"),
    )
    .unwrap();
    for lang in ["zh", "en"] {
        std::fs::create_dir(partial.path().join(lang)).unwrap();
        for name in std::fs::read_dir(shipped.join(lang)).unwrap() {
            let name = name.unwrap().file_name();
            if lang == "zh" || name != "survey.wav" {
                std::fs::copy(
                    shipped.join(lang).join(&name),
                    partial.path().join(lang).join(&name),
                )
                .unwrap();
            }
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
        stderr.contains("1 prompt(s)")
            && stderr.contains("/en/ (a number's language_key offers it): survey"),
        "{stderr}"
    );
    // Without the offer, English is not needed.
    cfg.replace("hotline.toml", "language_key = \"9\"", "");
    let out = cfg.check_config();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
