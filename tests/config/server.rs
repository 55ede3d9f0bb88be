//! Problems in the server, trunk, number and queue sections (`hotline.toml`, `queues.toml`).

use hotline::config::load;

use crate::support::{edit_gives_one, edits_give_one, Cfg};

// ----- server and trunks ------------------------------------------------------------------------

#[test]
fn bad_rtp_range() {
    for bad in ["30000-20000", "80-1000", "20000", "20000-7000x"] {
        edit_gives_one(
            "hotline.toml",
            "rtp_ports = \"20000-29999\"",
            &format!("rtp_ports = \"{bad}\""),
            "server.rtp_ports",
            "",
        );
    }
}

#[test]
fn bad_database_url_scheme() {
    edit_gives_one(
        "hotline.toml",
        "data_dir = \"./data\"",
        "data_dir = \"./data\"\ndatabase_url = \"mysql://hotline@127.0.0.1/hotline\"",
        "server.database_url",
        "must start with postgres://",
    );
    // The accepted schemes.
    for url in [
        "postgres://h@127.0.0.1/h",
        "postgresql://h@127.0.0.1/h",
        "sqlite://data/h.db",
    ] {
        let cfg = Cfg::edited(
            "hotline.toml",
            "data_dir = \"./data\"",
            &format!("data_dir = \"./data\"\ndatabase_url = \"{url}\""),
        );
        assert!(load(&cfg.main()).is_ok(), "{url}");
    }
}

#[test]
fn bad_redis_url_scheme() {
    edit_gives_one(
        "hotline.toml",
        "data_dir = \"./data\"",
        "data_dir = \"./data\"\nredis_url = \"http://127.0.0.1:6379\"",
        "server.redis_url",
        "redis://",
    );
}

#[test]
fn bad_trunk_address() {
    #[rustfmt::skip]
    let cases = [
        ("\"::1\"", "\"10.0.0.0/33\"", "trunks[0].addresses[1]", "not an IP address"),
        ("[\"127.0.0.1\", \"::1\"]", "[]", "trunks[0].addresses", "no address"),
    ];
    edits_give_one("hotline.toml", &cases);
}

// ----- numbers ----------------------------------------------------------------------------------

#[test]
fn number_not_digits() {
    edit_gives_one(
        "hotline.toml",
        "number = \"12319\"",
        "number = \"12319a\"",
        "numbers[1].number",
        "digits only",
    );
}

#[test]
fn number_hours() {
    let cfg = Cfg::new();
    cfg.replace_nth("hotline.toml", "hours = \"24x7\"", 0, "hours = \"always\"");
    cfg.assert_one("hotline.toml", "numbers[0].hours", "\"always\"");
}

#[test]
fn unknown_channel_of_a_number() {
    edit_gives_one(
        "hotline.toml",
        "channel = \"phone-12345\"",
        "channel = \"phone-999\"",
        "numbers[0].channel",
        "\"phone-999\" is not a channel",
    );
}

#[test]
fn number_leading_to_unknown_queue() {
    edit_gives_one(
        "hotline.toml",
        "queue = \"12319\"",
        "queue = \"12320\"",
        "numbers[1].queue",
        "\"12320\" is not a configured queue",
    );
}

// ----- queues -----------------------------------------------------------------------------------

#[test]
fn duplicate_queue_name() {
    let cfg = Cfg::edited("queues.toml", "name = \"12319\"", "name = \"12345\"");
    let problems = cfg.problems();
    // The queue 12319 is gone, so its number and agents point nowhere; the duplicate is first.
    assert_eq!(problems[0].key, "queues[1].name", "{problems:#?}");
    assert_eq!(problems[0].file, cfg.shown("queues.toml"));
    assert!(problems.iter().any(|p| p.key == "numbers[1].queue"));
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

// ----- [sip] and trunk options ----------------------------------------------------------------

#[test]
fn bad_sip_settings() {
    #[rustfmt::skip]
    let cases = [
        ("realm = \"hotline\"", "realm = \"\"", "sip.realm", "non-empty"),
        ("max_pending = 1024", "max_pending = 0", "sip.max_pending", "at least 1"),
        ("min_se_secs = 90", "min_se_secs = 60", "sip.min_se_secs", "RFC 4028"),
        ("register_min_expires = 60", "register_min_expires = 7200", "sip.register_min_expires", "not above"),
        ("max_message_bytes = 65535", "max_message_bytes = 100", "sip.max_message_bytes", "between"),
        ("digest_algorithms = [\"SHA-256\", \"MD5\"]", "digest_algorithms = [\"SHA-1\"]", "sip.digest_algorithms", "must be"),
        ("digest_algorithms = [\"SHA-256\", \"MD5\"]", "digest_algorithms = []", "sip.digest_algorithms", "at least one"),
        ("digest_algorithms = [\"SHA-256\", \"MD5\"]", "digest_algorithms = [\"MD5\", \"MD5\"]", "sip.digest_algorithms", "twice"),
    ];
    edits_give_one("hotline.toml", &cases);
    edit_gives_one(
        "hotline.toml",
        "max_calls = 2000",
        "max_cals = 2000",
        "sip",
        "unknown field `max_cals`",
    );
}

#[test]
fn bad_trunk_options() {
    #[rustfmt::skip]
    let cases = [
        ("# outbound_proxy = \"192.0.2.10:5060\"", "outbound_proxy = \"192.0.2.10\"", "trunks[0].outbound_proxy", "host:port"),
        ("# options_ping_secs = 30", "options_ping_secs = 30", "trunks[0].options_ping_secs", "needs outbound_proxy"),
    ];
    edits_give_one("hotline.toml", &cases);
    let register = "[trunks.register]\nregistrar = \"carrier.example:5060\"\nusername = \"\"\npassword = \"x\"\nexpires_secs = 10\n\n[[numbers]]";
    let cfg = Cfg::edited(
        "hotline.toml",
        "[[numbers]]\nnumber = \"12345\"",
        &register.replace("[[numbers]]", "[[numbers]]\nnumber = \"12345\""),
    );
    let keys: Vec<String> = cfg.problems().into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "trunks[0].register.username",
            "trunks[0].register.expires_secs"
        ]
    );
}

// ----- media and forwarding ---------------------------------------------------------------------

#[test]
fn bad_media_settings() {
    #[rustfmt::skip]
    let cases = [
        ("public_ip = \"\"", "public_ip = \"media.example\"", "media.public_ip", "not an IP address"),
        ("language = \"zh\"", "language = \"fr\"", "media.language", "\"zh\" or \"en\""),
        ("rtp_timeout_secs = 60", "rtp_timeout_secs = 1", "media.rtp_timeout_secs", "at least 5"),
        ("jitter_delay_frames = 2", "jitter_delay_frames = 0", "media.jitter_delay_frames", "between 1 and 10"),
        ("shards = 0", "shards = 65", "media.shards", "at most 64"),
    ];
    for (from, to, key, msg) in cases {
        edit_gives_one("hotline.toml", from, to, key, msg);
    }
}

#[test]
fn forward_needs_a_trunk_with_a_proxy_and_a_number() {
    let forward =
        |fwd: &str| format!("max_call_secs = 14400\nforward = {fwd}\nanswer_after_ms = 0");
    edit_gives_one(
        "hotline.toml",
        "max_call_secs = 14400\nanswer_after_ms = 0",
        &forward("{ trunk = \"nope\", number = \"9000\" }"),
        "numbers[0].forward.trunk",
        "not a configured trunk",
    );
    edit_gives_one(
        "hotline.toml",
        "max_call_secs = 14400\nanswer_after_ms = 0",
        &forward("{ trunk = \"carrier\", number = \"9000\" }"),
        "numbers[0].forward.trunk",
        "no outbound_proxy",
    );
    // With a proxy on the trunk, the same forward is fine.
    let cfg = Cfg::edited(
        "hotline.toml",
        "# outbound_proxy = \"192.0.2.10:5060\"",
        "outbound_proxy = \"127.0.0.1:5090\"",
    );
    cfg.replace(
        "hotline.toml",
        "max_call_secs = 14400\nanswer_after_ms = 0",
        &forward("{ trunk = \"carrier\", number = \"9000\" }"),
    );
    let loaded = load(&cfg.main()).expect("loads");
    let fwd = loaded.config.numbers[0].forward.clone().expect("forward");
    assert_eq!(
        (fwd.trunk.as_str(), fwd.number.as_str()),
        ("carrier", "9000")
    );
    let cfg = Cfg::edited(
        "hotline.toml",
        "# outbound_proxy = \"192.0.2.10:5060\"",
        "outbound_proxy = \"127.0.0.1:5090\"",
    );
    cfg.replace(
        "hotline.toml",
        "max_call_secs = 14400\nanswer_after_ms = 0",
        &forward("{ trunk = \"carrier\", number = \"12a\" }"),
    );
    cfg.assert_one("hotline.toml", "numbers[0].forward.number", "digits only");
}

// ----- queue routing settings (ACD) -------------------------------------------------------------

#[test]
fn bad_queue_routing_settings() {
    edits_give_one(
        "queues.toml",
        &[(
            "overflow = \"voicemail\"    # after",
            "overflow = \"hangup\"    # after",
            "queues[0].overflow",
            "\"voicemail\" or \"callback\"",
        )],
    );
    edit_gives_one(
        "queues.toml",
        "required_skills = []      # skills",
        "required_skills = [\"english\"]      # skills",
        "queues[0].required_skills",
        "no agent has the skill \"english\"",
    );
    edit_gives_one(
        "queues.toml",
        "default_handle_secs = 180 #",
        "default_handle_secs = 0 #",
        "queues[0].default_handle_secs",
        "more than 0",
    );
}

#[test]
fn agent_levels_name_their_own_queues() {
    edit_gives_one(
        "queues.toml",
        "# levels = { \"12345\" = 1 }",
        "levels = { \"12319\" = 2 }",
        "agents[0].levels.12319",
        "not one of this agent's queues",
    );
    edit_gives_one(
        "queues.toml",
        "# levels = { \"12345\" = 1 }",
        "levels = { \"12345\" = 0 }",
        "agents[0].levels.12345",
        "between 1",
    );
    // Skills and levels as the ACD sees them.
    let cfg = Cfg::edited(
        "queues.toml",
        "# skills = [\"english\"]",
        "skills = [\"english\"]",
    );
    cfg.replace(
        "queues.toml",
        "# levels = { \"12345\" = 1 }",
        "levels = { \"12345\" = 2 }",
    );
    cfg.replace(
        "queues.toml",
        "required_skills = []      # skills",
        "required_skills = [\"english\"]      # skills",
    );
    let loaded = load(&cfg.main()).expect("loads");
    let acd = hotline::acd::AcdConfig::from_config(&loaded.config);
    let q = &acd.queues[0];
    assert_eq!(q.required_skills, ["english"]);
    assert_eq!(
        (q.announce_secs, q.no_answer_limit, q.default_handle_secs),
        (30, 3, 180)
    );
    let a = acd.agents.iter().find(|a| a.id == "1001").unwrap();
    assert_eq!(a.skills, ["english"]);
    assert_eq!(a.queues["12345"], 2);
}
