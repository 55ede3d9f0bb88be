//! Tests of the prompt library (WAV conversion), the manifest, number reading, the player and
//! the shipped `ivr-prompts/` set.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use super::numbers::number_words;
use super::*;

// ---- WAV conversion -------------------------------------------------------------------------

/// A WAV format: rate, channels, bits per sample, float.
#[derive(Clone, Copy)]
struct Format(u32, u16, u16, bool);

/// Writes `secs` of a sine of `freq` Hz at `amp` (full scale 1.0) in every channel.
fn write_sine(dir: &Path, name: &str, format: Format, freq: f64, amp: f64, secs: f64) -> PathBuf {
    let Format(rate, channels, bits, float) = format;
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let path = dir.join(name);
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    let frames = (secs * f64::from(rate)).round() as usize;
    for i in 0..frames {
        let v = amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin();
        for _ in 0..channels {
            if float {
                w.write_sample(v as f32).unwrap();
            } else {
                let full = f64::from(1u32 << (bits - 1)) - 1.0;
                w.write_sample((v * full).round() as i32).unwrap();
            }
        }
    }
    w.finalize().unwrap();
    path
}

fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
}

fn rising_zero_crossings(s: &[i16]) -> usize {
    s.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count()
}

#[test]
fn converts_common_formats_to_8k_mono_keeping_a_1k_tone() {
    let dir = tempfile::tempdir().unwrap();
    // (rate, channels, bits, float)
    let cases = [
        (8000, 1, 16, false),
        (16000, 1, 16, false),
        (44100, 1, 16, false),
        (48000, 2, 16, false),
        (48000, 2, 24, false),
        (11025, 1, 8, false),
        (22050, 2, 32, false),
        (32000, 1, 32, true),
        (44100, 2, 32, true),
    ];
    for (rate, channels, bits, float) in cases {
        let case = format!("{rate} Hz, {channels} ch, {bits}-bit, float {float}");
        let path = write_sine(
            dir.path(),
            &format!("{rate}-{channels}-{bits}-{float}.wav"),
            Format(rate, channels, bits, float),
            1000.0,
            0.5,
            1.0,
        );
        let out = library::read_wav(&path).unwrap();
        assert!(
            out.len().abs_diff(8000) <= 1,
            "{case}: length {}",
            out.len()
        );
        // Middle half second, away from the edges of the clip.
        let mid = &out[2000..6000];
        // 500 periods in 0.5 s, give or take the one cut at an edge.
        let periods = rising_zero_crossings(mid);
        assert!(
            periods.abs_diff(500) <= 1,
            "{case}: {periods} periods, not 1 kHz"
        );
        let level_db = 20.0 * (rms(mid) / (0.5 * 32768.0 / 2f64.sqrt())).log10();
        assert!(
            level_db.abs() < 1.0,
            "{case}: level off by {level_db:.2} dB"
        );
    }
}

#[test]
fn tone_above_4k_is_filtered_out_not_folded() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sine(
        dir.path(),
        "6k.wav",
        Format(48000, 1, 16, false),
        6000.0,
        0.5,
        1.0,
    );
    let out = library::read_wav(&path).unwrap();
    assert!(out.len().abs_diff(8000) <= 1);
    let input_rms = 0.5 * 32768.0 / 2f64.sqrt();
    let attenuation = 20.0 * (rms(&out[800..7200]) / input_rms).log10();
    assert!(attenuation < -30.0, "6 kHz only {attenuation:.1} dB down");
}

#[test]
fn unreadable_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("zh")).unwrap();
    let bad = dir.path().join("zh").join("broken.wav");
    std::fs::write(&bad, b"RIFF not really a wav").unwrap();
    let err = PromptLibrary::load(dir.path()).unwrap_err();
    assert!(
        matches!(&err, PromptError::Format { path, .. } if *path == bad),
        "{err:?}"
    );
    assert!(err.to_string().contains("broken.wav"), "{err}");

    let nowhere = dir.path().join("nowhere");
    let err = PromptLibrary::load(&nowhere).unwrap_err();
    assert!(
        matches!(&err, PromptError::Io { path, .. } if *path == nowhere),
        "{err:?}"
    );
}

#[test]
fn load_reads_language_directories_and_ignores_other_files() {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["en", "zh"] {
        std::fs::create_dir(dir.path().join(lang)).unwrap();
        write_sine(
            &dir.path().join(lang),
            "beep.wav",
            Format(16000, 1, 16, false),
            1000.0,
            0.5,
            0.5,
        );
        std::fs::write(dir.path().join(lang).join("notes.txt"), "not a prompt").unwrap();
    }
    std::fs::write(dir.path().join("manifest.toml"), "").unwrap();
    std::fs::create_dir(dir.path().join(".cache")).unwrap();
    let lib = PromptLibrary::load(dir.path()).unwrap();
    assert_eq!(lib.languages(), ["en", "zh"]);
    assert_eq!(lib.names("zh"), ["beep"]);
    assert!(lib.names("fr").is_empty());
    assert_eq!(lib.get("en", "beep").unwrap().len(), 4000);
    assert!(lib.get("en", "notes").is_none());
}

// ---- library and manifest -------------------------------------------------------------------

#[test]
fn insert_get_and_cheap_clones() {
    let mut lib = PromptLibrary::empty();
    assert!(lib.languages().is_empty());
    lib.insert("zh", "beep", vec![1, 2, 3]);
    let before = lib.clone();
    lib.insert("zh", "beep", vec![4]);
    lib.insert("en", "goodbye", vec![5, 6]);
    assert_eq!(&*lib.get("zh", "beep").unwrap(), &[4]);
    assert_eq!(&*before.get("zh", "beep").unwrap(), &[1, 2, 3]);
    assert!(before.get("en", "goodbye").is_none());
    // Shared, not copied.
    let a = lib.get("en", "goodbye").unwrap();
    let b = lib.clone().get("en", "goodbye").unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    fn send_sync<T: Send + Sync>() {}
    send_sync::<PromptLibrary>();
    send_sync::<Player>();
}

const MANIFEST: &str = r#"
[[prompt]]
name = "beep"
kind = "tone"
tone_hz = 1000
text.zh = "（提示音）"
text.en = "(beep)"

[[prompt]]
name = "goodbye"
text.zh = "再见"
text.en = "Goodbye"
note = "last prompt"

[[prompt]]
name = "music-on-hold"
kind = "music"
text = { zh = "音乐", en = "music", fr = "musique" }
"#;

#[test]
fn manifest_parses_and_missing_lists_gaps() {
    let m = Manifest::parse(MANIFEST).unwrap();
    assert_eq!(m.prompts.len(), 3);
    let beep = m.get("beep").unwrap();
    assert_eq!(beep.kind, PromptKind::Tone);
    assert_eq!(beep.text["en"], "(beep)");
    assert_eq!(m.get("goodbye").unwrap().kind, PromptKind::Speech);
    assert_eq!(
        m.get("goodbye").unwrap().note.as_deref(),
        Some("last prompt")
    );

    let mut lib = PromptLibrary::empty();
    lib.insert("zh", "beep", vec![1]);
    lib.insert("en", "beep", vec![1]);
    lib.insert("zh", "goodbye", vec![1]);
    lib.insert("en", "music-on-hold", vec![1]);
    let missing = lib.missing(&m);
    let missing: Vec<(&str, &str)> = missing
        .iter()
        .map(|(l, n)| (l.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        missing,
        [
            ("en", "goodbye"),
            ("fr", "music-on-hold"),
            ("zh", "music-on-hold")
        ]
    );
}

#[test]
fn bad_manifests_are_errors_naming_the_file() {
    for (text, expect) in [
        (
            "[[prompt]]\nname = \"a\"\ntext.zh = \"x\"\n[[prompt]]\nname = \"a\"\ntext.en = \"y\"",
            "twice",
        ),
        ("[[prompt]]\nname = \"a b\"\ntext.zh = \"x\"", "name"),
        ("[[prompt]]\nname = \"a\"\ntext = {}", "no text"),
        (
            "[[prompt]]\nname = \"a\"\nkind = \"noise\"\ntext.zh = \"x\"",
            "noise",
        ),
        ("[[prompt]\n", ""),
    ] {
        let detail = Manifest::parse(text).unwrap_err();
        assert!(detail.contains(expect), "{text:?}: {detail}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.toml");
    std::fs::write(&path, "[[prompt]]\nname = 3").unwrap();
    let err = Manifest::load(&path).unwrap_err();
    assert!(matches!(&err, PromptError::Manifest { path: p, .. } if *p == path));
    assert!(err.to_string().contains("manifest.toml"));
}

// ---- numbers --------------------------------------------------------------------------------

/// Number words as short text: digit-N → N, other names as they are.
fn said(lang: &str, n: u64) -> String {
    number_words(lang, n)
        .iter()
        .map(|w| w.strip_prefix("digit-").unwrap_or(w))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn numbers_in_mandarin() {
    for (n, text) in [
        (0, "0"),
        (7, "7"),
        (10, "ten"),
        (12, "ten 2"),
        (20, "2 ten"),
        (101, "1 hundred 0 1"),
        (110, "1 hundred 1 ten"),
        (123, "1 hundred 2 ten 3"),
        (1005, "1 thousand 0 5"),
        (10005, "1 ten-thousand 0 5"),
        (100012, "ten ten-thousand 0 1 ten 2"),
        (120000, "ten 2 ten-thousand"),
        (
            20001234,
            "2 thousand ten-thousand 1 thousand 2 hundred 3 ten 4",
        ),
        (100001000, "1 hundred-million 0 1 thousand"),
        (120000005, "1 hundred-million 2 thousand ten-thousand 0 5"),
        (1000000000, "ten hundred-million"),
    ] {
        assert_eq!(said("zh", n), text, "{n}");
    }
}

#[test]
fn numbers_in_english() {
    for (n, text) in [
        (0, "0"),
        (7, "7"),
        (12, "twelve"),
        (40, "forty"),
        (123, "1 hundred twenty 3"),
        (1005, "1 thousand 5"),
        (
            1_234_567,
            "1 million 2 hundred thirty 4 thousand 5 hundred sixty 7",
        ),
        (3_000_000_019, "3 billion nineteen"),
    ] {
        assert_eq!(said("en", n), text, "{n}");
    }
    assert_eq!(said("fr", 1203), "1 2 0 3");
    // Every u64 can be said.
    assert!(number_words("zh", u64::MAX).len() > 10);
    assert!(number_words("en", u64::MAX).len() > 10);
}

// ---- player ---------------------------------------------------------------------------------

/// A library whose prompts are constant runs, so the output shows which prompt played.
fn fake_library() -> PromptLibrary {
    let mut lib = PromptLibrary::empty();
    for (name, value, len) in [
        ("queue-position", 1, 1000),
        ("ten", 2, 300),
        ("digit-2", 3, 250),
        ("please-hold", 4, 1234),
        ("star", 5, 10),
        ("hash", 6, 10),
        ("digit-1", 7, 10),
    ] {
        lib.insert("zh", name, vec![value; len]);
    }
    lib.insert("en", "twelve", vec![8; 400]);
    lib.insert("en", "queue-position", vec![9; 100]);
    lib
}

fn play_all(player: &mut Player, frame: usize) -> (Vec<i16>, usize) {
    let mut out = Vec::new();
    let mut buf = vec![0i16; frame];
    let mut frames = 0;
    while player.next_frame(&mut buf) {
        out.extend_from_slice(&buf);
        frames += 1;
        assert!(frames < 10_000, "never finishes");
    }
    assert!(buf.iter().all(|&s| s == 0), "finished frame not zeroed");
    (out, frames)
}

fn queue_playlist() -> Playlist {
    Playlist {
        items: vec![
            Item::Prompt("queue-position".into()),
            Item::Number(12),
            Item::Prompt("please-hold".into()),
        ],
        ..Playlist::default()
    }
}

#[test]
fn plays_a_sequence_with_exact_sample_counts() {
    let lib = fake_library();
    let mut player = Player::new(&lib, "zh", &queue_playlist()).unwrap();
    let total = 1000 + 300 + 250 + 1234;
    assert_eq!(player.total(), Some(total));
    assert_eq!(player.position(), 0);
    assert!(!player.finished());
    let (out, frames) = play_all(&mut player, 160);
    assert_eq!(frames, 18); // ceil(2784 / 160)
    let mut expected = [vec![1; 1000], vec![2; 300], vec![3; 250], vec![4; 1234]].concat();
    expected.resize(18 * 160, 0);
    assert_eq!(out, expected);
    assert_eq!(player.position(), total);
    assert!(player.finished());
    let mut buf = [7i16; 160];
    assert!(!player.next_frame(&mut buf));
    assert_eq!(buf, [0; 160]);
    assert_eq!(player.position(), total);
}

#[test]
fn a_frame_spans_segments() {
    let lib = fake_library();
    let mut player = Player::new(&lib, "zh", &queue_playlist()).unwrap();
    let mut buf = [0i16; 160];
    for _ in 0..6 {
        assert!(player.next_frame(&mut buf));
    }
    assert_eq!(player.position(), 960);
    // Samples 960..1120: 40 of queue-position, then 120 of "ten".
    assert!(player.next_frame(&mut buf));
    assert_eq!(&buf[..40], &[1; 40]);
    assert_eq!(&buf[40..], &[2; 120]);
    // Odd frame sizes work too and cover the same stream.
    let mut player = Player::new(&lib, "zh", &queue_playlist()).unwrap();
    let (odd, _) = play_all(&mut player, 333);
    let mut player = Player::new(&lib, "zh", &queue_playlist()).unwrap();
    let (even, _) = play_all(&mut player, 160);
    assert_eq!(odd[..2784], even[..2784]);
}

#[test]
fn finishes_exactly_on_a_frame_boundary() {
    let mut lib = PromptLibrary::empty();
    lib.insert("zh", "p", vec![5; 320]);
    let playlist = Playlist {
        items: vec![Item::Prompt("p".into())],
        ..Playlist::default()
    };
    let mut player = Player::new(&lib, "zh", &playlist).unwrap();
    let mut buf = [0i16; 160];
    assert!(player.next_frame(&mut buf));
    assert!(!player.finished());
    assert!(player.next_frame(&mut buf));
    assert_eq!(buf, [5; 160]);
    assert!(player.finished());
    assert!(!player.next_frame(&mut buf));
}

#[test]
fn numbers_follow_the_language() {
    let lib = fake_library();
    let playlist = Playlist {
        items: vec![Item::Prompt("queue-position".into()), Item::Number(12)],
        ..Playlist::default()
    };
    let mut player = Player::new(&lib, "en", &playlist).unwrap();
    assert_eq!(player.total(), Some(500));
    let (out, _) = play_all(&mut player, 160);
    assert_eq!(&out[..500], [vec![9; 100], vec![8; 400]].concat());
}

#[test]
fn digits_and_silence() {
    let lib = fake_library();
    let playlist = Playlist {
        items: vec![
            Item::Digits("1*#".into()),
            Item::Silence(20),
            Item::Digits(String::new()),
            Item::Silence(0),
            Item::Digits("2".into()),
        ],
        ..Playlist::default()
    };
    let mut player = Player::new(&lib, "zh", &playlist).unwrap();
    assert_eq!(player.total(), Some(30 + 160 + 250));
    let (out, _) = play_all(&mut player, 160);
    let expected = [
        vec![7; 10],
        vec![5; 10],
        vec![6; 10],
        vec![0; 160],
        vec![3; 250],
    ]
    .concat();
    assert_eq!(&out[..440], &expected[..]);

    let bad = Playlist {
        items: vec![Item::Digits("12x".into())],
        ..Playlist::default()
    };
    let err = Player::new(&lib, "zh", &bad).unwrap_err();
    assert!(matches!(err, PromptError::InvalidItem { .. }), "{err:?}");
    assert!(err.to_string().contains("'x'"), "{err}");
}

#[test]
fn missing_prompt_names_language_and_prompt() {
    let lib = fake_library();
    // "please-hold" exists in zh only: no fallback for en.
    let err = Player::new(&lib, "en", &queue_playlist()).unwrap_err();
    match &err {
        PromptError::Missing { lang, name } => {
            assert_eq!((lang.as_str(), name.as_str()), ("en", "please-hold"))
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("'en'") && text.contains("'please-hold'"),
        "{text}"
    );
    // A number word missing is named too.
    let playlist = Playlist {
        items: vec![Item::Number(13)],
        ..Playlist::default()
    };
    let err = Player::new(&lib, "en", &playlist).unwrap_err();
    assert!(matches!(err, PromptError::Missing { ref name, .. } if name == "thirteen"));
}

#[test]
fn looping_wraps_without_gap_or_click() {
    // 400 samples = 10 periods of a 200 Hz sine: a perfect loop.
    let period = 40.0;
    let sine: Vec<i16> = (0..400)
        .map(|i| (8000.0 * (2.0 * PI * f64::from(i) / period).sin()).round() as i16)
        .collect();
    let mut lib = PromptLibrary::empty();
    lib.insert("zh", "music-on-hold", sine.clone());
    let playlist = Playlist {
        items: vec![Item::Prompt("music-on-hold".into())],
        looped: true,
        barge_in: false,
    };
    let mut player = Player::new(&lib, "zh", &playlist).unwrap();
    assert_eq!(player.total(), None);
    let mut out = Vec::new();
    let mut buf = [0i16; 160];
    for _ in 0..50 {
        assert!(player.next_frame(&mut buf));
        out.extend_from_slice(&buf);
    }
    assert!(!player.finished());
    assert_eq!(player.position(), 8000);
    for (i, &s) in out.iter().enumerate() {
        assert_eq!(s, sine[i % 400], "sample {i}");
    }
    // No step bigger than the sine's own steepest one, wrap included.
    let max_step = sine.windows(2).map(|w| (w[1] - w[0]).abs()).max().unwrap();
    assert!(out.windows(2).all(|w| (w[1] - w[0]).abs() <= max_step));
}

#[test]
fn looping_a_sequence_shorter_than_a_frame() {
    let mut lib = PromptLibrary::empty();
    lib.insert("zh", "a", vec![1, 2, 3]);
    lib.insert("zh", "b", vec![4, 5]);
    let playlist = Playlist {
        items: vec![
            Item::Prompt("a".into()),
            Item::Silence(0),
            Item::Prompt("b".into()),
        ],
        looped: true,
        barge_in: true,
    };
    let mut player = Player::new(&lib, "zh", &playlist).unwrap();
    assert!(player.barge_in());
    let mut buf = [0i16; 12];
    assert!(player.next_frame(&mut buf));
    assert_eq!(buf, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]);
    assert!(player.next_frame(&mut buf));
    assert_eq!(buf[..3], [3, 4, 5]);
}

#[test]
fn barge_in_flag_and_empty_playlists() {
    let lib = fake_library();
    let mut playlist = queue_playlist();
    assert!(!Player::new(&lib, "zh", &playlist).unwrap().barge_in());
    playlist.barge_in = true;
    assert!(Player::new(&lib, "zh", &playlist).unwrap().barge_in());

    for looped in [false, true] {
        let empty = Playlist {
            items: vec![Item::Silence(0)],
            looped,
            barge_in: false,
        };
        let mut player = Player::new(&lib, "zh", &empty).unwrap();
        assert!(player.finished());
        let mut buf = [1i16; 160];
        assert!(!player.next_frame(&mut buf));
        assert_eq!(buf, [0; 160]);
    }
}

// ---- the shipped ivr-prompts/ ---------------------------------------------------------------

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-prompts")
}

#[test]
fn shipped_prompts_cover_the_manifest_in_both_languages() {
    let dir = shipped_dir();
    let manifest = Manifest::load(&dir.join("manifest.toml")).unwrap();
    let lib = PromptLibrary::load(&dir).unwrap();
    assert_eq!(lib.languages(), ["en", "zh"]);
    assert_eq!(lib.missing(&manifest), Vec::<(String, String)>::new());
    for entry in &manifest.prompts {
        assert!(
            entry.text.contains_key("zh") && entry.text.contains_key("en"),
            "{} lacks zh or en text",
            entry.name
        );
    }
    for lang in ["zh", "en"] {
        // No stray files beyond the manifest.
        for name in lib.names(lang) {
            assert!(
                manifest.get(&name).is_some(),
                "{lang}/{name}.wav not in manifest"
            );
        }
        for entry in &manifest.prompts {
            let samples = lib.get(lang, &entry.name).unwrap();
            let what = format!("{lang}/{}.wav", entry.name);
            let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
            assert!(peak > 2000, "{what} is silent (peak {peak})");
            let secs = samples.len() as f64 / f64::from(SAMPLE_RATE);
            let limit = if entry.kind == PromptKind::Music {
                60.0
            } else {
                30.0
            };
            assert!(secs > 0.1 && secs <= limit, "{what}: {secs:.2} s");
        }
    }
}

#[test]
fn shipped_prompts_play_every_call_flow_item() {
    let dir = shipped_dir();
    let lib = PromptLibrary::load(&dir).unwrap();
    for lang in ["zh", "en"] {
        let playlist = Playlist {
            items: vec![
                Item::Prompt("queue-position".into()),
                Item::Number(12),
                Item::Prompt("callers-ahead".into()),
                Item::Prompt("you-pressed".into()),
                Item::Digits("0123456789*#".into()),
                Item::Number(1_234_567_890_123),
                Item::Number(19),
                Item::Number(90),
            ],
            ..Playlist::default()
        };
        let player = Player::new(&lib, lang, &playlist).unwrap();
        assert!(player.total().unwrap() > 8000);
    }
    // The beep is 0.5 s of 1 kHz; music on hold joins its end to its start without a click.
    let beep = lib.get("zh", "beep").unwrap();
    assert!(
        beep.len().abs_diff(4000) <= 80,
        "beep {} samples",
        beep.len()
    );
    assert!(rising_zero_crossings(&beep).abs_diff(500) <= 1);
    let moh = lib.get("en", "music-on-hold").unwrap();
    let (first, last) = (moh[0], moh[moh.len() - 1]);
    assert!(first.abs() < 200 && last.abs() < 200 && (first - last).abs() < 200);
}
