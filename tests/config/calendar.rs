//! Problems in the working calendar and the deadline rules (`calendar.toml`), calendar
//! settings that are accepted, and the callback settings (`[callbacks]` in `hotline.toml`).

use hotline::config::load;

use crate::support::{edit_gives_one, edits_give_one, Cfg};

// ----- the calendar -----------------------------------------------------------------------------

#[test]
fn bad_utc_offset() {
    for bad in ["+8", "08:00", "+15:00", "+08:60", "UTC+8"] {
        edit_gives_one(
            "calendar.toml",
            "utc_offset = \"+08:00\"",
            &format!("utc_offset = \"{bad}\""),
            "calendar.utc_offset",
            "+08:00",
        );
    }
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
fn bad_workday() {
    edit_gives_one(
        "calendar.toml",
        "\"wed\"",
        "\"funday\"",
        "calendar.workdays[2]",
        "\"funday\" is not a weekday",
    );
}

#[test]
fn bad_working_period() {
    #[rustfmt::skip]
    let cases = [
        ("\"13:30-17:30\"", "\"17:30-09:00\"", "calendar.working_hours[1]", "ends before it starts"),
        ("\"13:30-17:30\"", "\"13:30 to 17:30\"", "calendar.working_hours[1]", "not a period"),
        // Overlapping periods.
        ("\"13:30-17:30\"", "\"11:30-17:30\"", "calendar", "overlap"),
    ];
    edits_give_one("calendar.toml", &cases);
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

#[test]
fn holiday_also_a_make_up_day() {
    edit_gives_one(
        "calendar.toml",
        "2026-10-07,",
        "2026-10-07, 2026-10-10,",
        "calendar",
        "2026-10-10 is listed both as a holiday and as a make-up working day",
    );
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

// ----- deadline rules ---------------------------------------------------------------------------

#[test]
fn deadline_rule_of_zero() {
    #[rustfmt::skip]
    let cases = [
        ("consultation = { working_days = 3 }", "consultation = { working_days = 0 }", "deadlines.by_type.consultation", "between 1 and 3650"),
        ("E0101 = { working_hours = 8 }", "E0101 = { working_hours = 0 }", "deadlines.by_category.E0101", "between 1 and 3650"),
    ];
    edits_give_one("calendar.toml", &cases);
}

#[test]
fn missing_deadline_for_a_request_type() {
    edit_gives_one(
        "calendar.toml",
        "help = { working_days = 7 }\n",
        "",
        "deadlines.by_type.help",
        "missing",
    );
}

#[test]
fn bad_category_id_in_by_category() {
    edit_gives_one(
        "calendar.toml",
        "E0101 = { working_hours = 8 }",
        "X0101 = { working_hours = 8 }",
        "deadlines.by_category.X0101",
        "not a category id",
    );
}

// ----- call-made orders and callbacks -----------------------------------------------------------

#[test]
fn call_made_request_types_default_to_one_working_day() {
    // Left out of deadlines.by_type: no problem, and the policy still has a rule for them.
    let cfg = Cfg::edited(
        "calendar.toml",
        "voicemail = { working_days = 1 }\ncallback = { working_days = 1 }\n",
        "",
    );
    let config = hotline::config::load(&cfg.main()).expect("loads").config;
    assert!(!config.deadlines.by_type.contains_key("voicemail"));
    let policy = hotline::cases::deadline::DeadlinePolicy::from_config(&config).unwrap();
    for t in ["voicemail", "callback"] {
        assert_eq!(
            policy.rule(t, None, None),
            Some(hotline::cases::calendar::DeadlineRule::WorkingDays(1)),
            "{t}"
        );
    }
}

#[test]
fn callbacks_settings() {
    let config = hotline::config::load(&Cfg::new().main())
        .expect("loads")
        .config;
    assert_eq!(
        config.callbacks,
        hotline::config::CallbacksConfig::default()
    );
    assert_eq!(
        config.callbacks.retry_interval(),
        chrono::Duration::minutes(30)
    );
    #[rustfmt::skip]
    let cases = [
        ("max_attempts = 3 ", "max_attempts = 0 ", "callbacks.max_attempts", "between 1 and 20"),
        ("retry_minutes = 30 ", "retry_minutes = 2000 ", "callbacks.retry_minutes", "between 1 and 1440"),
    ];
    edits_give_one("hotline.toml", &cases);
}
