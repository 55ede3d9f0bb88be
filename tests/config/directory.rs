//! Problems in the directory of people and places: agents (`queues.toml`), users and their
//! tokens and roles (`users.toml`), departments and grid cells (`city.toml`), and values that
//! must be unique across them.

use hotline::config::load;

use crate::support::{edit_gives_one, edits_give_one, Cfg};

// ----- duplicates -------------------------------------------------------------------------------

#[test]
fn duplicate_agent_id() {
    edit_gives_one(
        "queues.toml",
        "id = \"1002\"",
        "id = \"1001\"",
        "agents[1].id",
        "\"1001\" is used twice",
    );
}

#[test]
fn duplicate_department_id_grid_code_number_and_user_name() {
    #[rustfmt::skip]
    let cases = [
        ("city.toml", "id = \"housing\"", "id = \"market\"", "departments[4].id", "\"market\" is used twice"),
        ("city.toml", "\"510402002003001\"", "\"510402001001001\"", "grid_cells[2].code", "is used twice"),
        ("hotline.toml", "number = \"12319\"", "number = \"12345\"", "numbers[1].number", "is used twice"),
        ("users.toml", "name = \"supervisor\"", "name = \"admin\"", "users[1].name", "is used twice"),
        ("users.toml", "\"demo-supervisor\"", "\"demo-admin\"", "users[1].token", "used by another user"),
    ];
    for (file, from, to, key, needle) in cases {
        edit_gives_one(file, from, to, key, needle);
    }
}

#[test]
fn same_token_in_clear_and_hashed_is_used_twice() {
    let hash = hotline::api::auth::token_hash("demo-admin").to_ascii_uppercase();
    edit_gives_one(
        "users.toml",
        "token = \"demo-supervisor\"",
        &format!("token_sha256 = \"{hash}\""),
        "users[1].token_sha256",
        "used by another user",
    );
}

// ----- users and their tokens -------------------------------------------------------------------

#[test]
fn user_with_both_token_forms() {
    let hash = "a".repeat(64);
    edit_gives_one(
        "users.toml",
        "token = \"demo-admin\"",
        &format!("token = \"demo-admin\"\ntoken_sha256 = \"{hash}\""),
        "users[0].token",
        "exactly one of token and token_sha256",
    );
}

#[test]
fn user_with_neither_token_form() {
    edit_gives_one(
        "users.toml",
        "token = \"demo-supervisor\"\n",
        "",
        "users[1].token",
        "exactly one of token and token_sha256",
    );
}

#[test]
fn token_forms_are_checked() {
    #[rustfmt::skip]
    let cases = [
        ("token = \"demo-admin\"", "token = \"short\"", "users[0].token", "at least 8 characters"),
        ("token = \"demo-admin\"", "token_sha256 = \"not-hex\"", "users[0].token_sha256", "64 hex digits"),
    ];
    edits_give_one("users.toml", &cases);

    // A hash is accepted in place of the clear token.
    let hash = "0123456789abcdef".repeat(4);
    let cfg = Cfg::edited(
        "users.toml",
        "token = \"demo-admin\"",
        &format!("token_sha256 = \"{hash}\""),
    );
    assert!(load(&cfg.main()).is_ok());
}

// ----- users and what their roles name ----------------------------------------------------------

#[test]
fn unknown_channel_of_a_user() {
    #[rustfmt::skip]
    let cases = [
        ("channel = \"field-inspector\"", "channel = \"pigeon\"", "users[3].channel", "\"pigeon\" is not a channel"),
        ("channel = \"field-inspector\"\n", "", "users[3].channel", "names its channel"),
    ];
    edits_give_one("users.toml", &cases);
}

#[test]
fn agent_role_without_agent() {
    #[rustfmt::skip]
    let cases = [
        ("agent = \"1001\"\n", "", "users[2].agent", "names its agent id"),
        ("agent = \"1001\"", "agent = \"9999\"", "users[2].agent", "\"9999\" is not a configured agent"),
    ];
    edits_give_one("users.toml", &cases);
}

#[test]
fn department_role_with_unknown_department() {
    #[rustfmt::skip]
    let cases = [
        ("department = \"roads\"", "department = \"police\"", "users[5].department", "\"police\" is not a configured department"),
        ("department = \"roads\"\n", "", "users[5].department", "names its department"),
    ];
    edits_give_one("users.toml", &cases);
}

#[test]
fn supervisor_softphone_is_checked() {
    let md5 = "0123456789abcdef".repeat(2);
    let sha = "0123456789abcdef".repeat(4);
    #[rustfmt::skip]
    let cases = [
        ("extension = \"8001\"", "extension = \"1001\"", "users[1].extension", "is an agent's softphone"),
        ("extension = \"8001\"", "extension = \"80 01\"", "users[1].extension", "must be a SIP user name"),
        ("extension = \"8001\"\n", "", "users[1].extension", "without the extension"),
        ("sip_password = \"demo-8001\"", "sip_password = \"short\"", "users[1].sip_password", "at least 8 characters"),
        ("sip_password = \"demo-8001\"\n", "", "users[1].sip_password", "give either sip_password or both"),
        ("sip_password = \"demo-8001\"", "sip_ha1_md5 = \"abc\"\nsip_ha1_sha256 = \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"", "users[1].sip_ha1_md5", "32 hex digits"),
        ("role = \"supervisor\"", "role = \"channel\"\nchannel = \"web\"", "users[1].extension", "only supervisors and admins"),
        ("token = \"demo-admin\"", "token = \"demo-admin\"\nextension = \"8001\"\nsip_password = \"another-one\"", "users[1].extension", "extension of another user"),
    ];
    edits_give_one("users.toml", &cases);

    // The demo's supervisor registers as 8001; HA1s may stand for the password.
    let cfg = load(&Cfg::new().main()).expect("demo").config;
    let phones = cfg.user_softphones();
    let ha1 = hotline::sip::auth::Ha1::from_password("8001", &cfg.sip.realm, "demo-8001");
    assert_eq!(phones.get("8001"), Some(&ha1));
    assert_eq!(
        phones.len(),
        1,
        "agents are not among the users' softphones"
    );
    let cfg = Cfg::edited(
        "users.toml",
        "sip_password = \"demo-8001\"",
        &format!("sip_ha1_md5 = \"{md5}\"\nsip_ha1_sha256 = \"{sha}\""),
    );
    let phones = load(&cfg.main())
        .expect("HA1s accepted")
        .config
        .user_softphones();
    assert_eq!(phones["8001"].md5.as_deref(), Some(md5.as_str()));
}

// ----- agents and departments -------------------------------------------------------------------

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

    #[rustfmt::skip]
    let cases = [
        ("id = \"2002\"", "id = \"20 2\"", "agents[4].id", "must be the softphone user name"),
        ("id = \"2002\"", "id = \"agent@2\"", "agents[4].id", "must be the softphone user name"),
        ("password = \"demo-2001\"", "password = \"pw\"", "agents[3].password", "at least 8 characters"),
        ("password = \"demo-2001\"", "ha1_md5 = \"00\"", "agents[3].password", "either password or both"),
        ("password = \"demo-2001\"", "ha1_md5 = \"0123456789abcdef0123456789abcdef\"\nha1_sha256 = \"x\"", "agents[3].ha1_sha256", "64 hex digits"),
    ];
    edits_give_one("queues.toml", &cases);
}

#[test]
fn department_with_empty_id_or_name() {
    edit_gives_one(
        "city.toml",
        "name = \"市场监督管理局\"",
        "name = \"  \"",
        "departments[3]",
        "must not be empty",
    );
}
